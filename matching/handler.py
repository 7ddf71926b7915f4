"""What the work consumer does with a listing event: publish its matches, then settle them.

The replica is caught up before each batch, so it may already hold a later version of the
listing; then this event is skipped and the later one publishes everything. Otherwise the
handler publishes every current match of the listing, best first (a repeat is harmless:
match ids are deterministic), each naming the versions of both listings, and then
`boucle.match.settled` for the listing's version: readers retract every match of the
listing computed from an older version that was not found again (shared/match_state.py).
All of it is keyed by the listing id, so it reaches a reader in this order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from matching.domain import NEED, ActiveListing, Match
from matching.replica import Replica
from shared.contracts import (
    ListingChanged,
    Location,
    MatchesSettled,
    MatchFound,
    MatchReasons,
    MatchSide,
    Price,
)
from shared.event_schemas import MATCH_FOUND, MATCHES_SETTLED
from shared.events import Event

log = logging.getLogger(__name__)
SOURCE = "/boucle/matching"

#: publish(event, key): the key is the listing the event was computed for.
Publish = Callable[[Event, str], None]


class MatchingHandler:
    """Publishes `boucle.match.found` for each current match, then `boucle.match.settled`."""

    def __init__(
        self, replica: Replica, publish: Publish, clock: Callable[[], float] = time.time
    ) -> None:
        self._replica = replica  # its index may be replaced (restored from a snapshot)
        self._publish = publish
        self._clock = clock

    def __call__(self, event: Event) -> None:
        data = event.data
        if not isinstance(data, ListingChanged):
            return
        index = self._replica.index
        held = index.version(data.id)
        if data.is_published and held != data.version:
            return  # a later version is in the replica and will be handled in its turn
        if not data.is_published and held is not None:
            return  # published again since
        current = index.get(data.id)
        found = index.find_matches(current, self._clock()) if current else []
        sides = _Sides()
        for match in found:
            self._publish(match_found(match, sides), data.id)
        settled = MatchesSettled(data.id, data.kind, data.version, data.status)
        self._publish(Event(MATCHES_SETTLED, SOURCE, data.id, settled), data.id)
        log.info(
            "listing %s v%s (%s): %d matches",
            data.id,
            data.version,
            data.status,
            len(found),
            extra={"event_id": event.id},
        )


def match_found(match: Match, sides: _Sides | None = None) -> Event:
    """The found event of a match, naming the versions it was computed from."""
    side = (sides or _Sides()).of
    offer_country, need_country = match.countries
    data = MatchFound(
        match_id=match.id,
        offer=side(match.offer),
        need=side(match.need),
        score=match.score,
        reasons=MatchReasons(
            distance_km=match.distance_km,
            category_relation=match.category_relation,
            quantity_fit=match.quantity_fit,
            days_left=match.days_left,
            cross_border=match.cross_border,
            # The contract lists two strings: only when both countries are known.
            countries=(offer_country, need_country) if offer_country and need_country else (),
        ),
    )
    return Event(type=MATCH_FOUND, source=SOURCE, subject=match.id, data=data)


class _Sides:
    """Each listing's side built once: a listing's own side is the same in all its matches
    (the same object, so the encoder writes it out once too)."""

    def __init__(self) -> None:
        self._built: dict[int, tuple[ActiveListing, MatchSide]] = {}

    def of(self, listing: ActiveListing) -> MatchSide:
        held = self._built.get(id(listing))
        if held is not None and held[0] is listing:
            return held[1]
        side = _side(listing)
        self._built[id(listing)] = (listing, side)
        return side


def _side(listing: ActiveListing) -> MatchSide:
    ends = listing.ends_at
    return MatchSide(
        listing_id=listing.id,
        organisation_id=listing.organisation_id,
        title=listing.title,
        category=listing.category,
        quantity=listing.quantity,
        min_quantity=listing.min_quantity if listing.kind == NEED else None,
        unit=listing.unit,
        location=Location(listing.lat, listing.lon, listing.place, listing.country),
        version=listing.version,
        available_until=None if ends is None else datetime.fromtimestamp(ends, UTC),
        price=Price(listing.price_mode, listing.price_amount),
    )
