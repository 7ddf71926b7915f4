"""Delivery outcomes: recorded on the delivery row with their events in the same transaction.

The events go to the `deliveries` topic through an outbox, so an outcome and its event are
never separated by a crash. A dead-lettered delivery is also written to `deliveries.dlq`
with the reason in the usual `dlq.*` headers, where the monitor lists dead letters.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from notifications.preferences import WEBHOOK
from notifications.tables import DeliveryRow, OutboxRow, WebhookEndpointRow
from shared.contracts import DeliveryOutcome
from shared.events import Event, encode_event
from shared.kafka import DLQ_ATTEMPTS, DLQ_CONSUMER, DLQ_ERROR, DLQ_TOPIC
from shared.settings import Topics

SOURCE = "/boucle/notifications"
CONSUMER = "notifier-deliveries"
SENT, FAILED, RETRIED, DEAD_LETTERED, SKIPPED = (
    "sent",
    "failed",
    "retried",
    "dead_lettered",
    "skipped",
)
#: delivery row statuses
PENDING, DONE, GIVEN_UP, CANCELLED = "pending", "sent", "dead_lettered", "cancelled"
#: How a delivery cancelled by a retraction says so: found again, it is planned anew.
RETRACTED_PREFIX = "match retracted: "
#: Where a given-up delivery pointed (a webhook's host), for the monitor's dead-letter pages.
DLQ_TARGET = "dlq.target"


@dataclass(frozen=True)
class OutcomeRecorder:
    """Writes outcomes on delivery rows and their events into the outbox."""

    topic: str

    def sent(self, session: Session, row: DeliveryRow, now: datetime) -> None:
        """The attempt succeeded."""
        row.attempts += 1
        row.status, row.sent_at, row.last_error = DONE, now, None
        self._event(session, row, SENT, row.attempts)

    def failed(
        self, session: Session, row: DeliveryRow, error: str, retry_at: datetime | None
    ) -> None:
        """The attempt failed: retry at `retry_at`, or give up (dead letter) when None."""
        row.attempts += 1
        row.last_error = error[:2000]
        self._event(session, row, FAILED, row.attempts, error, retry_at)
        if retry_at is not None:
            row.next_attempt_at = retry_at
            self._event(session, row, RETRIED, row.attempts + 1, error, retry_at)
            return
        row.status = GIVEN_UP
        event = self._event(session, row, DEAD_LETTERED, row.attempts, error)
        headers = [
            [DLQ_ERROR, error[:2000]],
            [DLQ_ATTEMPTS, str(row.attempts)],
            [DLQ_CONSUMER, CONSUMER],
            [DLQ_TOPIC, self.topic],
        ]
        target = _target(session, row)
        if target:
            headers.append([DLQ_TARGET, target])
        _enqueue(session, Topics.dead_letter(self.topic), event, headers)

    def skipped(self, session: Session, row: DeliveryRow, reason: str) -> None:
        """The delivery will not be made (match retracted, recipient unsubscribed …)."""
        row.status, row.last_error = CANCELLED, reason
        self._event(session, row, SKIPPED, max(row.attempts, 1), reason)

    def _event(
        self,
        session: Session,
        row: DeliveryRow,
        outcome: str,
        attempt: int,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> Event:
        event = Event(
            type=f"boucle.delivery.{outcome}",
            source=SOURCE,
            subject=row.match_id,
            # Deterministic: a re-published outbox row carries the same id, so readers dedupe.
            id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{row.id}/{attempt}/{outcome}")),
            data=DeliveryOutcome(
                delivery_id=row.id,
                match_id=row.match_id,
                organisation_id=row.organisation_id,
                recipient=row.recipient,
                channel=row.channel,
                outcome=outcome,
                attempt=attempt,
                error=error[:500] if error else None,
                next_attempt_at=next_attempt_at,
            ),
        )
        _enqueue(session, self.topic, event)
        return event


def _target(session: Session, row: DeliveryRow) -> str:
    """A webhook endpoint's host (the monitor knows no endpoints; the path may hold a secret)."""
    if row.channel != WEBHOOK:
        return ""
    endpoint = session.get(WebhookEndpointRow, row.recipient)
    if endpoint is None:
        return ""
    parts = urlsplit(endpoint.url)
    return parts.netloc.rpartition("@")[2] if parts.netloc else ""


def _enqueue(
    session: Session, topic: str, event: Event, headers: list[list[str]] | None = None
) -> None:
    session.add(
        OutboxRow(
            topic=topic,
            key=event.subject,
            payload=encode_event(event),
            headers=headers,
            created_at=datetime.now(UTC),
        )
    )
