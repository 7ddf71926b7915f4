"""Storing listings and their outgoing events in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from listings.domain import Listing
from listings.tables import ListingRow, OutboxRow
from shared.events import Event, encode_event

_FIELDS = (
    "id",
    "organisation_id",
    "kind",
    "status",
    "title",
    "description",
    "category",
    "quantity",
    "unit",
    "lat",
    "lon",
    "radius_km",
    "version",
    "created_at",
    "updated_at",
)


class SqlAlchemyListingRepository:
    """Listings in the service's own tables; events go to the outbox in the same session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, listing: Listing) -> None:
        """Insert a new listing."""
        self.session.add(ListingRow(**{name: getattr(listing, name) for name in _FIELDS}))

    def get(self, listing_id: str) -> Listing | None:
        """The listing with this id, or None."""
        row = self.session.get(ListingRow, listing_id)
        if row is None:
            return None
        return Listing(**{name: getattr(row, name) for name in _FIELDS})

    def ids(self) -> list[str]:
        """Every listing id (small helper for tests and demo tooling)."""
        return list(self.session.scalars(select(ListingRow.id)))

    def add_event(self, topic: str, event: Event) -> None:
        """Queue `event` in the outbox; it is validated now, so a bad event fails the change."""
        self.session.add(
            OutboxRow(
                topic=topic,
                key=event.subject,
                event_id=event.id,
                event_type=event.type,
                payload=encode_event(event),
                created_at=datetime.now(UTC),
            )
        )
