"""Erasing an organisation that left Boucle from the notifier's tables.

Kept, for aggregate statistics only: per day, category and side (offer or need), how many
alerts it received and how many of them were e-mailed (ErasedAlertTally) — no organisation,
listing, address or name. Erased: its projection row and API token digests, its alerts and
their read marks, its deliveries (addresses, webhook ids), its exchange notices, its
preferences, webhook endpoints (with their secrets) and push subscriptions: every table
with an `organisation_id` column. Other organisations keep their own
alerts and notices, with the erased organisation's name and id blanked out of them.
Idempotent: replaying the organisations topic erases again and finds nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from notifications.outcomes import SENT
from notifications.preferences import EMAIL
from notifications.tables import (
    AlertReadRow,
    AlertRow,
    Base,
    DeliveryRow,
    ErasedAlertTally,
    ExchangeNoticeRow,
    OrganisationRow,
)

log = logging.getLogger(__name__)


def erase_organisation(session: Session, organisation_id: str) -> int:
    """Erase what the notifier holds about the organisation; returns how many rows went."""
    _tally(session, organisation_id)
    alert_ids = select(AlertRow.id).where(AlertRow.organisation_id == organisation_id)
    erased = _count(
        session.execute(delete(AlertReadRow).where(AlertReadRow.alert_id.in_(alert_ids)))
    )
    # Every table keyed by the organisation, also those added later (push subscriptions):
    # an erasure that has to be told about each new table will one day forget one.
    for table in reversed(Base.metadata.sorted_tables):
        if "organisation_id" in table.c and table.name != AlertRow.__tablename__:
            erased += _count(
                session.execute(delete(table).where(table.c.organisation_id == organisation_id))
            )
    erased += _count(
        session.execute(delete(AlertRow).where(AlertRow.organisation_id == organisation_id))
    )
    erased += _count(
        session.execute(delete(OrganisationRow).where(OrganisationRow.id == organisation_id))
    )
    # What others hold about it: who the other side of a match or an exchange was.
    session.execute(
        update(AlertRow)
        .where(AlertRow.counterpart_organisation_id == organisation_id)
        .values(counterpart_organisation_id=None, counterpart_organisation_name="")
    )
    session.execute(
        update(ExchangeNoticeRow)
        .where(ExchangeNoticeRow.author_organisation_id == organisation_id)
        .values(author_organisation_id=None, author_name="")
    )
    log.info("organisation %s erased (%d rows)", organisation_id, erased)
    return erased


def _tally(session: Session, organisation_id: str) -> None:
    # Counted in Python: dates cast to text differently on PostgreSQL and SQLite.
    alerts: Counter[tuple[str, str, str]] = Counter()
    emailed: Counter[tuple[str, str, str]] = Counter()
    rows = session.execute(
        select(AlertRow.id, AlertRow.created_at, AlertRow.category, AlertRow.role)
        .where(AlertRow.organisation_id == organisation_id)
        # Locked: another notifier erasing the same organisation at once counts nothing twice.
        .with_for_update()
    ).all()
    sent = set(
        session.scalars(
            select(DeliveryRow.alert_id).where(
                DeliveryRow.organisation_id == organisation_id,
                DeliveryRow.channel == EMAIL,
                DeliveryRow.status == SENT,
            )
        )
    )
    for alert_id, created_at, category, role in rows:
        key = (created_at.date().isoformat(), category, role)
        alerts[key] += 1
        emailed[key] += alert_id in sent
    for key, count in alerts.items():
        _add(session, key, count, emailed[key])


def _add(session: Session, key: tuple[str, str, str], alerts: int, emailed: int) -> None:
    tally = session.get(ErasedAlertTally, key, with_for_update=True)
    if tally is None:
        try:
            with session.begin_nested():
                day, category, role = key
                session.add(
                    ErasedAlertTally(
                        day=day, category=category, role=role, alerts=alerts, emails_sent=emailed
                    )
                )
            return
        except IntegrityError:  # another erasure created it meanwhile: add to theirs
            tally = session.get(ErasedAlertTally, key, with_for_update=True, populate_existing=True)
            assert tally is not None
    tally.alerts += alerts
    tally.emails_sent += emailed


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
