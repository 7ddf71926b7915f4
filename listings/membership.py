"""Use cases on an organisation's people: confirmed addresses, passwords, profile, members.

Every change to an organisation or its members publishes its full state on the
organisations topic (other services learn verified addresses and roles from it); every
e-mail goes out as an `account mail` event that the notifier sends in the recipient's
language. Only owners manage the profile and the members; the last owner cannot leave.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from listings import account_links as links
from listings.errors import Conflict, Forbidden, NotFound
from listings.login_sessions import end_logins
from listings.organisations import SOURCE, Member, Organisation, organisation_event_data
from listings.repository import SqlAlchemyRepository, is_id
from listings.tables import ApiTokenRow, MemberRow, MemberSessionRow, OrganisationRow
from shared import contracts
from shared.db import unit_of_work
from shared.event_schemas import ACCOUNT_MAIL_REQUESTED, ORGANISATION_UPDATED
from shared.events import Event
from shared.settings import Topics

_HASHER = PasswordHasher()
OWNER, MEMBER = "owner", "member"
#: what an owner may change on the profile (and the API's PATCH accepts)
PROFILE_FIELDS = (
    "name",
    "kind",
    "place",
    "country",
    "description",
    "website",
    "contact_email",
    "phone",
    "language",
    "lat",
    "lon",
)


class Membership:
    """Confirmations, passwords, the profile and the members of organisations."""

    def __init__(self, sessions: sessionmaker[Session], topics: Topics, base_url: str) -> None:
        self._sessions = sessions
        self._topics = topics
        self._base_url = base_url

    # --- confirming addresses ---------------------------------------------------------

    def unconfirmed(self, organisation_id: str, member_id: str) -> list[str]:
        """The member's and the organisation's addresses still waiting for confirmation."""
        with unit_of_work(self._sessions) as session:
            member = session.get(MemberRow, member_id)
            organisation = session.get(OrganisationRow, organisation_id)
            waiting = []
            if member is not None and not member.email_verified:
                waiting.append(member.email)
            if organisation is not None and not organisation.contact_email_verified:
                contact = organisation.contact_email.strip().lower()
                if contact and contact not in waiting:
                    waiting.append(contact)
            return waiting

    def request_confirmations(self, organisation_id: str, member_id: str) -> int:
        """Send a confirmation link to each unconfirmed address of the member and their
        organisation (one link when both are the same); how many were sent."""
        now = datetime.now(UTC)
        with unit_of_work(self._sessions) as session:
            repository = SqlAlchemyRepository(session)
            organisation, member = self._pair(repository, organisation_id, member_id)
            addresses = []
            if not member.email_verified:
                addresses.append(member.email)
            contact = organisation.contact_email.strip().lower()
            if not organisation.contact_email_verified and contact not in addresses:
                addresses.append(contact)
            for address in addresses:
                link = links.issue(
                    session,
                    self._base_url,
                    links.CONFIRM_EMAIL,
                    address,
                    organisation_id,
                    now,
                    member_id=member.id,
                )
                self._mail(repository, links.CONFIRM_EMAIL, address, member, organisation, link)
            return len(addresses)

    def confirm(self, token: str) -> str:
        """Confirm the address a link was sent to; returns it. LinkRefused if it can't be."""
        now = datetime.now(UTC)
        with unit_of_work(self._sessions) as session:
            link = links.redeem(session, links.CONFIRM_EMAIL, token, now)
            address = link.email.strip().lower()
            confirmed = False
            member = session.get(MemberRow, link.member_id) if link.member_id else None
            # Only the address the link was sent to: if it changed since, it stays unconfirmed.
            if member is not None and member.email.strip().lower() == address:
                member.email_verified = confirmed = True
            organisation = session.get(OrganisationRow, link.organisation_id)
            if organisation is not None and organisation.contact_email.strip().lower() == address:
                organisation.contact_email_verified = confirmed = True
            if not confirmed:
                raise links.LinkRefused("unknown")
            self._publish(SqlAlchemyRepository(session), link.organisation_id, now)
            return address

    # --- passwords -----------------------------------------------------------------------

    def forgot_password(self, email: str) -> None:
        """Send a reset link if the address belongs to a member; nothing tells which."""
        now = datetime.now(UTC)
        with unit_of_work(self._sessions) as session:
            repository = SqlAlchemyRepository(session)
            row = repository.member_by_email(email)
            if row is None:
                return
            organisation, member = self._pair(repository, row.organisation_id, row.id)
            link = links.issue(
                session,
                self._base_url,
                links.RESET_PASSWORD,
                member.email,
                organisation.id,
                now,
                member_id=member.id,
            )
            self._mail(repository, links.RESET_PASSWORD, member.email, member, organisation, link)

    def reset_password(self, token: str, password: str) -> str:
        """Set a new password from a reset link; every login of the member ends. Member id."""
        now = datetime.now(UTC)
        with unit_of_work(self._sessions) as session:
            link = links.redeem(session, links.RESET_PASSWORD, token, now)
            member = session.get(MemberRow, link.member_id) if link.member_id else None
            if member is None:
                raise links.LinkRefused("unknown")
            member.password_hash = _HASHER.hash(password)
            # The link reached this address: it is confirmed by the same token.
            if member.email.strip().lower() == link.email.strip().lower():
                member.email_verified = True
            end_logins(session, member.id, now)
            return member.id

    def change_password(self, member_id: str, current: str, new: str) -> bool:
        """Change a password knowing the current one; False if it was wrong. Logins end."""
        now = datetime.now(UTC)
        with unit_of_work(self._sessions) as session:
            member = session.get(MemberRow, member_id)
            if member is None:
                raise NotFound(member_id)
            try:
                _HASHER.verify(member.password_hash, current)
            except (VerificationError, InvalidHashError):
                return False
            member.password_hash = _HASHER.hash(new)
            end_logins(session, member.id, now)
            return True

    def change_login_email(self, member_id: str, email: str) -> None:
        """A new login address, unconfirmed until its link is followed (Conflict if taken)."""
        email = email.strip().lower()
        with unit_of_work(self._sessions) as session:
            repository = SqlAlchemyRepository(session)
            member = session.get(MemberRow, member_id)
            if member is None:
                raise NotFound(member_id)
            taken = repository.member_by_email(email)
            if taken is not None and taken.id != member_id:
                raise Conflict("an account with this e-mail already exists")
            if member.email != email:
                member.email, member.email_verified = email, False
                self._publish(repository, member.organisation_id, datetime.now(UTC))
            organisation_id = member.organisation_id
        self.request_confirmations(organisation_id, member_id)

    # --- the profile ---------------------------------------------------------------------

    def update_profile(
        self, organisation_id: str, actor_id: str, changes: dict[str, Any]
    ) -> Organisation:
        """Change the profile (owners only); a new contact address is confirmed again."""
        now = datetime.now(UTC)
        with unit_of_work(self._sessions) as session:
            repository = SqlAlchemyRepository(session)
            self._owner(session, organisation_id, actor_id)
            row = session.get(OrganisationRow, organisation_id, with_for_update=True)
            if row is None:
                raise NotFound(organisation_id)
            new_contact = False
            for name in PROFILE_FIELDS:
                if name not in changes:
                    continue
                value = changes[name]
                if name == "contact_email":
                    value = str(value).strip().lower()
                    new_contact = value != row.contact_email.strip().lower()
                    if new_contact:
                        row.contact_email_verified = False
                setattr(row, name, value)
            organisation = self._publish(repository, organisation_id, now)
        if new_contact:
            self.request_confirmations(organisation_id, actor_id)
        return organisation

    # --- members -------------------------------------------------------------------------

    def members(self, organisation_id: str) -> list[Member]:
        """Everyone who logs in for the organisation."""
        with unit_of_work(self._sessions) as session:
            return SqlAlchemyRepository(session).members_of(organisation_id)

    def is_owner(self, organisation_id: str, member_id: str | None) -> bool:
        """True if the member is an owner of this organisation."""
        if not member_id:
            return False
        with unit_of_work(self._sessions) as session:
            row = session.get(MemberRow, member_id)
            return bool(
                row and row.organisation_id == organisation_id and row.organisation_role == OWNER
            )

    def invite(
        self, organisation_id: str, actor_id: str, email: str, role: str, language: str
    ) -> None:
        """E-mail an invitation link to join the organisation with `role` (owners only)."""
        if role not in (OWNER, MEMBER):
            raise Conflict(f"unknown role {role}")
        now = datetime.now(UTC)
        email = email.strip().lower()
        with unit_of_work(self._sessions) as session:
            repository = SqlAlchemyRepository(session)
            actor = self._owner(session, organisation_id, actor_id)
            if repository.member_by_email(email) is not None:
                raise Conflict("an account with this e-mail already exists")
            organisation = repository.get_organisation(organisation_id)
            assert organisation is not None
            link = links.issue(
                session, self._base_url, links.INVITATION, email, organisation_id, now, role=role
            )
            invitee = replace(
                _member_of(actor), email=email, language=language, name="", id=str(uuid.uuid4())
            )
            self._mail(
                repository,
                links.INVITATION,
                email,
                invitee,
                organisation,
                link,
                invited_by=actor.name or actor.email,
            )

    def invitation(self, token: str) -> tuple[str, str, str]:
        """(organisation name, e-mail, role) of a valid invitation, to show its form."""
        with unit_of_work(self._sessions) as session:
            link = links.peek(session, links.INVITATION, token, datetime.now(UTC))
            organisation = session.get(OrganisationRow, link.organisation_id)
            return (organisation.name if organisation else "", link.email, link.role)

    def accept_invitation(self, token: str, name: str, password: str, language: str) -> Member:
        """Join the organisation: a member whose address the invitation confirmed."""
        now = datetime.now(UTC)
        with unit_of_work(self._sessions) as session:
            repository = SqlAlchemyRepository(session)
            link = links.redeem(session, links.INVITATION, token, now)
            if repository.member_by_email(link.email) is not None:
                raise Conflict("an account with this e-mail already exists")
            member = Member(
                email=link.email,
                organisation_id=link.organisation_id,
                password_hash=_HASHER.hash(password),
                name=name,
                language=language,
                email_verified=True,  # the invitation reached this address
                organisation_role=link.role,
            )
            repository.add_member(member)
            session.flush()
            self._publish(repository, link.organisation_id, now)
            return member

    def set_role(self, organisation_id: str, actor_id: str, member_id: str, role: str) -> None:
        """Make a member an owner or a member (owners only; an owner always remains)."""
        if role not in (OWNER, MEMBER):
            raise Conflict(f"unknown role {role}")
        with unit_of_work(self._sessions) as session:
            self._owner(session, organisation_id, actor_id)
            target = self._member_row(session, organisation_id, member_id)
            if role == MEMBER and target.organisation_role == OWNER:
                _keep_an_owner(session, organisation_id, leaving=member_id)
            target.organisation_role = role
            self._publish(SqlAlchemyRepository(session), organisation_id, datetime.now(UTC))

    def remove(self, organisation_id: str, actor_id: str, member_id: str) -> None:
        """Remove a member (owners, or the member themself): their logins end and the
        tokens they created are revoked, in every service on their next request."""
        now = datetime.now(UTC)
        with unit_of_work(self._sessions) as session:
            if member_id != actor_id:
                self._owner(session, organisation_id, actor_id)
            target = self._member_row(session, organisation_id, member_id)
            if target.organisation_role == OWNER:
                _keep_an_owner(session, organisation_id, leaving=member_id)
            session.execute(
                update(ApiTokenRow)
                .where(ApiTokenRow.created_by == member_id, ApiTokenRow.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            session.execute(delete(MemberSessionRow).where(MemberSessionRow.member_id == member_id))
            session.delete(target)
            session.flush()
            self._publish(SqlAlchemyRepository(session), organisation_id, now)

    # --- helpers -------------------------------------------------------------------------

    def _owner(self, session: Session, organisation_id: str, actor_id: str) -> MemberRow:
        actor = session.get(MemberRow, actor_id) if actor_id else None
        if actor is None or actor.organisation_id != organisation_id:
            raise NotFound(actor_id)
        if actor.organisation_role != OWNER:
            raise Forbidden("only an owner of the organisation may do this")
        return actor

    @staticmethod
    def _member_row(session: Session, organisation_id: str, member_id: str) -> MemberRow:
        row = session.get(MemberRow, member_id) if is_id(member_id) else None
        if row is None or row.organisation_id != organisation_id:
            raise NotFound(member_id)
        return row

    @staticmethod
    def _pair(
        repository: SqlAlchemyRepository, organisation_id: str, member_id: str
    ) -> tuple[Organisation, Member]:
        organisation = repository.get_organisation(organisation_id)
        member = next(
            (m for m in repository.members_of(organisation_id) if m.id == member_id), None
        )
        if organisation is None or member is None:
            raise NotFound(member_id)
        return organisation, member

    def _publish(
        self, repository: SqlAlchemyRepository, organisation_id: str, now: datetime
    ) -> Organisation:
        organisation = repository.touch_organisation(organisation_id, now)
        data = organisation_event_data(
            organisation,
            repository.members_of(organisation_id),
            repository.live_token_digests(organisation_id),
        )
        event = Event(type=ORGANISATION_UPDATED, source=SOURCE, subject=organisation_id, data=data)
        repository.add_event(self._topics.organisations, event)
        return organisation

    def _mail(
        self,
        repository: SqlAlchemyRepository,
        kind: str,
        to: str,
        member: Member,
        organisation: Organisation,
        link: links.IssuedLink,
        invited_by: str = "",
    ) -> None:
        data = contracts.AccountMailRequested(
            id=str(uuid.uuid4()),
            kind=kind,
            to=to,
            language=member.language,
            link=link.url,
            expires_at=link.expires_at,
            organisation_id=organisation.id,
            organisation_name=organisation.name,
            member_name=member.name,
            invited_by=invited_by,
        )
        event = Event(
            type=ACCOUNT_MAIL_REQUESTED, source=SOURCE, subject=organisation.id, data=data
        )
        repository.add_event(self._topics.account_mail, event)


def _member_of(row: MemberRow) -> Member:
    return Member(
        email=row.email,
        organisation_id=row.organisation_id,
        password_hash=row.password_hash,
        name=row.name,
        language=row.language,
        role=row.role,
        id=row.id,
        email_verified=row.email_verified,
        organisation_role=row.organisation_role,
    )


def _keep_an_owner(session: Session, organisation_id: str, leaving: str) -> None:
    others = session.scalars(
        select(MemberRow.id).where(
            MemberRow.organisation_id == organisation_id,
            MemberRow.organisation_role == OWNER,
            MemberRow.id != leaving,
        )
    ).first()
    if others is None:
        raise Conflict("the organisation needs an owner: make another member an owner first")
