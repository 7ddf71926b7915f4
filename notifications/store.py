"""Alerts in the notifier's database: the inbox of each organisation, read and unread.

Read state is per member (AlertReadRow): one member reading an alert leaves it unread for
a colleague. A call without a member (an API token: it stands for the organisation, not a
person) keeps the organisation-wide read mark of the alert row, as before members existed.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Select, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from notifications.alerts import Alert
from notifications.tables import AlertReadRow, AlertRow, ExchangeNoticeRow
from shared.db import unit_of_work

ACTIVE, RETRACTED = "active", "retracted"


#: Column widths: the match contract bounds no text, so a long one is cut, not refused.
_WIDTHS = {
    "counterpart_title": 200,
    "own_title": 200,
    "counterpart_place": 200,
    "category": 100,
    "counterpart_organisation_name": 200,
}


def alert_row(alert: Alert, alert_id: str, now: datetime) -> AlertRow:
    """A new inbox row for an alert."""
    values = asdict(alert)
    for name, width in _WIDTHS.items():
        if isinstance(values[name], str):
            values[name] = values[name][:width]
    return AlertRow(id=alert_id, created_at=now, status=ACTIVE, **values)


def alert_from_row(row: AlertRow) -> Alert:
    """The plain alert a row holds."""
    return Alert(
        match_id=row.match_id,
        listing_id=row.listing_id,
        organisation_id=row.organisation_id,
        role=row.role,
        counterpart_listing_id=row.counterpart_listing_id,
        counterpart_title=row.counterpart_title,
        category=row.category,
        quantity=row.quantity,
        unit=row.unit,
        distance_km=row.distance_km,
        score=row.score,
        own_title=row.own_title,
        counterpart_organisation_id=row.counterpart_organisation_id,
        counterpart_place=row.counterpart_place,
        available_until=row.available_until,
        reasons=dict(row.reasons or {}),
        listing_version=row.listing_version or 0,
        counterpart_version=row.counterpart_version or 0,
        counterpart_organisation_name=row.counterpart_organisation_name or "",
        price_mode=row.price_mode,
        price_amount=row.price_amount,
    )


class AlertStore:
    """Reads alerts per listing or per organisation, and keeps their read state."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def for_listing(self, listing_id: str) -> list[AlertRow]:
        """Alerts about one listing, newest first."""
        with unit_of_work(self._sessions) as session:
            return list(
                session.scalars(
                    select(AlertRow)
                    .where(AlertRow.listing_id == listing_id)
                    .order_by(AlertRow.created_at.desc(), AlertRow.id)
                )
            )

    def owner_of_listing(self, listing_id: str) -> str | None:
        """The organisation an alert about this listing went to, if any."""
        with unit_of_work(self._sessions) as session:
            return session.scalar(
                select(AlertRow.organisation_id).where(AlertRow.listing_id == listing_id).limit(1)
            )

    def inbox(
        self,
        organisation_id: str,
        limit: int = 50,
        unread_only: bool = False,
        member_id: str | None = None,
    ) -> list[AlertRow]:
        """An organisation's alerts, newest first, read or unread as `member_id` sees them."""
        query = select(AlertRow).where(AlertRow.organisation_id == organisation_id)
        if unread_only:
            query = query.where(_unread(member_id))
        query = query.order_by(AlertRow.created_at.desc(), AlertRow.id.desc()).limit(limit)
        return self._as_read_by(query, member_id)

    def newer_than(
        self, organisation_id: str, seen: datetime, member_id: str | None = None
    ) -> list[AlertRow]:
        """Alerts created after `seen`, oldest first (for the live feed)."""
        return self._as_read_by(
            select(AlertRow)
            .where(AlertRow.organisation_id == organisation_id, AlertRow.created_at > seen)
            .order_by(AlertRow.created_at, AlertRow.id)
            .limit(100),
            member_id,
        )

    def _as_read_by(self, query: Select[AlertRow], member_id: str | None) -> list[AlertRow]:
        with unit_of_work(self._sessions) as session:
            rows = list(session.scalars(query))
            if member_id is None:
                return rows
            reads = dict(
                session.execute(
                    select(AlertReadRow.alert_id, AlertReadRow.read_at).where(
                        AlertReadRow.member_id == member_id,
                        AlertReadRow.alert_id.in_([row.id for row in rows]),
                    )
                ).all()
            )
            # Detached before `read_at` says the member's read: the row itself is unchanged.
            for row in rows:
                session.expunge(row)
                row.read_at = reads.get(row.id)
            return rows

    def unread_count(self, organisation_id: str, member_id: str | None = None) -> int:
        """How many alerts of the organisation `member_id` (or its API clients) has not read."""
        with unit_of_work(self._sessions) as session:
            count = session.scalar(
                select(func.count())
                .select_from(AlertRow)
                .where(AlertRow.organisation_id == organisation_id, _unread(member_id))
            )
            return int(count or 0)

    def mark_read(
        self, organisation_id: str, alert_id: str | None = None, member_id: str | None = None
    ) -> int:
        """Mark one alert (or all) of the organisation read for `member_id` (None: for the
        organisation's API clients); returns how many changed."""
        now = datetime.now(UTC)
        with unit_of_work(self._sessions) as session:
            if member_id is None:
                query = update(AlertRow).where(
                    AlertRow.organisation_id == organisation_id, AlertRow.read_at.is_(None)
                )
                if alert_id is not None:
                    query = query.where(AlertRow.id == alert_id)
                result = session.execute(query.values(read_at=now))
                return int(getattr(result, "rowcount", 0) or 0)
            unread = select(AlertRow.id).where(
                AlertRow.organisation_id == organisation_id, _unread(member_id)
            )
            if alert_id is not None:
                unread = unread.where(AlertRow.id == alert_id)
            ids = list(session.scalars(unread))
            if not ids:
                return 0
            # A second click racing the first must not fail on the same (alert, member).
            dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            result = session.execute(
                dialect.insert(AlertReadRow)
                .values([{"alert_id": i, "member_id": member_id, "read_at": now} for i in ids])
                .on_conflict_do_nothing()
                .returning(AlertReadRow.alert_id)
            )
            return len(result.all())

    def exchange_notices(self, organisation_id: str, limit: int = 20) -> list[ExchangeNoticeRow]:
        """The latest steps of the organisation's exchanges it was told of, newest first."""
        with unit_of_work(self._sessions) as session:
            return list(
                session.scalars(
                    select(ExchangeNoticeRow)
                    .where(ExchangeNoticeRow.organisation_id == organisation_id)
                    .order_by(ExchangeNoticeRow.created_at.desc(), ExchangeNoticeRow.id)
                    .limit(limit)
                )
            )

    def exchange_notices_newer_than(
        self, organisation_id: str, seen: datetime
    ) -> list[ExchangeNoticeRow]:
        """Exchange notices created after `seen`, oldest first (for the live feed)."""
        with unit_of_work(self._sessions) as session:
            return list(
                session.scalars(
                    select(ExchangeNoticeRow)
                    .where(
                        ExchangeNoticeRow.organisation_id == organisation_id,
                        ExchangeNoticeRow.created_at > seen,
                    )
                    .order_by(ExchangeNoticeRow.created_at, ExchangeNoticeRow.id)
                    .limit(100)
                )
            )

    def get(self, organisation_id: str, alert_id: str) -> AlertRow | None:
        """One of the organisation's alerts, or None (also for another organisation's)."""
        with unit_of_work(self._sessions) as session:
            row = session.get(AlertRow, alert_id)
            return row if row is not None and row.organisation_id == organisation_id else None


def _unread(member_id: str | None) -> ColumnElement[bool]:
    if member_id is None:
        return AlertRow.read_at.is_(None)
    return ~exists().where(
        AlertReadRow.alert_id == AlertRow.id, AlertReadRow.member_id == member_id
    )
