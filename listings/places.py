"""Turning what a poster typed into a point on the map, through any geopy geocoder."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from geopy.geocoders.base import Geocoder

from shared.geo.distance import country_of
from shared.geo.resolve import PlaceResult, resolve_place


class PlaceError(ValueError):
    """A place that could not be pinned down; `candidates` lists the choices if ambiguous.

    The message is translated when it is read (``str(error)``), in the language of the page
    or API call at hand, so that every form showing it speaks the reader's language.
    """

    def __init__(self, message: object, candidates: list[str] | None = None) -> None:
        super().__init__(message)
        self.candidates = candidates or []


def resolve(geocoder: Geocoder, text: str) -> dict[str, Any]:
    """{lat, lon, place, country} for a place name, or PlaceError saying what to do."""
    result: PlaceResult = resolve_place(geocoder, text)
    if result.status == "unknown" or (result.status == "found" and result.location is None):
        raise PlaceError(
            _l("unknown place “%(place)s”: try the nearest town or a postcode", place=text)
        )
    if result.status == "ambiguous":
        choices = list(dict.fromkeys(f"{c.name}, {c.country}" for c in result.candidates))
        raise PlaceError(
            _l(
                "several places are called “%(place)s”: write one of %(choices)s",
                place=text,
                choices=" / ".join(choices),
            ),
            choices,
        )
    place = result.location
    assert place is not None
    return {"lat": place.lat, "lon": place.lon, "place": place.name, "country": place.country}


def locate(fields: dict[str, Any], geocoder: Geocoder) -> dict[str, Any]:
    """Input fields with `location` complete: geocoded from `place`, or its country found."""
    if fields.get("place") and fields.get("location") is None:
        return {**fields, "location": resolve(geocoder, fields["place"])}
    location = fields.get("location")
    if location is not None and "country" not in location:
        location = {
            **location,
            "place": fields.get("place") or "",
            "country": country_of(location["lat"], location["lon"]),
        }
        return {**fields, "location": location}
    return fields
