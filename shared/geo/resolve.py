"""Turn what a user typed into one place, a choice to offer, or nothing.

:func:`resolve_place` works with any geopy geocoder: it calls
``geocode(text, exactly_one=False)`` and judges the ranked candidates. With the offline
:class:`shared.geo.gazetteer.GazetteerGeocoder` it uses the match tier and population the
gazetteer reports in ``Location.raw``; with another geocoder (Nominatim...) it reads what
it can (``raw["address"]["country_code"]``, ``raw["extratags"]["population"]``) and, when
it cannot weigh candidates, prefers to call several of them ambiguous.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from geopy.geocoders.base import Geocoder
from geopy.location import Location

from shared.geo.distance import geodesic_km

__all__ = ["DOMINANCE_RATIO", "PlaceResult", "ResolvedPlace", "resolve_place"]

Status = Literal["found", "ambiguous", "unknown"]

# The most populous of several equally good candidates wins outright when it has more
# than this many times the inhabitants of the next one (Luxembourg city vs a hamlet).
DOMINANCE_RATIO = 20
# Equally good candidates this close together, in one country, are one place (a town
# and its commune, a postcode and its town).
SAME_PLACE_KM = 5.0

# Match tiers reported by GazetteerGeocoder in raw["match"]; lower is better. Results
# of other geocoders carry no tier: they all count as equally good.
_TIERS = {"name": 0, "postcode": 0, "alternate": 1, "postal_place": 2}


@dataclass(frozen=True, slots=True)
class ResolvedPlace:
    """A candidate place: its name, ISO country code (when known) and coordinates."""

    name: str
    country: str | None
    lat: float
    lon: float
    region: str | None = None
    population: int | None = None
    address: str = ""

    @property
    def point(self) -> tuple[float, float]:
        return (self.lat, self.lon)


@dataclass(frozen=True, slots=True)
class PlaceResult:
    """Outcome of :func:`resolve_place`.

    * ``found``: ``location`` is the place; ``candidates`` lists every match, best first.
    * ``ambiguous``: ``location`` is ``None``; ``candidates`` are the equally good
      places to choose from, best first (e.g. Neufchâteau in the Vosges and in Belgium).
    * ``unknown``: no match; ``location`` is ``None`` and ``candidates`` empty.
    """

    status: Status
    location: ResolvedPlace | None = None
    candidates: list[ResolvedPlace] = field(default_factory=list)
    query: str = ""


def resolve_place(geocoder: Geocoder, text: str) -> PlaceResult:
    """Resolve ``text`` with ``geocoder``; see :class:`PlaceResult` for the outcomes.

    A country or region qualifier in the text ("Bertrange, LU") is the geocoder's to
    apply: what it returns is taken as already narrowed down.
    """
    text = (text or "").strip()
    if not text:
        return PlaceResult("unknown", query=text)
    found = geocoder.geocode(text, exactly_one=False)
    if not found:
        return PlaceResult("unknown", query=text)
    locations: list[Location] = [found] if isinstance(found, Location) else list(found)
    if not locations:
        return PlaceResult("unknown", query=text)

    tiers = [_tier(location) for location in locations]
    places = [_resolved(location) for location in locations]
    best_tier = min(tiers)
    best = _distinct([p for p, tier in zip(places, tiers, strict=True) if tier == best_tier])

    if len(best) == 1 or _dominates(best[0], best[1:]):
        return PlaceResult("found", best[0], places, query=text)
    return PlaceResult("ambiguous", None, best, query=text)


def _dominates(top: ResolvedPlace, others: list[ResolvedPlace]) -> bool:
    if top.population is None or any(o.population is None for o in others):
        return False  # nothing to weigh them by
    runner_up = max(o.population or 0 for o in others)
    if runner_up == 0:
        return top.population > 0
    return top.population > DOMINANCE_RATIO * runner_up


def _distinct(places: list[ResolvedPlace]) -> list[ResolvedPlace]:
    """Drop candidates that are the same place as a better-ranked one."""
    kept: list[ResolvedPlace] = []
    for place in places:
        if not any(
            k.country == place.country and geodesic_km(k.point, place.point) < SAME_PLACE_KM
            for k in kept
        ):
            kept.append(place)
    return kept


def _tier(location: Location) -> int:
    raw = location.raw if isinstance(location.raw, dict) else {}
    return _TIERS.get(str(raw.get("match", "")), 0)


def _resolved(location: Location) -> ResolvedPlace:
    raw: dict[str, Any] = location.raw if isinstance(location.raw, dict) else {}
    address = location.address or ""
    name = raw.get("name") or address.split(",")[0].strip()
    return ResolvedPlace(
        name=str(name),
        country=_country(raw),
        lat=location.latitude,
        lon=location.longitude,
        region=raw.get("region"),
        population=_population(raw),
        address=address,
    )


def _country(raw: dict[str, Any]) -> str | None:
    country = raw.get("country")
    if isinstance(country, str) and len(country) == 2:
        return country.upper()
    details = raw.get("address")
    if isinstance(details, dict) and isinstance(details.get("country_code"), str):
        return details["country_code"].upper()  # Nominatim with addressdetails
    return None


def _population(raw: dict[str, Any]) -> int | None:
    value = raw.get("population")
    if value is None and isinstance(raw.get("extratags"), dict):
        value = raw["extratags"].get("population")  # Nominatim with extratags
    try:
        return int(str(value).replace(" ", "")) if value is not None else None
    except ValueError:
        return None
