"""What the work consumer does with a listing event: publish its matches and retractions.

The replica is caught up before each batch, so it may already hold a later version of the
listing; then this event is skipped and the later one publishes everything (the replaced
versions stay remembered until then). Otherwise the handler publishes every current match
of the listing, best first (a repeat is harmless: match ids are deterministic), then
retracts each match a replaced version had that no longer holds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from matching.domain import NEED, OFFER, ActiveListing, Match, other_kind
from matching.replica import PUBLISHED, Replica
from matching.rules import rejection
from shared.event_schemas import MATCH_FOUND, MATCH_RETRACTED
from shared.events import Event

log = logging.getLogger(__name__)
SOURCE = "/boucle/matching"
NO_LONGER_HOLDS = "no longer holds"

Publish = Callable[[Event], None]


class MatchingHandler:
    """Publishes `boucle.match.found` / `boucle.match.retracted` for each listing event."""

    def __init__(
        self, replica: Replica, publish: Publish, clock: Callable[[], float] = time.time
    ) -> None:
        self._replica = replica
        self._index = replica.index
        self._publish = publish
        self._clock = clock

    def __call__(self, event: Event) -> None:
        data = event.data
        listing_id, held = data["id"], self._index.version(data["id"])
        if data["status"] == PUBLISHED and held != data["version"]:
            return  # a later version is in the replica and will be handled in its turn
        if data["status"] != PUBLISHED and held is not None:
            return  # published again since
        now = self._clock()
        current = self._index.get(listing_id)
        found = self._index.find_matches(current, now) if current else []
        retracted = self._retracted(listing_id, found, now)
        for match in found:
            self._publish(match_event(MATCH_FOUND, match))
        for match in retracted:
            reason = self._reason(match, current, data, now)
            self._publish(match_event(MATCH_RETRACTED, match, reason))
        # Only now: if publishing failed, the retry still knows the replaced versions.
        self._replica.forget_superseded(listing_id)
        log.info(
            "listing %s v%s: %d matches, %d retracted",
            listing_id,
            data["version"],
            len(found),
            len(retracted),
            extra={"event_id": event.id},
        )

    def _retracted(self, listing_id: str, found: list[Match], now: float) -> list[Match]:
        still = {m.id for m in found}
        gone: dict[str, Match] = {}
        for previous in self._replica.superseded(listing_id):
            for match in self._index.find_matches(previous, now):
                if match.id not in still:
                    gone.setdefault(match.id, match)
        return list(gone.values())

    def _reason(
        self, match: Match, current: ActiveListing | None, data: dict[str, Any], now: float
    ) -> str:
        if current is None:
            return f"{data['kind']} {data['status']}"  # e.g. "offer withdrawn"
        counterpart_id = match.need.id if current.kind == OFFER else match.offer.id
        counterpart = self._index.get(counterpart_id)
        if counterpart is None:
            return f"{other_kind(current.kind)} no longer published"
        offer, need = (current, counterpart) if current.kind == OFFER else (counterpart, current)
        why = rejection(offer, need, self._index.taxonomy, now)
        return f"{current.kind} updated: {why or NO_LONGER_HOLDS}"


def match_event(event_type: str, match: Match, reason: str | None = None) -> Event:
    """The found/retracted event of a match, keyed by the match id."""
    offer_country, need_country = match.countries
    data: dict[str, Any] = {
        "match_id": match.id,
        "offer": _side(match.offer),
        "need": _side(match.need),
        "score": match.score,
        "reasons": {
            "distance_km": match.distance_km,
            "category_relation": match.category_relation,
            "quantity_fit": match.quantity_fit,
            "days_left": match.days_left,
            "cross_border": match.cross_border,
            # The contract lists two strings: only when both countries are known.
            "countries": [offer_country, need_country] if offer_country and need_country else [],
        },
    }
    if reason is not None:
        data["retraction_reason"] = reason
    return Event(type=event_type, source=SOURCE, subject=match.id, data=data)


def _side(listing: ActiveListing) -> dict[str, Any]:
    ends = listing.ends_at
    return {
        "listing_id": listing.id,
        "organisation_id": listing.organisation_id,
        "title": listing.title,
        "category": listing.category,
        "quantity": listing.quantity,
        "min_quantity": listing.min_quantity if listing.kind == NEED else None,
        "unit": listing.unit,
        "location": {
            "lat": listing.lat,
            "lon": listing.lon,
            "place": listing.place,
            "country": listing.country,
        },
        "available_until": None if ends is None else datetime.fromtimestamp(ends, UTC),
    }
