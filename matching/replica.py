"""The matcher's replica of the listings topic: active listings, and versions just replaced.

Every matcher process applies every listing event here (the replica is not split by the
consumer group). Besides the index of what is active now, it keeps each replaced active
version until the work handler of that listing has dealt with it, so the handler can
retract the matches the old version had and the new one lacks, even after a restart:
replaying the compacted topic rebuilds the same versions (docs/adr/0002-matching.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from matching.domain import OFFER, ActiveListing
from matching.index import ListingIndex
from shared.events import Event

PUBLISHED = "published"
# Versions replaced more than this long ago are dropped. The owner of a listing's partition
# handles it within its lag; other processes keep them for nothing.
DEFAULT_SUPERSEDED_TTL_S = 1800.0


def active_listing_from(data: Mapping[str, Any]) -> ActiveListing:
    """The matcher's view of a listing event's data."""
    kind = data["kind"]
    delivery = data.get("delivery_radius_km")
    if kind == OFFER and delivery is None and data["radius_km"] > 0:
        delivery = data["radius_km"]  # an offer's radius is its delivery radius
    location = data["location"]
    return ActiveListing(
        id=data["id"],
        organisation_id=data["organisation_id"],
        kind=kind,
        category=data["category"],
        lat=location["lat"],
        lon=location["lon"],
        quantity=data["quantity"],
        unit=data["unit"],
        title=data["title"],
        version=data["version"],
        radius_km=data["radius_km"] if kind != OFFER else 0.0,
        delivery_radius_km=delivery,
        min_quantity=data.get("min_quantity"),
        starts_at=_timestamp(data.get("available_from")),
        ends_at=_earliest(_timestamp(data.get("available_until")), _end_of(data.get("use_by"))),
        place=location.get("place"),
        country=location.get("country"),
    )


class Replica:
    """Applies listing events to the index; remembers replaced versions for retractions."""

    def __init__(
        self,
        index: ListingIndex,
        ttl_s: float = DEFAULT_SUPERSEDED_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.index = index
        self._ttl_s = ttl_s
        self._clock = clock
        # listing id -> (when first replaced, replaced versions oldest first); insertion
        # order is age order, so expiry pops from the front.
        self._superseded: dict[str, tuple[float, list[ActiveListing]]] = {}

    def apply(self, event: Event) -> None:
        """Bring the index to the state `event` describes (older versions are ignored)."""
        data = event.data
        held = self.index.version(data["id"])
        if held is not None and held > data["version"]:
            return
        replaced = self.index.remove(data["id"]) if held is not None else None
        if replaced is not None and held != data["version"]:
            self._remember(replaced)
        if data["status"] == PUBLISHED:
            self.index.put(active_listing_from(data))
        self._expire()

    def superseded(self, listing_id: str) -> list[ActiveListing]:
        """Active versions of the listing replaced since its handler last took them."""
        entry = self._superseded.get(listing_id)
        return list(entry[1]) if entry else []

    def forget_superseded(self, listing_id: str) -> None:
        """The listing's handler has published what the replaced versions implied."""
        self._superseded.pop(listing_id, None)

    def __len__(self) -> int:
        return len(self.index)

    def _remember(self, replaced: ActiveListing) -> None:
        entry = self._superseded.get(replaced.id)
        if entry is None:
            self._superseded[replaced.id] = (self._clock(), [replaced])
        else:
            entry[1].append(replaced)

    def _expire(self) -> None:
        limit = self._clock() - self._ttl_s
        while self._superseded:
            oldest = next(iter(self._superseded))
            if self._superseded[oldest][0] > limit:
                return
            del self._superseded[oldest]


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
