"""The transactional outbox: a service writes its events in the same transaction as the
change they report; a relay publishes them to Kafka in order and marks them sent.

A broker that is down leaves the rows in place and the relay retries with a growing pause,
so events are delayed, never lost. A row is marked only after the broker acknowledged it
(acks=all); a crash in between publishes it twice, which idempotent consumers absorb.

Sent rows are kept for a retention period (for inspection), then purged by the relay itself,
so the table stays bounded; unsent rows are never purged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import JSON, CursorResult, Integer, LargeBinary, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from shared.db import UtcDateTime, unit_of_work
from shared.kafka import KafkaPublisher

log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class OutboxColumns:
    """Columns of an outbox table: `class OutboxRow(OutboxColumns, Base)` in each service."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[list[list[str]] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)


class OutboxRelay:
    """Moves one service's outbox rows to Kafka, oldest first."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        publisher: KafkaPublisher,
        table: type[Any],
        batch_size: int = 200,
        send_timeout_s: float = 15.0,
        retention: timedelta = timedelta(days=7),
        purge_interval_s: float = 3600.0,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._sessions = sessions
        self._publisher = publisher
        self._table = table
        self._batch_size = batch_size
        self._send_timeout_s = send_timeout_s
        self._retention = retention
        self._purge_interval_s = purge_interval_s
        self._clock = clock
        self._next_purge = float("-inf")  # monotonic time of the next purge: at once on start

    def relay_once(self) -> int:
        """Publish one batch of pending rows; returns how many were marked sent."""
        table, sent, failure = self._table, 0, None
        with unit_of_work(self._sessions) as session:
            # Locked until marked: a second relay waits rather than reordering events.
            rows = session.scalars(
                select(table)
                .where(table.sent_at.is_(None))
                .order_by(table.id)
                .limit(self._batch_size)
                .with_for_update()
            ).all()
            futures = [(row, self._send(row)) for row in rows]
            self._publisher.flush(timeout_s=self._send_timeout_s)
            now = self._clock()
            for row, future in futures:
                if not future.is_done or future.failed():
                    # Stop at the first failure: later rows stay pending so order is kept.
                    failure = future.exception if future.is_done else "no answer in time"
                    break
                row.sent_at = now
                sent += 1
        if failure is not None:
            raise RuntimeError(f"outbox publish failed after {sent} events: {failure}")
        return sent

    def _send(self, row: Any) -> Any:
        headers = [(name, value.encode()) for name, value in row.headers or []]
        # An empty payload is a tombstone: published as a null value, which compaction
        # reads as "forget this key".
        value = row.payload or None
        return self._publisher.publish_raw(row.topic, row.key.encode(), value, headers)

    def pending(self) -> int:
        """How many events wait to be published (the outbox backlog)."""
        table = self._table
        with unit_of_work(self._sessions) as session:
            query = select(func.count()).select_from(table).where(table.sent_at.is_(None))
            return session.scalar(query) or 0

    def purge_sent(
        self, older_than: timedelta, now: datetime | None = None, batch: int = 5000
    ) -> int:
        """Delete rows sent more than `older_than` ago, in batches; returns how many went."""
        if batch < 1:
            raise ValueError("batch must be at least 1")
        cutoff = (now or self._clock()) - older_than
        deleted = 0
        while True:
            # One short transaction per batch: locks and WAL stay small, and the relay
            # (which only locks unsent rows) is never blocked for long.
            count = self._purge_batch(cutoff, batch)
            deleted += count
            if count < batch:
                return deleted

    def _purge_batch(self, cutoff: datetime, batch: int) -> int:
        table = self._table
        oldest = (
            select(table.id)
            .where(table.sent_at.is_not(None), table.sent_at < cutoff)
            .limit(batch)
            .scalar_subquery()
        )
        statement = (
            delete(table).where(table.id.in_(oldest)).execution_options(synchronize_session=False)
        )
        with unit_of_work(self._sessions) as session:
            return cast(CursorResult[Any], session.execute(statement)).rowcount

    def run(self, stop: threading.Event, poll_interval_s: float = 0.2) -> None:
        """Relay until `stop` is set; back off up to 10 s while the broker is unreachable.

        Sent rows older than the retention are purged on the way, at most every
        `purge_interval_s`.
        """
        pause = poll_interval_s
        while not stop.is_set():
            self._purge_if_due()
            try:
                moved = self.relay_once()
                pause = poll_interval_s
            except Exception as exc:
                log.warning("outbox relay waiting for Kafka: %s", exc)
                self._publisher.reset()
                moved, pause = 0, min(pause * 2, 10.0)
            if not moved:
                stop.wait(pause)

    def _purge_if_due(self) -> None:
        if time.monotonic() < self._next_purge:
            return
        # Due again one interval from now even if it fails: a database that refuses the purge
        # is not asked again on every round of the relay.
        self._next_purge = time.monotonic() + self._purge_interval_s
        try:
            deleted = self.purge_sent(self._retention)
        except Exception:
            log.exception("outbox purge failed; retrying in %.0f s", self._purge_interval_s)
            return
        log.info("outbox purge: %d sent rows older than %s deleted", deleted, self._retention)
