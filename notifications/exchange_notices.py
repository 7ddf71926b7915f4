"""Who hears of each step of an exchange. Plain Python.

The side that acted knows; the other side is told (the owner of a new request, the
requester of an answer, either of a message). Expiry and completion concern both.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from shared.contracts import ExchangeChanged

#: Steps both organisations hear of.
BOTH = frozenset({"expired", "completed"})


def recipients(exchange: ExchangeChanged, step: str) -> list[str]:
    """The organisations to tell of `step`, in a stable order."""
    owner, requester = exchange.owner_organisation_id, exchange.requester_organisation_id
    if step in BOTH or exchange.author_organisation_id is None:
        return [owner, requester]
    if exchange.author_organisation_id == owner:
        return [requester]
    return [owner]


@dataclass(frozen=True)
class ExchangeNotice:
    """A step of an exchange as its e-mail tells it."""

    id: str
    exchange_id: str
    step: str
    author_name: str
    listing_title: str
    quantity: float
    unit: str
    status: str
    message: str | None
    created_at: datetime


def notice_from_row(row: Any) -> ExchangeNotice:
    """The plain notice a stored row (with the same attribute names) holds."""
    return ExchangeNotice(**{f.name: getattr(row, f.name) for f in fields(ExchangeNotice)})
