"""Storing listings, organisations and their outgoing events in one session (unit of work)."""

from __future__ import annotations

import uuid
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from listings.domain import Listing
from listings.organisations import Member, Organisation
from listings.tables import ApiTokenRow, ListingRow, MemberRow, OrganisationRow, OutboxRow
from shared.events import Event, encode_event

_LISTING_FIELDS = tuple(f.name for f in dataclass_fields(Listing))
_ORGANISATION_FIELDS = tuple(f.name for f in dataclass_fields(Organisation))
_MEMBER_FIELDS = tuple(f.name for f in dataclass_fields(Member))


class SqlAlchemyRepository:
    """The listings service's tables seen as domain objects; events go to the outbox."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # listings
    def add_listing(self, listing: Listing) -> None:
        """Insert a new listing."""
        self.session.add(ListingRow(**{name: getattr(listing, name) for name in _LISTING_FIELDS}))

    def save_listing(self, listing: Listing) -> None:
        """Write a changed listing over its row."""
        row = self.session.get(ListingRow, listing.id, with_for_update=True)
        if row is None:
            raise KeyError(listing.id)
        for name in _LISTING_FIELDS:
            setattr(row, name, getattr(listing, name))

    def get_listing(self, listing_id: str, for_update: bool = False) -> Listing | None:
        """The listing with this id, or None (also for something that cannot be an id)."""
        if not is_id(listing_id):
            return None
        row = self.session.get(ListingRow, listing_id, with_for_update=for_update)
        return None if row is None else _listing(row)

    def listings(self, query: Select[ListingRow]) -> list[Listing]:
        """Listings selected by `query`."""
        return [_listing(row) for row in self.session.scalars(query)]

    # organisations, members, tokens
    def add_organisation(self, organisation: Organisation) -> None:
        """Insert a new organisation."""
        values = {name: getattr(organisation, name) for name in _ORGANISATION_FIELDS}
        self.session.add(OrganisationRow(**values))

    def get_organisation(self, organisation_id: str) -> Organisation | None:
        """The organisation with this id, or None."""
        row = self.session.get(OrganisationRow, organisation_id)
        if row is None:
            return None
        return Organisation(**{name: getattr(row, name) for name in _ORGANISATION_FIELDS})

    def touch_organisation(self, organisation_id: str, now: datetime) -> Organisation:
        """Bump the organisation's version (its members or tokens changed)."""
        row = self.session.get(OrganisationRow, organisation_id, with_for_update=True)
        if row is None:
            raise KeyError(organisation_id)
        row.version += 1
        row.updated_at = now
        return Organisation(**{name: getattr(row, name) for name in _ORGANISATION_FIELDS})

    def add_member(self, member: Member) -> None:
        """Insert a member."""
        self.session.add(MemberRow(**{name: getattr(member, name) for name in _MEMBER_FIELDS}))

    def member_by_email(self, email: str) -> MemberRow | None:
        """The member with this e-mail (case-insensitive), or None."""
        return self.session.scalar(
            select(MemberRow).where(func.lower(MemberRow.email) == email.strip().lower())
        )

    def members_of(self, organisation_id: str) -> list[Member]:
        """Every member of the organisation."""
        rows = self.session.scalars(
            select(MemberRow).where(MemberRow.organisation_id == organisation_id)
        )
        return [Member(**{name: getattr(row, name) for name in _MEMBER_FIELDS}) for row in rows]

    def live_token_digests(self, organisation_id: str) -> list[str]:
        """Digests of the organisation's tokens that are not revoked."""
        return list(
            self.session.scalars(
                select(ApiTokenRow.digest).where(
                    ApiTokenRow.organisation_id == organisation_id,
                    ApiTokenRow.revoked_at.is_(None),
                )
            )
        )

    def token_by_digest(self, digest: str) -> ApiTokenRow | None:
        """The live token with this digest, or None."""
        return self.session.scalar(
            select(ApiTokenRow).where(
                ApiTokenRow.digest == digest, ApiTokenRow.revoked_at.is_(None)
            )
        )

    # outbox
    def add_tombstone(self, topic: str, key: str) -> None:
        """Queue a tombstone (a null value) for `key`: compaction then forgets the key."""
        self.session.add(
            OutboxRow(
                topic=topic,
                key=key,
                event_id=str(uuid.uuid4()),
                event_type="tombstone",
                payload=b"",
                created_at=datetime.now(UTC),
            )
        )

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


def is_id(value: str) -> bool:
    """True for the UUIDs we give out; anything else is looked up as nothing."""
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def _listing(row: ListingRow) -> Listing:
    return Listing(**{name: getattr(row, name) for name in _LISTING_FIELDS})
