"""Alerts in the notifier's database; recording is idempotent per (match, listing)."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from notifications.alerts import Alert
from notifications.tables import AlertRow
from shared.db import unit_of_work


class AlertStore:
    """Records alerts and reads them back per listing."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def record(self, alerts: list[Alert]) -> int:
        """Store the alerts not stored yet, in one transaction; returns how many were new."""
        added = 0
        with unit_of_work(self._sessions) as session:
            for alert in alerts:
                exists = session.scalar(
                    select(AlertRow.id).where(
                        AlertRow.match_id == alert.match_id,
                        AlertRow.listing_id == alert.listing_id,
                    )
                )
                if exists is None:
                    session.add(
                        AlertRow(
                            id=str(uuid.uuid4()),
                            created_at=datetime.now(UTC),
                            status="active",
                            **asdict(alert),
                        )
                    )
                    added += 1
        return added

    def for_listing(self, listing_id: str) -> list[AlertRow]:
        """Alerts about one listing, newest first."""
        with unit_of_work(self._sessions) as session:
            return list(
                session.scalars(
                    select(AlertRow)
                    .where(AlertRow.listing_id == listing_id)
                    .order_by(AlertRow.created_at.desc(), AlertRow.id)
                )
            )
