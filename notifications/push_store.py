"""Members' push subscriptions in the notifier's database."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from notifications.tables import PushSubscriptionRow
from shared.db import unit_of_work


def subscribe(
    session: Session,
    organisation_id: str,
    member_id: str,
    endpoint: str,
    keys: tuple[str, str],
    language: str,
    device: str = "",
) -> PushSubscriptionRow:
    """Store a browser's subscription (its endpoint already checked). The same browser
    subscribing again, even for another member, replaces what was stored for it."""
    row = session.scalar(
        select(PushSubscriptionRow).where(PushSubscriptionRow.endpoint == endpoint)
    )
    if row is None:
        row = PushSubscriptionRow(id=str(uuid.uuid4()), endpoint=endpoint)
        session.add(row)
    row.organisation_id, row.member_id = organisation_id, member_id
    row.p256dh, row.auth = keys
    row.language, row.device = language, device[:200]
    row.created_at = datetime.now(UTC)
    return row


def unsubscribe(session: Session, organisation_id: str, member_id: str, key: str) -> bool:
    """Forget one of the member's browsers, named by its id or its endpoint."""
    result = session.execute(
        delete(PushSubscriptionRow).where(
            PushSubscriptionRow.organisation_id == organisation_id,
            PushSubscriptionRow.member_id == member_id,
            (PushSubscriptionRow.id == key) | (PushSubscriptionRow.endpoint == key),
        )
    )
    return bool(getattr(result, "rowcount", 0))


def devices_of(session: Session, organisation_id: str, member_id: str) -> list[PushSubscriptionRow]:
    """A member's subscribed browsers, oldest first."""
    return list(
        session.scalars(
            select(PushSubscriptionRow)
            .where(
                PushSubscriptionRow.organisation_id == organisation_id,
                PushSubscriptionRow.member_id == member_id,
            )
            .order_by(PushSubscriptionRow.created_at)
        )
    )


def subscriptions_by_member(
    session: Session, organisation_id: str
) -> dict[str, list[tuple[str, str]]]:
    """member id -> (subscription id, language) of their browsers, for planning an alert."""
    rows = session.execute(
        select(PushSubscriptionRow.member_id, PushSubscriptionRow.id, PushSubscriptionRow.language)
        .where(PushSubscriptionRow.organisation_id == organisation_id)
        .order_by(PushSubscriptionRow.created_at)
    )
    found: dict[str, list[tuple[str, str]]] = {}
    for member_id, subscription_id, language in rows:
        found.setdefault(member_id, []).append((subscription_id, language))
    return found


def forgetter(sessions: sessionmaker[Session]) -> Callable[[str], None]:
    """Deletes a subscription its push service said is gone (in a transaction of its own)."""

    def forget(subscription_id: str) -> None:
        with unit_of_work(sessions) as session:
            session.execute(
                delete(PushSubscriptionRow).where(PushSubscriptionRow.id == subscription_id)
            )

    return forget
