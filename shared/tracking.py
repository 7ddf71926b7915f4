"""Idempotent consumers: record each handled event in the same transaction as its effect.

Offsets are committed after the handler, so a crash re-delivers the uncommitted tail. A
handler that claims the event id in its own transaction sees the re-delivery as already
done and skips it: at-least-once delivery, effectively-once effects.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, MetaData, String, Table, select
from sqlalchemy.orm import Session


def processed_events_table(metadata: MetaData) -> Table:
    """The tracking table, declared in a service's own metadata (each service owns its own)."""
    return Table(
        "processed_events",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", String(200), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )


def claim_event(session: Session, table: Table, consumer: str, event_id: str) -> bool:
    """True if this consumer has not handled the event yet (and now has, once committed)."""
    seen = session.execute(
        select(table.c.event_id).where(table.c.consumer == consumer, table.c.event_id == event_id)
    ).first()
    if seen is not None:
        return False
    session.execute(
        table.insert().values(consumer=consumer, event_id=event_id, processed_at=datetime.now(UTC))
    )
    return True
