"""The matcher's replica of the listings topic: the active listings, by their newest version.

Every matcher process applies every listing event here (the replica is not split by the
consumer group), so a lookup sees both sides of a pair whatever partition each fell in.
Retractions need no memory of replaced versions: the handler settles each listing's match
set at its version, and readers retract what was not found again (shared/match_state.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from matching.domain import OFFER, ActiveListing
from matching.index import ListingIndex
from shared.contracts import ListingChanged
from shared.events import Event


def active_listing_from(data: ListingChanged) -> ActiveListing:
    """The matcher's view of a listing event's data."""
    delivery = data.delivery_radius_km
    if data.kind == OFFER and delivery is None and data.radius_km > 0:
        delivery = data.radius_km  # an offer's radius is its delivery radius
    return ActiveListing(
        id=data.id,
        organisation_id=data.organisation_id,
        kind=data.kind,
        category=data.category,
        lat=data.location.lat,
        lon=data.location.lon,
        # What accepted exchanges left: a half-taken offer matches only what it still has.
        quantity=data.available,
        unit=data.unit,
        title=data.title,
        version=data.version,
        radius_km=data.radius_km if data.kind != OFFER else 0.0,
        delivery_radius_km=delivery,
        min_quantity=data.min_quantity,
        starts_at=_timestamp(data.available_from),
        ends_at=_earliest(_timestamp(data.available_until), _end_of(data.use_by)),
        place=data.location.place,
        country=data.location.country,
        price_mode=data.price.mode if data.price else "free",
        price_amount=data.price.amount if data.price else None,
        max_price=data.max_price if data.kind != OFFER else None,
    )


class Replica:
    """Applies listing events to the index; an older version never replaces a newer one."""

    def __init__(self, index: ListingIndex) -> None:
        self.index = index

    def apply(self, event: Event) -> None:
        """Bring the index to the state `event` describes (other event types are ignored)."""
        data = event.data
        if not isinstance(data, ListingChanged):
            return
        held = self.index.version(data.id)
        if held is not None and held > data.version:
            return
        if held is not None:
            self.index.remove(data.id)
        if data.is_published:
            self.index.put(active_listing_from(data))

    def __len__(self) -> int:
        return len(self.index)


def _timestamp(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _end_of(day: date | None) -> float | None:
    # Produce may be used up to the end of its use-by day (UTC).
    if day is None:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() + 86_400


def _earliest(*moments: float | None) -> float | None:
    known = [m for m in moments if m is not None]
    return min(known) if known else None
