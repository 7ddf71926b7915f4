"""Listings as plain data, and the events a listing change produces. No framework here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

SOURCE = "/boucle/listings"


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
    status: str = "published"
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    version: int = 1
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def changed(self, **changes: Any) -> Listing:
        """A copy with `changes` applied, its version bumped and its update time set."""
        return replace(self, **changes, version=self.version + 1, updated_at=datetime.now(UTC))

    def event_data(self) -> dict[str, Any]:
        """The listing's full current state, as the listings topic carries it."""
        return {
            "id": self.id,
            "organisation_id": self.organisation_id,
            "kind": self.kind,
            "status": self.status,
            "title": self.title,
            "category": self.category,
            "quantity": self.quantity,
            "unit": self.unit,
            "location": {"lat": self.lat, "lon": self.lon},
            "radius_km": self.radius_km,
            "version": self.version,
            "updated_at": self.updated_at,
        }


def event_type_for(listing: Listing, created: bool) -> str:
    """The event type a change to `listing` publishes: published on creation, else its status."""
    if created or listing.status == "published":
        return "boucle.listing.published" if created else "boucle.listing.updated"
    return f"boucle.listing.{listing.status}"
