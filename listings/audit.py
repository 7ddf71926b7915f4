"""The audit log: what admins (and owners, on their organisation's people) did, and when."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from listings.tables import AuditRow
from shared.auth import Principal
from shared.db import unit_of_work


class AuditLog:
    """Records moderation actions and reads the newest ones back."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def record(self, actor: Principal, action: str, subject: str, detail: str = "") -> None:
        """One entry: who (member and organisation), what, on which object, and why."""
        with unit_of_work(self._sessions) as session:
            session.add(
                AuditRow(
                    id=str(uuid.uuid4()),
                    at=datetime.now(UTC),
                    actor_id=actor.user_id or "",
                    actor_organisation_id=actor.organisation_id,
                    action=action,
                    subject=subject,
                    detail=detail,
                )
            )

    def recent(self, limit: int = 200) -> list[AuditRow]:
        """The newest entries first."""
        with unit_of_work(self._sessions) as session:
            rows = session.scalars(select(AuditRow).order_by(AuditRow.at.desc()).limit(limit))
            return list(rows)
