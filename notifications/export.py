"""Everything the notifier holds about one organisation, as plain JSON-ready data (GDPR export).

Secrets are left out: webhook signing secrets, and the API token digests of the projection.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import DeclarativeBase, Session

from notifications.tables import (
    AlertReadRow,
    AlertRow,
    DeliveryRow,
    ExchangeNoticeRow,
    PreferenceRow,
    WebhookEndpointRow,
)

#: Columns never exported.
SECRET_COLUMNS = {"webhook_endpoints": {"secret"}}


def row_dict(row: DeclarativeBase) -> dict[str, Any]:
    """A row's columns as JSON values (dates in ISO 8601), secrets left out."""
    hidden = SECRET_COLUMNS.get(str(getattr(row, "__tablename__", "")), set())
    values: dict[str, Any] = {}
    for column in inspect(type(row)).column_attrs:
        if column.key in hidden:
            continue
        value = getattr(row, column.key)
        values[column.key] = value.isoformat() if isinstance(value, datetime) else value
    return values


def export_organisation(session: Session, organisation_id: str, now: datetime) -> dict[str, Any]:
    """The organisation's alerts (with its members' read marks), deliveries, exchange
    notices, notification preferences and webhook endpoints."""

    def rows(query: Any) -> list[dict[str, Any]]:
        return [row_dict(row) for row in session.scalars(query)]

    mine = AlertRow.organisation_id == organisation_id
    return {
        "organisation_id": organisation_id,
        "exported_at": now.isoformat(),
        "alerts": rows(select(AlertRow).where(mine).order_by(AlertRow.created_at)),
        "alert_reads": rows(
            select(AlertReadRow)
            .join(AlertRow, AlertRow.id == AlertReadRow.alert_id)
            .where(mine)
            .order_by(AlertReadRow.read_at)
        ),
        "deliveries": rows(
            select(DeliveryRow)
            .where(DeliveryRow.organisation_id == organisation_id)
            .order_by(DeliveryRow.created_at)
        ),
        "exchange_notices": rows(
            select(ExchangeNoticeRow)
            .where(ExchangeNoticeRow.organisation_id == organisation_id)
            .order_by(ExchangeNoticeRow.created_at)
        ),
        "preferences": rows(
            select(PreferenceRow)
            .where(PreferenceRow.organisation_id == organisation_id)
            .order_by(PreferenceRow.member_id)
        ),
        "webhooks": rows(
            select(WebhookEndpointRow)
            .where(WebhookEndpointRow.organisation_id == organisation_id)
            .order_by(WebhookEndpointRow.created_at)
        ),
    }
