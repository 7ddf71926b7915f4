"""Use cases on organisations, members and API tokens.

Passwords are hashed with Argon2id. Every change to an organisation, its members or its
tokens publishes the organisation's full state, so other services (the notifier) know
addresses, languages and live token digests without reading these tables.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from listings.errors import Conflict, NotFound
from listings.organisations import (
    ADMIN_ORGANISATION_NAME,
    SOURCE,
    Member,
    Organisation,
    organisation_event_data,
)
from listings.repository import SqlAlchemyRepository, is_id
from listings.tables import ApiTokenRow, MemberRow
from shared.auth import Principal, new_api_token, token_digest
from shared.db import unit_of_work
from shared.event_schemas import ORGANISATION_REGISTERED, ORGANISATION_UPDATED
from shared.events import Event

_HASHER = PasswordHasher()
# Verified against when the e-mail is unknown, so a failed login takes as long either way.
_DUMMY_HASH = _HASHER.hash("not-a-real-password")


@dataclass(frozen=True)
class Registration:
    """What registering returns: the organisation, its first member and its first token."""

    organisation: Organisation
    member: Member
    api_token: str


class AccountService:
    """Registers organisations, logs members in, issues and revokes API tokens."""

    def __init__(self, sessions: sessionmaker[Session], organisations_topic: str) -> None:
        self._sessions = sessions
        self._topic = organisations_topic

    def register(
        self, fields: dict[str, Any], role: str = "member", verified: bool = False
    ) -> Registration:
        """A new organisation, its first member (an owner) and an API token; 409 on a taken
        e-mail. Addresses stay unconfirmed until their links are followed (`verified` is
        for accounts an operator creates on the command line)."""
        now = datetime.now(UTC)
        location = fields.get("location") or {}
        organisation = Organisation(
            name=fields["name"],
            kind=fields["kind"],
            country=fields["country"],
            place=fields.get("place", ""),
            contact_email=fields["contact_email"],
            language=fields["language"],
            phone=(fields.get("phone") or "").strip(),
            lat=location.get("lat"),
            lon=location.get("lon"),
            updated_at=now,
            contact_email_verified=verified,
            description=(fields.get("description") or "").strip(),
            website=(fields.get("website") or "").strip(),
        )
        member = Member(
            email=fields["email"].strip().lower(),
            organisation_id=organisation.id,
            password_hash=_HASHER.hash(fields["password"]),
            name=fields.get("member_name", ""),
            language=fields["language"],
            role=role,
            email_verified=verified,
            organisation_role="owner",
        )
        token = new_api_token()
        try:
            with unit_of_work(self._sessions) as session:
                repository = SqlAlchemyRepository(session)
                if repository.member_by_email(member.email) is not None:
                    raise Conflict("an account with this e-mail already exists")
                repository.add_organisation(organisation)
                session.flush()
                repository.add_member(member)
                session.add(_token_row(organisation.id, "first token", token, now, member.id))
                session.flush()
                self._publish(repository, organisation, ORGANISATION_REGISTERED)
        except IntegrityError as exc:  # a concurrent registration took the e-mail first
            raise Conflict("an account with this e-mail already exists") from exc
        return Registration(organisation, member, token)

    def authenticate(self, email: str, password: str) -> tuple[Principal, str] | None:
        """The member's principal and language if the password is right, else None."""
        with unit_of_work(self._sessions) as session:
            row = SqlAlchemyRepository(session).member_by_email(email)
            stored = row.password_hash if row is not None else _DUMMY_HASH
            try:
                _HASHER.verify(stored, password)
            except (VerificationError, InvalidHashError):
                return None
            if row is None:
                return None
            if _HASHER.check_needs_rehash(stored):
                row.password_hash = _HASHER.hash(password)
            principal = Principal(
                organisation_id=row.organisation_id, user_id=row.id, role=row.role
            )
            return principal, row.language

    def principal_for_token(self, token: str) -> Principal | None:
        """The organisation a bearer token belongs to, or None for an unknown or revoked one."""
        with unit_of_work(self._sessions) as session:
            row = SqlAlchemyRepository(session).token_by_digest(token_digest(token))
            if row is None:
                return None
            # A script acts as the member who created its token (removing them revokes it).
            creator = session.get(MemberRow, row.created_by) if row.created_by else None
            if creator is None or creator.organisation_id != row.organisation_id:
                return Principal(organisation_id=row.organisation_id)
            return Principal(row.organisation_id, creator.id, "member")

    def organisation(self, organisation_id: str) -> Organisation:
        """The organisation, or NotFound."""
        with unit_of_work(self._sessions) as session:
            found = SqlAlchemyRepository(session).get_organisation(organisation_id)
        if found is None:
            raise NotFound(organisation_id)
        return found

    def tokens(self, organisation_id: str) -> list[ApiTokenRow]:
        """The organisation's tokens (digests only), live and revoked."""
        with unit_of_work(self._sessions) as session:
            return list(
                session.query(ApiTokenRow)
                .filter(ApiTokenRow.organisation_id == organisation_id)
                .order_by(ApiTokenRow.created_at)
            )

    def create_token(
        self, organisation_id: str, name: str, created_by: str | None = None
    ) -> tuple[ApiTokenRow, str]:
        """A new token; the plain value is returned once and never stored. A token a member
        created is revoked when that member is removed."""
        token, now = new_api_token(), datetime.now(UTC)
        row = _token_row(organisation_id, name, token, now, created_by)
        with unit_of_work(self._sessions) as session:
            repository = SqlAlchemyRepository(session)
            session.add(row)
            session.flush()
            self._publish(
                repository,
                repository.touch_organisation(organisation_id, now),
                ORGANISATION_UPDATED,
            )
        return row, token

    def revoke_token(self, organisation_id: str, token_id: str) -> None:
        """Revoke one of the organisation's tokens (NotFound for another's)."""
        now = datetime.now(UTC)
        with unit_of_work(self._sessions) as session:
            row = session.get(ApiTokenRow, token_id) if is_id(token_id) else None
            if row is None or row.organisation_id != organisation_id:
                raise NotFound(token_id)
            if row.revoked_at is None:
                row.revoked_at = now
                repository = SqlAlchemyRepository(session)
                session.flush()
                self._publish(
                    repository,
                    repository.touch_organisation(organisation_id, now),
                    ORGANISATION_UPDATED,
                )

    def make_admin(self, email: str, password: str) -> str:
        """Promote the member with this e-mail, or create an admin account; says which."""
        with unit_of_work(self._sessions) as session:
            repository = SqlAlchemyRepository(session)
            row = repository.member_by_email(email)
            if row is not None:
                row.role = "admin"
                row.password_hash = _HASHER.hash(password)
                session.flush()
                organisation = repository.touch_organisation(row.organisation_id, datetime.now(UTC))
                self._publish(repository, organisation, ORGANISATION_UPDATED)
                return "promoted"
        self.register(
            {
                "name": ADMIN_ORGANISATION_NAME,
                "kind": "other",
                "country": "LU",
                "contact_email": email,
                "language": "en",
                "email": email,
                "password": password,
            },
            role="admin",
            verified=True,
        )
        return "created"

    def _publish(
        self, repository: SqlAlchemyRepository, organisation: Organisation, event_type: str
    ) -> None:
        data = organisation_event_data(
            organisation,
            repository.members_of(organisation.id),
            repository.live_token_digests(organisation.id),
        )
        event = Event(type=event_type, source=SOURCE, subject=organisation.id, data=data)
        repository.add_event(self._topic, event)


def _token_row(
    organisation_id: str, name: str, token: str, now: datetime, created_by: str | None = None
) -> ApiTokenRow:
    return ApiTokenRow(
        id=str(uuid.uuid4()),
        organisation_id=organisation_id,
        name=name,
        digest=token_digest(token),
        created_at=now,
        created_by=created_by,
    )
