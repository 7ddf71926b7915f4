"""What the matcher does with a listing event: keep the index, publish the matches found."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from matching.domain import ActiveListing, ListingIndex, Match
from shared.event_schemas import MATCH_FOUND
from shared.events import Event

log = logging.getLogger(__name__)
SOURCE = "/boucle/matching"

Publish = Callable[[Event], None]


def active_listing_from(data: dict[str, Any]) -> ActiveListing:
    """The matcher's view of a listing event's data."""
    return ActiveListing(
        id=data["id"],
        organisation_id=data["organisation_id"],
        kind=data["kind"],
        category=data["category"],
        lat=data["location"]["lat"],
        lon=data["location"]["lon"],
        radius_km=data["radius_km"],
        quantity=data["quantity"],
        unit=data["unit"],
        title=data["title"],
        version=data["version"],
    )


def apply_to_index(index: ListingIndex, event: Event) -> None:
    """Keep the replica of active listings current (run for every event of the topic)."""
    if event.data["status"] == "published":
        index.put(active_listing_from(event.data))
    else:
        index.remove(event.data["id"])


class MatchingHandler:
    """Finds the matches of each listing that reaches the work consumer."""

    def __init__(self, index: ListingIndex, publish: Publish) -> None:
        self._index = index
        self._publish = publish

    def __call__(self, event: Event) -> None:
        current = self._index.get(event.data["id"])
        # The replica is at least as new as this event: if it holds a newer version, or no
        # longer holds the listing, that later event is (or was) handled in its own turn.
        if current is None or current.version != event.data["version"]:
            return
        for match in self._index.find_matches(current):
            self._publish(_match_event(match))
        log.debug("listing %s handled", current.id, extra={"event_id": event.id})


def _side(listing: ActiveListing) -> dict[str, Any]:
    return {
        "listing_id": listing.id,
        "organisation_id": listing.organisation_id,
        "title": listing.title,
        "category": listing.category,
        "quantity": listing.quantity,
        "unit": listing.unit,
        "location": {"lat": listing.lat, "lon": listing.lon},
    }


def _match_event(match: Match) -> Event:
    return Event(
        type=MATCH_FOUND,
        source=SOURCE,
        subject=match.id,
        data={
            "match_id": match.id,
            "offer": _side(match.offer),
            "need": _side(match.need),
            "score": match.score,
            "reasons": {
                "distance_km": match.distance_km,
                "category_relation": match.category_relation,
            },
        },
    )
