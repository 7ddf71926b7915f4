"""What the notifier does with a match event: alerts and planned deliveries, in one transaction."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from notifications.alerts import Alert, alerts_for_match
from notifications.outcomes import PENDING, OutcomeRecorder
from notifications.preference_store import load_audience
from notifications.preferences import PlannedDelivery, plan
from notifications.store import ACTIVE, RETRACTED, alert_row
from notifications.tables import AlertRow, DeliveryRow, processed_events
from shared.db import unit_of_work
from shared.event_schemas import MATCH_FOUND, MATCH_RETRACTED
from shared.events import Event
from shared.tracking import claim_event

log = logging.getLogger(__name__)
CONSUMER = "notifier"

Lineage = Callable[[str], list[str]]
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class MatchAlertHandler:
    """Found: one alert per party and its deliveries. Retracted: alerts marked, sends cancelled.

    The event id is claimed in the same transaction, and deliveries are unique per (match,
    recipient, channel): a re-delivered event changes nothing.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        recorder: OutcomeRecorder,
        lineage: Lineage,
        zone: tzinfo,
        clock: Clock = _now,
    ) -> None:
        self._sessions = sessions
        self._recorder = recorder
        self._lineage = lineage
        self._zone = zone
        self._clock = clock

    def __call__(self, event: Event) -> None:
        if event.type not in (MATCH_FOUND, MATCH_RETRACTED):
            return
        with unit_of_work(self._sessions) as session:
            if not claim_event(session, processed_events, CONSUMER, event.id):
                log.info("event already handled", extra={"event_id": event.id})
                return
            if event.type == MATCH_FOUND:
                planned: set[tuple[str, str]] = set()
                for alert in alerts_for_match(event.data):
                    self._found(session, alert, planned)
                log.info(
                    "match %s: %d deliveries planned",
                    event.subject,
                    len(planned),
                    extra={"event_id": event.id},
                )
            else:
                reason = event.data.get("retraction_reason") or "match retracted"
                self._retracted(session, event.data["match_id"], reason)
                log.info("match %s retracted", event.subject, extra={"event_id": event.id})

    def _found(self, session: Session, alert: Alert, planned: set[tuple[str, str]]) -> None:
        existing = session.scalar(
            select(AlertRow).where(
                AlertRow.match_id == alert.match_id, AlertRow.listing_id == alert.listing_id
            )
        )
        if existing is not None:
            # Found again after a retraction: available again, but never alerted twice.
            existing.status, existing.retracted_at = ACTIVE, None
            return
        now = self._clock()
        row = alert_row(alert, str(uuid.uuid4()), now)
        session.add(row)
        deliveries = plan(
            load_audience(session, alert.organisation_id),
            [alert.category, *self._lineage(alert.category)],
            now,
            self._zone,
        )
        for delivery in deliveries:
            # Two parties sharing an address still get one e-mail per match.
            if (delivery.recipient, delivery.channel) not in planned:
                planned.add((delivery.recipient, delivery.channel))
                session.add(_delivery(row, delivery, now))

    def _retracted(self, session: Session, match_id: str, reason: str) -> None:
        now = self._clock()
        for alert in session.scalars(select(AlertRow).where(AlertRow.match_id == match_id)):
            alert.status, alert.retracted_at = RETRACTED, now
            alert.retraction_reason = reason[:200]
        pending = session.scalars(
            select(DeliveryRow)
            .where(DeliveryRow.match_id == match_id, DeliveryRow.status == PENDING)
            .with_for_update()
        )
        for delivery in pending:
            self._recorder.skipped(session, delivery, f"match retracted: {reason}")


def _delivery(alert: AlertRow, planned: PlannedDelivery, now: datetime) -> DeliveryRow:
    return DeliveryRow(
        id=str(uuid.uuid4()),
        match_id=alert.match_id,
        alert_id=alert.id,
        organisation_id=alert.organisation_id,
        recipient=planned.recipient,
        subscriber=planned.subscriber,
        channel=planned.channel,
        language=planned.language,
        digest=planned.digest,
        status=PENDING,
        attempts=0,
        next_attempt_at=planned.due_at,
        created_at=now,
    )
