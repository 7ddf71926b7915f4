"""Exchanges in the listings database: rows <-> domain objects, and the listing's quantity.

Taking quantity off a listing is one conditional UPDATE, so concurrent accepts serialise
on the listing's row and can never take more than is left, on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from listings.exchanges import Exchange, Terms
from listings.tables import ExchangeMessageRow, ExchangeRow, ListingRow


class ExchangeStore:
    """The exchanges and messages of one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, exchange: Exchange) -> None:
        """Insert a new exchange."""
        self.session.add(_row(exchange, ExchangeRow(id=exchange.id)))

    def save(self, exchange: Exchange) -> None:
        """Write a changed exchange over its row."""
        row = self.session.get(ExchangeRow, exchange.id)
        if row is None:
            raise KeyError(exchange.id)
        _row(exchange, row)

    def get(self, exchange_id: str, for_update: bool = False) -> Exchange | None:
        """The exchange, or None."""
        row = self.session.get(ExchangeRow, exchange_id, with_for_update=for_update)
        return None if row is None else _exchange(row)

    def of_organisation(self, organisation_id: str, limit: int = 200) -> list[Exchange]:
        """The organisation's exchanges, either side, most recently changed first."""
        query = (
            select(ExchangeRow)
            .where(
                or_(
                    ExchangeRow.owner_id == organisation_id,
                    ExchangeRow.requester_id == organisation_id,
                )
            )
            .order_by(ExchangeRow.updated_at.desc(), ExchangeRow.id)
            .limit(limit)
        )
        return [_exchange(row) for row in self.session.scalars(query)]

    def awaiting(self, organisation_id: str) -> int:
        """How many open exchanges wait for this organisation's answer."""
        query = select(func.count()).where(
            ExchangeRow.awaiting == organisation_id,
            ExchangeRow.status.in_(("requested", "countered")),
        )
        return int(self.session.scalar(query) or 0)

    def completed_of(self, organisation_id: str) -> list[ExchangeRow]:
        """The organisation's completed exchanges, either side, oldest first."""
        query = (
            select(ExchangeRow)
            .where(
                ExchangeRow.status == "completed",
                or_(
                    ExchangeRow.owner_id == organisation_id,
                    ExchangeRow.requester_id == organisation_id,
                ),
            )
            .order_by(ExchangeRow.updated_at, ExchangeRow.id)
        )
        return list(self.session.scalars(query))

    def due_to_expire(self, now: datetime) -> list[Exchange]:
        """Open exchanges whose answer is overdue."""
        query = select(ExchangeRow).where(
            ExchangeRow.status.in_(("requested", "countered")), ExchangeRow.expires_at <= now
        )
        return [_exchange(row) for row in self.session.scalars(query.with_for_update())]

    def add_message(self, exchange_id: str, author_id: str, text: str, now: datetime) -> str:
        """Append a message to the thread; returns its id."""
        message_id = str(uuid.uuid4())
        self.session.add(
            ExchangeMessageRow(
                id=message_id,
                exchange_id=exchange_id,
                author_id=author_id,
                text=text,
                created_at=now,
            )
        )
        return message_id

    def messages(self, exchange_id: str) -> list[ExchangeMessageRow]:
        """The thread, oldest first."""
        query = (
            select(ExchangeMessageRow)
            .where(ExchangeMessageRow.exchange_id == exchange_id)
            .order_by(ExchangeMessageRow.created_at, ExchangeMessageRow.id)
        )
        return list(self.session.scalars(query))

    def take(self, listing_id: str, quantity: float, now: datetime) -> bool:
        """Take `quantity` off a published listing if that much is left; the listing is
        reserved when nothing is left. False (and no change) when not enough is left."""
        left = func.coalesce(ListingRow.remaining_quantity, ListingRow.quantity)
        result = self.session.execute(
            update(ListingRow)
            .where(ListingRow.id == listing_id, ListingRow.status == "published", left >= quantity)
            .values(
                remaining_quantity=left - quantity,
                status=case((left - quantity <= 0, "reserved"), else_=ListingRow.status),
                version=ListingRow.version + 1,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        return getattr(result, "rowcount", 0) == 1

    def give_back(self, listing_id: str, quantity: float, now: datetime) -> None:
        """Return a cancelled exchange's quantity; a listing reserved because nothing was
        left is published again."""
        row = self.session.get(ListingRow, listing_id, with_for_update=True)
        if row is None:
            return
        left = row.quantity if row.remaining_quantity is None else row.remaining_quantity
        if row.status == "reserved" and left <= 0:
            row.status = "published"
        row.remaining_quantity = min(row.quantity, left + quantity)
        row.version, row.updated_at = row.version + 1, now


def _row(exchange: Exchange, row: ExchangeRow) -> ExchangeRow:
    row.listing_id, row.owner_id, row.requester_id = (
        exchange.listing_id,
        exchange.owner_id,
        exchange.requester_id,
    )
    row.quantity, row.unit = exchange.terms.quantity, exchange.unit
    row.window_from, row.window_until = exchange.terms.window_from, exchange.terms.window_until
    row.status, row.awaiting, row.version = exchange.status, exchange.awaiting, exchange.version
    row.created_at, row.updated_at = exchange.created_at, exchange.updated_at
    row.expires_at = exchange.expires_at
    row.owner_handed_over = exchange.owner_handed_over
    row.requester_handed_over = exchange.requester_handed_over
    row.reference, row.problem = exchange.reference, exchange.problem
    row.repeats, row.series_id = exchange.repeats, exchange.series_id
    row.occurrence = exchange.occurrence
    return row


def _exchange(row: ExchangeRow) -> Exchange:
    return Exchange(
        id=row.id,
        listing_id=row.listing_id,
        owner_id=row.owner_id,
        requester_id=row.requester_id,
        terms=Terms(row.quantity, row.window_from, row.window_until),
        unit=row.unit,
        status=row.status,
        awaiting=row.awaiting,
        created_at=row.created_at,
        updated_at=row.updated_at,
        expires_at=row.expires_at,
        version=row.version,
        owner_handed_over=row.owner_handed_over,
        requester_handed_over=row.requester_handed_over,
        reference=row.reference or "",
        problem=row.problem,
        repeats=row.repeats or "one-off",
        series_id=row.series_id,
        occurrence=row.occurrence or 1,
    )
