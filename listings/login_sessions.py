"""Members' logins, kept on the server: who a session cookie or an API token stands for now.

The cookie holds a random session id; the table holds its digest, the member and an expiry.
Every request reads the member's current organisation and role, so logging out, logging out
everywhere, a demotion or a removal holds on the very next request in every service (the
edge asks this question for all of them, ADR 0007).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from listings.tables import MemberRow, MemberSessionRow
from shared.auth import SESSION_LIFETIME, Principal, new_session_id, token_digest
from shared.db import unit_of_work


class LoginSessions:
    """Opens, resolves and ends members' logins."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def open(self, member_id: str, now: datetime) -> str:
        """A new login for the member; the returned id goes into the cookie only."""
        session_id = new_session_id()
        with unit_of_work(self._sessions) as session:
            session.add(
                MemberSessionRow(
                    digest=token_digest(session_id),
                    member_id=member_id,
                    created_at=now,
                    expires_at=now + SESSION_LIFETIME,
                )
            )
        return session_id

    def principal(self, session_id: str, now: datetime) -> Principal | None:
        """The member a live login stands for, with their role as it is now; else None."""
        with unit_of_work(self._sessions) as session:
            found = session.execute(
                select(MemberRow.id, MemberRow.organisation_id, MemberRow.role)
                .join(MemberSessionRow, MemberSessionRow.member_id == MemberRow.id)
                .where(
                    MemberSessionRow.digest == token_digest(session_id),
                    MemberSessionRow.revoked_at.is_(None),
                    MemberSessionRow.expires_at > now,
                )
            ).first()
        if found is None:
            return None
        return Principal(organisation_id=found.organisation_id, user_id=found.id, role=found.role)

    def close(self, session_id: str, now: datetime) -> None:
        """End one login (log-out): the cookie, even if kept, opens nothing any more."""
        with unit_of_work(self._sessions) as session:
            session.execute(
                update(MemberSessionRow)
                .where(
                    MemberSessionRow.digest == token_digest(session_id),
                    MemberSessionRow.revoked_at.is_(None),
                )
                .values(revoked_at=now)
            )

    def close_all(self, member_id: str, now: datetime) -> int:
        """End every login of the member (log out everywhere); how many were open."""
        with unit_of_work(self._sessions) as session:
            return end_logins(session, member_id, now)


def end_logins(session: Session, member_id: str, now: datetime) -> int:
    """End every open login of the member in the caller's transaction; how many there were."""
    result = session.execute(
        update(MemberSessionRow)
        .where(
            MemberSessionRow.member_id == member_id,
            MemberSessionRow.revoked_at.is_(None),
            MemberSessionRow.expires_at > now,
        )
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
