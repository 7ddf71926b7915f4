"""What the notifier does with an exchange step: a notice for each organisation to tell,
in its inbox, and an e-mail to each person who takes them (in their language)."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications.deliveries import new_delivery
from notifications.exchange_notices import recipients
from notifications.preference_store import load_audience
from notifications.preferences import plan_conversation
from notifications.tables import ExchangeNoticeRow, OrganisationRow
from shared.contracts import ExchangeChanged

log = logging.getLogger(__name__)
EXCHANGE = "exchange"


class ExchangeNotices:
    """Stores notices and plans their e-mails, within the caller's transaction."""

    def __init__(self, zone: tzinfo) -> None:
        self._zone = zone

    def handle(self, session: Session, exchange: ExchangeChanged, step: str, now: datetime) -> None:
        """Tell each organisation concerned of `step` (a repeat adds nothing)."""
        author = session.get(OrganisationRow, exchange.author_organisation_id or "")
        told = recipients(exchange, step)
        for organisation_id in told:
            if self._told(session, exchange, step, organisation_id):
                continue
            notice = _notice(exchange, step, organisation_id, author.name if author else "", now)
            session.add(notice)
            audience = load_audience(session, organisation_id)
            for planned in plan_conversation(audience, now, self._zone):
                new = new_delivery(notice.id, notice.id, organisation_id, planned, now, EXCHANGE)
                session.add(new)
        log.info("exchange %s %s: told %s", exchange.id, step, told)

    def _told(
        self, session: Session, exchange: ExchangeChanged, step: str, organisation_id: str
    ) -> bool:
        return (
            session.scalar(
                select(ExchangeNoticeRow.id).where(
                    ExchangeNoticeRow.exchange_id == exchange.id,
                    ExchangeNoticeRow.version == exchange.version,
                    ExchangeNoticeRow.step == step,
                    ExchangeNoticeRow.organisation_id == organisation_id,
                )
            )
            is not None
        )


def _notice(
    exchange: ExchangeChanged, step: str, organisation_id: str, author: str, now: datetime
) -> ExchangeNoticeRow:
    return ExchangeNoticeRow(
        id=str(uuid.uuid4()),
        exchange_id=exchange.id,
        version=exchange.version,
        step=step,
        organisation_id=organisation_id,
        author_organisation_id=exchange.author_organisation_id,
        author_name=author[:200],
        listing_title=exchange.listing_title[:200],
        quantity=exchange.quantity,
        unit=exchange.unit,
        status=exchange.status,
        message=exchange.message,
        created_at=now,
    )
