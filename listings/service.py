"""Use cases on listings: each one a unit of work that also writes its events (outbox).

Authorisation is checked here, on the server, for every object: only members of the owning
organisation change a listing; admins may moderate any; drafts are seen by their owners only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from listings.domain import (
    EDITABLE_STATUSES,
    SOURCE,
    Listing,
    TransitionError,
    apply_action,
    event_type_for,
)
from listings.errors import Conflict, Forbidden, NotFound
from listings.repository import SqlAlchemyRepository
from listings.tables import ListingRow
from shared.auth import Principal
from shared.db import unit_of_work
from shared.events import Event

PUBLIC_STATUSES = frozenset({"published", "reserved"})
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ListingService:
    """Creates, changes and reads listings; every change and its event commit together."""

    def __init__(
        self, sessions: sessionmaker[Session], listings_topic: str, clock: Clock = _utcnow
    ) -> None:
        self._sessions = sessions
        self._topic = listings_topic
        self._clock = clock

    def create(self, fields: dict[str, Any], principal: Principal) -> Listing:
        """Store a new listing (published unless saved as a draft) and queue its event."""
        now = self._clock()
        listing = Listing(
            **_listing_fields(fields),
            organisation_id=principal.organisation_id,
            status="draft" if fields.get("draft") else "published",
            created_at=now,
            updated_at=now,
        )
        with unit_of_work(self._sessions) as session:
            repository = SqlAlchemyRepository(session)
            repository.add_listing(listing)
            self._publish(repository, listing, first_publication=True)
        return listing

    def create_many(self, rows: list[dict[str, Any]], principal: Principal) -> list[Listing]:
        """Store several new listings (a bulk import) and their events in one transaction:
        all of them or, if anything fails, none."""
        now = self._clock()
        created = [
            Listing(
                **_listing_fields(fields),
                organisation_id=principal.organisation_id,
                status="draft" if fields.get("draft") else "published",
                created_at=now,
                updated_at=now,
            )
            for fields in rows
        ]
        with unit_of_work(self._sessions) as session:
            repository = SqlAlchemyRepository(session)
            for listing in created:
                repository.add_listing(listing)
                self._publish(repository, listing, first_publication=True)
        return created

    def update(self, listing_id: str, fields: dict[str, Any], principal: Principal) -> Listing:
        """Change what a listing says; a published listing is re-published as updated."""
        with unit_of_work(self._sessions) as session:
            repository = SqlAlchemyRepository(session)
            current = self._owned(repository, listing_id, principal)
            if current.status not in EDITABLE_STATUSES:
                raise Conflict(f"a {current.status} listing can no longer be changed")
            changed = current.changed(now=self._clock(), **_listing_fields(fields, current))
            if current.remaining_quantity is not None:
                # What accepted exchanges took stays taken whatever the new quantity.
                taken = current.quantity - current.remaining_quantity
                changed = replace(changed, remaining_quantity=max(0.0, changed.quantity - taken))
            repository.save_listing(changed)
            self._publish(repository, changed, first_publication=False)
        return changed

    def act(self, listing_id: str, action: str, principal: Principal) -> Listing:
        """Publish, reserve, release, close or withdraw a listing."""
        with unit_of_work(self._sessions) as session:
            repository = SqlAlchemyRepository(session)
            current = self._owned(repository, listing_id, principal)
            try:
                changed = apply_action(current, action, self._clock())
            except TransitionError as exc:
                raise Conflict(str(exc)) from exc
            repository.save_listing(changed)
            self._publish(repository, changed, first_publication=action == "publish")
        return changed

    def expire_due(self) -> int:
        """Expire every active listing whose window or use-by date has passed."""
        now = self._clock()
        with unit_of_work(self._sessions) as session:
            repository = SqlAlchemyRepository(session)
            active = select(ListingRow).where(
                ListingRow.status.in_(("draft", "published", "reserved")),
                (ListingRow.available_until < now) | ListingRow.use_by.is_not(None),
            )
            expired = 0
            for listing in repository.listings(active.with_for_update()):
                if listing.is_due_to_expire(now):
                    changed = apply_action(listing, "expire", now)
                    repository.save_listing(changed)
                    self._publish(repository, changed, first_publication=False)
                    expired += 1
        return expired

    def get(self, listing_id: str, principal: Principal | None) -> Listing:
        """A listing the caller may see: public ones for all, the rest for owners and admins."""
        with unit_of_work(self._sessions) as session:
            listing = SqlAlchemyRepository(session).get_listing(listing_id)
        if listing is None or not _may_see(listing, principal):
            raise NotFound(listing_id)
        return listing

    def of_organisation(self, principal: Principal) -> list[Listing]:
        """The caller's organisation's listings, newest first."""
        query = (
            select(ListingRow)
            .where(ListingRow.organisation_id == principal.organisation_id)
            .order_by(ListingRow.updated_at.desc())
        )
        with unit_of_work(self._sessions) as session:
            return SqlAlchemyRepository(session).listings(query)

    def _owned(
        self, repository: SqlAlchemyRepository, listing_id: str, principal: Principal
    ) -> Listing:
        listing = repository.get_listing(listing_id, for_update=True)
        if listing is None or not _may_see(listing, principal):
            raise NotFound(listing_id)
        if listing.organisation_id != principal.organisation_id and not principal.is_admin:
            raise Forbidden("only members of the organisation that posted it may change it")
        return listing

    def _publish(
        self, repository: SqlAlchemyRepository, listing: Listing, first_publication: bool
    ) -> None:
        event_type = event_type_for(listing, first_publication)
        if event_type is not None:
            event = Event(
                type=event_type, source=SOURCE, subject=listing.id, data=listing.event_data()
            )
            repository.add_event(self._topic, event)


def _may_see(listing: Listing, principal: Principal | None) -> bool:
    if listing.status in PUBLIC_STATUSES:
        return True
    return principal is not None and (
        principal.is_admin or principal.organisation_id == listing.organisation_id
    )


_EDITABLE = (
    "kind",
    "title",
    "description",
    "category",
    "quantity",
    "unit",
    "min_quantity",
    "max_price",
    "radius_km",
    "available_from",
    "available_until",
    "use_by",
    "recurrence",
)


def _listing_fields(fields: dict[str, Any], current: Listing | None = None) -> dict[str, Any]:
    """Domain fields from validated input; on update, what is absent stays as it was."""
    values = {name: fields[name] for name in _EDITABLE if name in fields}
    if "location" in fields:
        location = fields["location"]
        values.update(
            lat=location["lat"],
            lon=location["lon"],
            place=location.get("place") or "",
            country=location.get("country"),
        )
    if "price" in fields and fields["price"] is not None:
        values.update(
            price_mode=fields["price"]["mode"], price_amount=fields["price"].get("amount")
        )
    if current is not None:
        values.pop("kind", None)  # an offer stays an offer: post a need instead
    return values
