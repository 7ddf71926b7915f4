"""Distances, and which country a point lies in, for border-crossing explanations."""

from __future__ import annotations

from geopy.distance import geodesic

from shared.geo.gazetteer import Gazetteer, load_gazetteer

__all__ = ["COUNTRY_MAX_KM", "country_of", "geodesic_km"]

# Beyond this distance from any known place or postcode, a point is outside the
# gazetteer's coverage and its country is not guessed.
COUNTRY_MAX_KM = 15.0


def geodesic_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic (WGS-84) distance in kilometres between two (lat, lon) points."""
    return float(geodesic(a, b).kilometers)


def country_of(lat: float, lon: float, *, gazetteer: Gazetteer | None = None) -> str | None:
    """ISO country code of the point, from the nearest place or postcode of the gazetteer.

    An approximation good away from the border and usually right near it (postcodes make
    the net dense); ``None`` outside the Greater Region's coverage.
    """
    nearest = (gazetteer or load_gazetteer()).nearest_country(lat, lon)
    if nearest is None or nearest[0] > COUNTRY_MAX_KM:
        return None
    return nearest[1]
