"""Use cases of the listings service: each one a unit of work that also writes its events."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from listings.domain import SOURCE, Listing, event_type_for
from listings.repository import SqlAlchemyListingRepository
from shared.db import unit_of_work
from shared.events import Event


class ListingService:
    """Creates and reads listings; every change and its event commit together."""

    def __init__(self, sessions: sessionmaker[Session], listings_topic: str) -> None:
        self._sessions = sessions
        self._topic = listings_topic

    def create(self, fields: dict[str, Any], organisation_id: str | None = None) -> Listing:
        """Store a new listing (published unless saved as a draft) and queue its event."""
        location = fields["location"]
        listing_id = str(uuid.uuid4())
        listing = Listing(
            id=listing_id,
            # Until organisations exist, an anonymous poster counts as an organisation of its own.
            organisation_id=organisation_id or listing_id,
            kind=fields["kind"],
            title=fields["title"],
            description=fields.get("description", ""),
            category=fields["category"],
            quantity=fields["quantity"],
            unit=fields["unit"],
            lat=location["lat"],
            lon=location["lon"],
            radius_km=fields["radius_km"],
            status="draft" if fields.get("draft") else "published",
        )
        with unit_of_work(self._sessions) as session:
            repository = SqlAlchemyListingRepository(session)
            repository.add(listing)
            if listing.status != "draft":
                repository.add_event(self._topic, _event(listing, created=True))
        return listing

    def get(self, listing_id: str) -> Listing | None:
        """The listing, or None if there is no such listing."""
        with unit_of_work(self._sessions) as session:
            return SqlAlchemyListingRepository(session).get(listing_id)


def _event(listing: Listing, created: bool) -> Event:
    return Event(
        type=event_type_for(listing, created),
        source=SOURCE,
        subject=listing.id,
        data=listing.event_data(),
    )
