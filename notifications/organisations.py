"""The notifier's projection of organisations, kept from the compacted `organisations` topic."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from notifications.erasure import erase_organisation
from notifications.preferences import CONTACT, Person
from notifications.tables import OrganisationRow, OrganisationTokenRow
from shared.auth import token_digest
from shared.contracts import Member, OrganisationChanged, OrganisationDeleted
from shared.db import unit_of_work
from shared.events import Event

log = logging.getLogger(__name__)
#: A member's place in the organisation that may manage it (its members, its data).
OWNER = "owner"


@dataclass(frozen=True)
class Organisation:
    """What the notifier knows of an organisation: who to write to, in which language."""

    id: str
    name: str
    contact_email: str
    language: str
    members: list[dict[str, Any]] = field(default_factory=list)
    contact_email_verified: bool = True

    def people(self) -> list[Person]:
        """The contact address first, then every member."""
        contact = Person(CONTACT, self.contact_email, self.language)
        return [contact] + [
            Person(m["id"], m["email"], m.get("language", "en")) for m in self.members
        ]

    def member(self, member_id: str) -> dict[str, Any] | None:
        """One member's entry, or None."""
        return next((m for m in self.members if m["id"] == member_id), None)

    def unconfirmed(self) -> set[str]:
        """Addresses (lower case) nothing is e-mailed to until their owner confirms them."""
        held = {m["email"].lower() for m in self.members if not m.get("email_verified", True)}
        if not self.contact_email_verified:
            held.add(self.contact_email.lower())
        # An address confirmed by one of its uses (contact or member) is confirmed.
        confirmed = {m["email"].lower() for m in self.members if m.get("email_verified", True)}
        if self.contact_email_verified:
            confirmed.add(self.contact_email.lower())
        return held - confirmed


def organisation_from_row(row: OrganisationRow) -> Organisation:
    """The plain view of a projection row."""
    return Organisation(
        row.id,
        row.name,
        row.contact_email,
        row.language,
        list(row.members),
        row.contact_email_verified is not False,
    )


def load_organisation(session: Session, organisation_id: str) -> Organisation | None:
    """The projected organisation, or None if the notifier never heard of it."""
    row = session.get(OrganisationRow, organisation_id)
    return organisation_from_row(row) if row is not None else None


class OrganisationStore:
    """Applies organisation events (newest version wins) and answers lookups."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def apply(self, event: Event) -> None:
        """Upsert the organisation unless a newer version is already stored."""
        self.apply_many([event])

    def apply_many(self, events: list[Event]) -> None:
        """Apply a batch in one transaction: a restart replays the topic at batch speed."""
        with unit_of_work(self._sessions) as session:
            for event in events:
                if isinstance(event.data, OrganisationChanged):
                    self._upsert(session, event.data)
                elif isinstance(event.data, OrganisationDeleted):
                    erase_organisation(session, event.data.id)

    def forget(self, organisation_id: str) -> None:
        """A tombstone for the organisation's key: nothing of it may stay."""
        with unit_of_work(self._sessions) as session:
            erase_organisation(session, organisation_id)

    def _upsert(self, session: Session, data: OrganisationChanged) -> None:
        row = session.get(OrganisationRow, data.id)
        if row is not None and row.version >= data.version:
            return
        if row is None:
            row = OrganisationRow(id=data.id)
            session.add(row)
        row.name, row.contact_email = data.name, data.contact_email
        row.contact_email_verified = data.contact_email_verified
        row.language, row.version = data.language, data.version
        row.members = [_member(m) for m in data.members]
        row.updated_at = data.updated_at
        session.execute(
            delete(OrganisationTokenRow).where(OrganisationTokenRow.organisation_id == row.id)
        )
        # Flushed before the new digests: a token moving between organisations is one row.
        session.flush()
        session.add_all(
            OrganisationTokenRow(digest=d, organisation_id=row.id)
            for d in set(data.api_token_hashes)
        )
        log.debug("organisation %s at version %s", data.id, data.version)

    def get(self, organisation_id: str) -> Organisation | None:
        """The projected organisation, or None."""
        with unit_of_work(self._sessions) as session:
            return load_organisation(session, organisation_id)

    def organisation_for_token(self, token: str) -> str | None:
        """The id of the organisation owning a live API token, or None."""
        with unit_of_work(self._sessions) as session:
            return session.scalar(
                select(OrganisationTokenRow.organisation_id).where(
                    OrganisationTokenRow.digest == token_digest(token)
                )
            )


def _member(member: Member) -> dict[str, Any]:
    return {
        "id": member.id,
        "email": member.email,
        "name": member.name,
        "language": member.language,
        "role": member.role,
        "email_verified": member.email_verified,
        "organisation_role": member.organisation_role,
    }
