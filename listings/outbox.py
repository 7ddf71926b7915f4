"""The outbox relay: publishes queued events to Kafka in order, then marks them sent.

A broker that is down leaves the rows in place; the relay retries with a growing pause, so
events are delayed, never lost. Rows are marked sent only after the broker acknowledged them
(acks=all), which may publish a row twice after a crash: consumers are idempotent.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from listings.tables import OutboxRow
from shared.db import unit_of_work
from shared.kafka import KafkaPublisher

log = logging.getLogger(__name__)


class OutboxRelay:
    """Moves outbox rows to Kafka, oldest first."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        publisher: KafkaPublisher,
        batch_size: int = 200,
        send_timeout_s: float = 15.0,
    ) -> None:
        self._sessions = sessions
        self._publisher = publisher
        self._batch_size = batch_size
        self._send_timeout_s = send_timeout_s

    def relay_once(self) -> int:
        """Publish one batch of pending rows; returns how many were marked sent."""
        with unit_of_work(self._sessions) as session:
            rows = session.execute(
                select(OutboxRow.id, OutboxRow.topic, OutboxRow.key, OutboxRow.payload)
                .where(OutboxRow.sent_at.is_(None))
                .order_by(OutboxRow.id)
                .limit(self._batch_size)
            ).all()
        if not rows:
            return 0
        futures = [
            (row.id, self._publisher.publish_raw(row.topic, row.key.encode(), row.payload))
            for row in rows
        ]
        self._publisher.flush(timeout_s=self._send_timeout_s)
        sent: list[int] = []
        for row_id, future in futures:
            # Stop at the first failure: later rows stay pending so order is kept on retry.
            if not future.is_done or future.failed():
                break
            sent.append(row_id)
        if sent:
            with unit_of_work(self._sessions) as session:
                session.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id.in_(sent))
                    .values(sent_at=datetime.now(UTC))
                )
        if len(sent) < len(futures):
            failed = futures[len(sent)][1]
            raise RuntimeError(
                f"outbox publish failed: {failed.exception if failed.is_done else 'timeout'}"
            )
        return len(sent)

    def pending(self) -> int:
        """How many events wait to be published (the outbox backlog)."""
        with unit_of_work(self._sessions) as session:
            return (
                session.scalar(
                    select(func.count()).select_from(OutboxRow).where(OutboxRow.sent_at.is_(None))
                )
                or 0
            )

    def run(self, stop: threading.Event, poll_interval_s: float = 0.2) -> None:
        """Relay until `stop` is set; back off up to 10 s while the broker is unreachable."""
        pause = poll_interval_s
        while not stop.is_set():
            try:
                moved = self.relay_once()
                pause = poll_interval_s
                if moved:
                    continue
            except Exception as exc:
                log.warning("outbox relay waiting for Kafka: %s", exc)
                self._publisher.reset()
                pause = min(pause * 2, 10.0)
            stop.wait(pause)
