"""Publishes the notifier's outbox rows (delivery outcomes) in order, then marks them sent."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from notifications.tables import OutboxRow
from shared.db import unit_of_work
from shared.kafka import KafkaPublisher

log = logging.getLogger(__name__)


class OutboxRelay:
    """Sends unpublished rows with acks=all; a row is marked only once the broker has it."""

    def __init__(
        self, sessions: sessionmaker[Session], publisher: KafkaPublisher, batch: int = 200
    ) -> None:
        self._sessions = sessions
        self._publisher = publisher
        self._batch = batch

    def publish_pending(self) -> int:
        """Publish one batch; returns how many rows went out."""
        with unit_of_work(self._sessions) as session:
            rows = list(
                session.scalars(
                    select(OutboxRow)
                    .where(OutboxRow.published_at.is_(None))
                    .order_by(OutboxRow.id)
                    .limit(self._batch)
                    .with_for_update(skip_locked=True)
                )
            )
            if not rows:
                return 0
            try:
                futures = [self._send(row) for row in rows]
                for future in futures:
                    future.get(timeout=30)
            except Exception:
                # The rows stay unpublished and go out on a later turn, possibly twice:
                # event ids are deterministic, so readers can tell.
                self._publisher.reset()
                raise
            now = datetime.now(UTC)
            for row in rows:
                row.published_at = now
        log.debug("published %d delivery events", len(rows))
        return len(rows)

    def _send(self, row: OutboxRow) -> Any:
        headers = [(name, value.encode()) for name, value in row.headers or []]
        return self._publisher.publish_raw(row.topic, row.key.encode(), row.value, headers)
