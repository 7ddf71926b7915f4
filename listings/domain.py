"""Listings as plain data: their lifecycle, and the events a change produces. No framework.

Lifecycle: draft -> published -> reserved -> closed, or withdrawn, or expired. A listing
expires when its availability window or its use-by date has passed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from typing import Any

from shared import contracts

SOURCE = "/boucle/listings"

#: action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "publish": (frozenset({"draft"}), "published"),
    "reserve": (frozenset({"published"}), "reserved"),
    "release": (frozenset({"reserved"}), "published"),
    "close": (frozenset({"published", "reserved"}), "closed"),
    "withdraw": (frozenset({"draft", "published", "reserved"}), "withdrawn"),
    "expire": (frozenset({"draft", "published", "reserved"}), "expired"),
}
EDITABLE_STATUSES = frozenset({"draft", "published", "reserved"})


class TransitionError(ValueError):
    """An action that the listing's current status does not allow."""


@dataclass(frozen=True)
class Listing:
    """An offer or a need, as the poster stated it, with its lifecycle status."""

    kind: str
    title: str
    category: str
    quantity: float
    unit: str
    lat: float
    lon: float
    radius_km: float
    organisation_id: str
    description: str = ""
    place: str = ""
    country: str | None = None
    min_quantity: float | None = None
    available_from: datetime | None = None
    available_until: datetime | None = None
    use_by: date | None = None
    recurrence: str = "one-off"
    price_mode: str = "free"
    price_amount: float | None = None
    status: str = "published"
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    version: int = 1
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: What accepted exchanges have not taken yet (None: the whole quantity).
    remaining_quantity: float | None = None
    #: A need's highest price per unit (0: free offers only; None: any price).
    max_price: float | None = None

    @property
    def available(self) -> float:
        """The quantity still on offer (or still needed)."""
        return self.quantity if self.remaining_quantity is None else self.remaining_quantity

    def changed(self, now: datetime | None = None, **changes: Any) -> Listing:
        """A copy with `changes` applied, its version bumped and its update time set."""
        return replace(
            self, **changes, version=self.version + 1, updated_at=now or datetime.now(UTC)
        )

    def expires_at(self) -> datetime | None:
        """When the listing stops being available: the earlier of its window end and use-by."""
        ends = [self.available_until] if self.available_until else []
        if self.use_by is not None:
            ends.append(datetime.combine(self.use_by, time.max, tzinfo=UTC))
        return min(ends) if ends else None

    def is_due_to_expire(self, now: datetime) -> bool:
        """True when an active listing's window or use-by date has passed."""
        end = self.expires_at()
        return self.status in TRANSITIONS["expire"][0] and end is not None and end < now

    def event_data(self) -> contracts.ListingChanged:
        """The listing's full current state, as the listings topic carries it."""
        return contracts.ListingChanged(
            id=self.id,
            organisation_id=self.organisation_id,
            kind=self.kind,
            status=self.status,
            title=self.title,
            description=self.description,
            category=self.category,
            quantity=self.quantity,
            min_quantity=self.min_quantity,
            unit=self.unit,
            location=contracts.Location(self.lat, self.lon, self.place or None, self.country),
            radius_km=self.radius_km,
            delivery_radius_km=self.radius_km if self.kind == "offer" and self.radius_km else None,
            available_from=self.available_from,
            available_until=self.available_until,
            use_by=self.use_by,
            recurrence=self.recurrence,
            price=contracts.Price(self.price_mode, self.price_amount),
            version=self.version,
            updated_at=self.updated_at,
            remaining_quantity=self.remaining_quantity,
            max_price=self.max_price if self.kind == "need" else None,
        )


def apply_action(listing: Listing, action: str, now: datetime) -> Listing:
    """The listing after `action`, or TransitionError when its status does not allow it."""
    allowed_from, target = TRANSITIONS[action]
    if listing.status not in allowed_from:
        raise TransitionError(f"cannot {action} a listing that is {listing.status}")
    return listing.changed(now=now, status=target)


def event_type_for(listing: Listing, first_publication: bool) -> str | None:
    """The event a change publishes (None for drafts, which nobody else sees)."""
    if listing.status == "draft":
        return None
    if listing.status == "published":
        return "boucle.listing.published" if first_publication else "boucle.listing.updated"
    return f"boucle.listing.{listing.status}"
