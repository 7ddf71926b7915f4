"""The delivery worker: picks due deliveries, attempts them, records every outcome.

Each delivery is attempted inside the transaction that locked its row (SKIP LOCKED, so
several workers share the work): if the process dies mid-attempt the lock goes with it and
the row is due again at once. A failure is retried later with backoff, never by waiting here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, sessionmaker

from notifications.alerts import Alert
from notifications.exchange_handler import EXCHANGE
from notifications.exchange_notices import ExchangeNotice, notice_from_row
from notifications.jobs import Job, Sender, addressed
from notifications.outcomes import PENDING, RETRACTED_PREFIX, OutcomeRecorder
from notifications.retry import DeliveryError, RetryPolicy
from notifications.store import RETRACTED, alert_from_row
from notifications.tables import AlertRow, DeliveryRow, ExchangeNoticeRow
from shared.db import unit_of_work

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class DeliveryWorker:
    """Runs due deliveries through the sender of their channel."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        senders: Mapping[str, Sender],
        recorder: OutcomeRecorder,
        policy: RetryPolicy,
        clock: Callable[[], datetime] = _now,
        poll_interval_s: float = 0.5,
        batch: int = 50,
    ) -> None:
        self._sessions = sessions
        self._senders = senders
        self._recorder = recorder
        self._policy = policy
        self._clock = clock
        self._poll = poll_interval_s
        self._batch = batch

    def run(self, stop: threading.Event) -> None:
        """Deliver until `stop` is set (outcome events leave through the outbox relay)."""
        log.info("delivery worker started")
        while not stop.is_set():
            handled = 0
            try:
                handled = self.run_once()
            except Exception:
                # The database is away: everything waits in tables, try again.
                log.exception("delivery worker turn failed")
            if not handled:
                stop.wait(self._poll)

    def run_once(self) -> int:
        """Attempt up to one batch of due deliveries; returns how many rows were handled."""
        handled = 0
        while handled < self._batch:
            done = self._deliver_next()
            if not done:
                break
            handled += done
        return handled

    def send_digests_now(self) -> int:
        """Make every waiting digest due now (on demand, e.g. in tests or by an operator)."""
        with unit_of_work(self._sessions) as session:
            result = session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.status == PENDING, DeliveryRow.digest.is_(True))
                .values(next_attempt_at=self._clock())
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def _deliver_next(self) -> int:
        now = self._clock()
        with unit_of_work(self._sessions) as session:
            row = session.scalars(_due(now).limit(1)).first()
            if row is None:
                return 0
            if row.kind == EXCHANGE:
                self._attempt_notice(session, row)
                return 1
            group = [row, *self._digest_companions(session, row, now)]
            live = self._still_live(session, group)
            if live:
                self._attempt(session, live)
            return len(group)

    def _digest_companions(
        self, session: Session, row: DeliveryRow, now: datetime
    ) -> list[DeliveryRow]:
        if not row.digest:
            return []
        query = _due(now).where(
            DeliveryRow.digest.is_(True),
            DeliveryRow.channel == row.channel,
            DeliveryRow.recipient == row.recipient,
            DeliveryRow.id != row.id,
        )
        return list(session.scalars(query.limit(200)))

    def _still_live(
        self, session: Session, group: list[DeliveryRow]
    ) -> list[tuple[DeliveryRow, Alert]]:
        alerts = {
            alert.id: alert
            for alert in session.scalars(
                select(AlertRow).where(AlertRow.id.in_([r.alert_id for r in group]))
            )
        }
        live = []
        for row in group:
            alert = alerts.get(row.alert_id)
            if alert is None or alert.status == RETRACTED:
                self._recorder.skipped(session, row, f"{RETRACTED_PREFIX}before it was sent")
            else:
                live.append((row, alert_from_row(alert)))
        return live

    def _attempt_notice(self, session: Session, row: DeliveryRow) -> None:
        notice = session.get(ExchangeNoticeRow, row.alert_id)
        if notice is None:
            self._recorder.skipped(session, row, "exchange notice gone")
            return
        self._send(session, [row], _job(row, [row], notice=notice_from_row(notice)))

    def _attempt(self, session: Session, pairs: list[tuple[DeliveryRow, Alert]]) -> None:
        live = [row for row, _ in pairs]
        self._send(session, live, _job(live[0], live, alerts=[alert for _, alert in pairs]))

    def _send(self, session: Session, live: list[DeliveryRow], job: Job) -> None:
        first = live[0]
        job, unwanted = addressed(session, job)
        if unwanted:
            for row in live:
                self._recorder.skipped(session, row, unwanted)
            return
        try:
            self._senders[first.channel](job)
        except DeliveryError as exc:
            self._failed(session, live, exc)
        except Exception as exc:
            # A fault in a sender must cost one delivery an attempt, not stop the worker.
            log.exception("sender for %s failed unexpectedly", first.channel)
            self._failed(session, live, DeliveryError(f"{type(exc).__name__}: {exc}"))
        else:
            now = self._clock()
            for row in live:
                self._recorder.sent(session, row, now)
            log.info("delivered %s to %s (%d alerts)", first.channel, first.recipient, len(live))

    def _failed(self, session: Session, live: list[DeliveryRow], error: DeliveryError) -> None:
        delay = None if error.permanent else self._policy.delay_after(live[0].attempts + 1)
        retry_at = self._clock() + timedelta(seconds=delay) if delay is not None else None
        log.warning("delivery %s failed (%s); retry at %s", live[0].id, error.reason, retry_at)
        for row in live:
            self._recorder.failed(session, row, error.reason, retry_at)


def _job(
    first: DeliveryRow,
    live: list[DeliveryRow],
    alerts: list[Alert] | None = None,
    notice: ExchangeNotice | None = None,
) -> Job:
    return Job(
        delivery_id=first.id,
        channel=first.channel,
        recipient=first.recipient,
        organisation_id=first.organisation_id,
        subscriber=first.subscriber,
        language=first.language,
        attempt=first.attempts + 1,
        alerts=alerts or [],
        digest=first.digest,
        delivery_ids=[row.id for row in live],
        notice=notice,
    )


def _due(now: datetime) -> Select[DeliveryRow]:
    return (
        select(DeliveryRow)
        .where(DeliveryRow.status == PENDING, DeliveryRow.next_attempt_at <= now)
        .order_by(DeliveryRow.next_attempt_at, DeliveryRow.id)
        .with_for_update(skip_locked=True)
    )
