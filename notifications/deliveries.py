"""Planning an alert's deliveries, and planning them again when its match is found anew."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications.alerts import Alert
from notifications.outcomes import CANCELLED, PENDING, RETRACTED_PREFIX
from notifications.preference_store import load_audience
from notifications.preferences import Audience, PlannedDelivery, plan
from notifications.store import ACTIVE, RETRACTED, alert_row
from notifications.tables import AlertRow, DeliveryRow

Lineage = Callable[[str], list[str]]
_AUDIENCES = "audiences read in this transaction"


class DeliveryPlanner:
    """Turns a found alert into its inbox row and the deliveries its audience asked for."""

    def __init__(self, lineage: Lineage, zone: tzinfo) -> None:
        self._lineage = lineage
        self._zone = zone

    def found(
        self, session: Session, alert: Alert, now: datetime, planned: set[tuple[str, str]]
    ) -> None:
        """Store the alert and plan its deliveries; a repeat plans nothing twice.

        Found again after a retraction, the alert is active again and the deliveries the
        retraction cancelled before they were sent are planned anew (quiet hours and
        digests apply as on the first day); what was sent is never sent again.
        """
        row = session.scalar(
            select(AlertRow).where(
                AlertRow.match_id == alert.match_id, AlertRow.listing_id == alert.listing_id
            )
        )
        if row is None:
            row = alert_row(alert, str(uuid.uuid4()), now)
            session.add(row)
        else:
            seen = (row.listing_version or 0, row.counterpart_version or 0)
            now_at = (alert.listing_version, alert.counterpart_version)
            row.listing_version, row.counterpart_version = (
                max(seen[0], now_at[0]),
                max(seen[1], now_at[1]),
            )
            # Found again at the very versions it was retracted at is a late copy, not news.
            if row.status != RETRACTED or now_at == seen:
                return
            row.status, row.retracted_at, row.retraction_reason = ACTIVE, None, None
        for delivery in self._plan(session, alert, now):
            # Two parties sharing an address still get one e-mail per match.
            if (delivery.recipient, delivery.channel) not in planned:
                planned.add((delivery.recipient, delivery.channel))
                self._schedule(session, row, delivery, now)

    def _plan(self, session: Session, alert: Alert, now: datetime) -> list[PlannedDelivery]:
        lineage = [alert.category, *self._lineage(alert.category)]
        # A new listing's matches name its organisation in each of them (dozens in one
        # poll's run): its audience, four queries, is read once per transaction.
        audiences: dict[str, Audience] = session.info.setdefault(_AUDIENCES, {})
        audience = audiences.get(alert.organisation_id)
        if audience is None:
            audience = audiences[alert.organisation_id] = load_audience(
                session, alert.organisation_id
            )
        return plan(audience, lineage, now, self._zone)

    def _schedule(
        self, session: Session, alert: AlertRow, planned: PlannedDelivery, now: datetime
    ) -> None:
        existing = session.scalar(
            select(DeliveryRow).where(
                DeliveryRow.match_id == alert.match_id,
                DeliveryRow.recipient == planned.recipient,
                DeliveryRow.channel == planned.channel,
            )
        )
        if existing is None:
            session.add(new_delivery(alert.match_id, alert.id, alert.organisation_id, planned, now))
        elif existing.status == CANCELLED and (existing.last_error or "").startswith(
            RETRACTED_PREFIX
        ):
            existing.status, existing.last_error = PENDING, None
            existing.alert_id, existing.digest = alert.id, planned.digest
            existing.next_attempt_at = planned.due_at


def new_delivery(
    match_id: str,
    alert_id: str,
    organisation_id: str,
    planned: PlannedDelivery,
    now: datetime,
    kind: str = "match",
) -> DeliveryRow:
    """A pending delivery as planned. For an exchange notice (kind "exchange") the notice's
    id stands in both `match_id` and `alert_id`: one delivery per notice and recipient."""
    return DeliveryRow(
        id=str(uuid.uuid4()),
        kind=kind,
        match_id=match_id,
        alert_id=alert_id,
        organisation_id=organisation_id,
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
