"""Exchanges: from a match to a verified hand-over. Plain Python, no framework.

One organisation (the requester) asks the owner of a listing for part or all of its
quantity, within a window. The side whose answer is awaited accepts, declines or proposes
other terms (then the other side answers); a request left unanswered expires. Accepting
takes the quantity off the listing (the service does that atomically). Each side then
confirms what changed hands; when both have, the exchange is completed. Either side may
cancel until then (an accepted quantity goes back to the listing) or report a problem.
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from listings.errors import Conflict, Forbidden

REQUESTED, COUNTERED, ACCEPTED = "requested", "countered", "accepted"
DECLINED, CANCELLED, EXPIRED, COMPLETED = "declined", "cancelled", "expired", "completed"
#: Waiting for an answer.
OPEN = frozenset({REQUESTED, COUNTERED})
#: Still going: may be cancelled.
LIVE = OPEN | {ACCEPTED}
#: How long a request or counter-proposal waits for its answer by default.
ANSWER_WITHIN = timedelta(days=3)
#: A standing order's period, by the listing's recurrence.
PERIODS = {"weekly": "week", "monthly": "month"}
ONE_OFF = "one-off"


@dataclass(frozen=True)
class Terms:
    """What is asked: how much (in the listing's unit) and when."""

    quantity: float
    window_from: datetime | None = None
    window_until: datetime | None = None

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise Conflict("the quantity must be more than 0")
        if self.window_from and self.window_until and self.window_until < self.window_from:
            raise Conflict("the window ends before it starts")


@dataclass(frozen=True)
class Exchange:
    """One exchange about one listing, between its owner and a requester."""

    listing_id: str
    owner_id: str
    requester_id: str
    terms: Terms
    unit: str
    status: str
    awaiting: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    version: int = 1
    owner_handed_over: float | None = None
    requester_handed_over: float | None = None
    reference: str = ""
    problem: str | None = None
    #: "weekly"/"monthly": a standing order that repeats once completed; "one-off": it ends
    repeats: str = ONE_OFF
    #: the first exchange of a standing order (None for that first one), and which one this is
    series_id: str | None = None
    occurrence: int = 1

    @property
    def standing(self) -> bool:
        """True while the exchange repeats on its schedule once completed."""
        return self.repeats in PERIODS

    def is_party(self, organisation_id: str) -> bool:
        """True for the owner and the requester."""
        return organisation_id in (self.owner_id, self.requester_id)

    def other(self, organisation_id: str) -> str:
        """The other party."""
        return self.requester_id if organisation_id == self.owner_id else self.owner_id

    @property
    def reserves(self) -> float:
        """What it holds of the listing's quantity now (only once accepted)."""
        return self.terms.quantity if self.status in (ACCEPTED, COMPLETED) else 0.0

    def _next(self, now: datetime, **changes: object) -> Exchange:
        return replace(self, **changes, version=self.version + 1, updated_at=now)  # type: ignore[arg-type]


def request(
    listing_id: str,
    owner_id: str,
    requester_id: str,
    terms: Terms,
    unit: str,
    now: datetime,
    answer_within: timedelta = ANSWER_WITHIN,
    repeats: str = ONE_OFF,
) -> Exchange:
    """A new request; the owner's answer is awaited. On a recurring listing, once accepted
    it becomes a standing order that repeats until either side stops it."""
    if owner_id == requester_id:
        raise Conflict("an organisation cannot ask itself for its own listing")
    return Exchange(
        repeats=repeats if repeats in PERIODS else ONE_OFF,
        listing_id=listing_id,
        owner_id=owner_id,
        requester_id=requester_id,
        terms=terms,
        unit=unit,
        status=REQUESTED,
        awaiting=owner_id,
        created_at=now,
        updated_at=now,
        expires_at=now + answer_within,
    )


def _answering(exchange: Exchange, by: str, now: datetime) -> None:
    _party(exchange, by)
    if exchange.status not in OPEN:
        raise Conflict(f"the exchange is {exchange.status}: there is nothing to answer")
    if exchange.expires_at is not None and exchange.expires_at <= now:
        raise Conflict("the request has expired")
    if exchange.awaiting != by:
        raise Conflict("the other side has to answer first")


def _party(exchange: Exchange, by: str) -> None:
    if not exchange.is_party(by):
        raise Forbidden("only the two organisations of an exchange may act on it")


def counter(
    exchange: Exchange,
    by: str,
    terms: Terms,
    now: datetime,
    answer_within: timedelta = ANSWER_WITHIN,
) -> Exchange:
    """Other terms proposed by the side whose answer was awaited; now the other answers."""
    _answering(exchange, by, now)
    return exchange._next(
        now,
        terms=terms,
        status=COUNTERED,
        awaiting=exchange.other(by),
        expires_at=now + answer_within,
    )


def accept(exchange: Exchange, by: str, now: datetime) -> Exchange:
    """The terms are agreed: the quantity is reserved for the requester."""
    _answering(exchange, by, now)
    return exchange._next(now, status=ACCEPTED, awaiting=None, expires_at=None)


def decline(exchange: Exchange, by: str, now: datetime) -> Exchange:
    """No exchange on these terms."""
    _answering(exchange, by, now)
    return exchange._next(now, status=DECLINED, awaiting=None, expires_at=None)


def cancel(exchange: Exchange, by: str, now: datetime) -> Exchange:
    """Either side calls it off before the hand-over is confirmed by both."""
    _party(exchange, by)
    if exchange.status not in LIVE:
        raise Conflict(f"the exchange is {exchange.status} and can no longer be cancelled")
    return exchange._next(now, status=CANCELLED, awaiting=None, expires_at=None)


def expire(exchange: Exchange, now: datetime) -> Exchange | None:
    """The exchange after its answer was awaited too long, or None if it is not due."""
    if exchange.status not in OPEN or exchange.expires_at is None or exchange.expires_at > now:
        return None
    return exchange._next(now, status=EXPIRED, awaiting=None)


def hand_over(
    exchange: Exchange, by: str, quantity: float, now: datetime, reference: str = ""
) -> Exchange:
    """One side confirms what changed hands; when both have, the exchange is completed."""
    _party(exchange, by)
    if exchange.status != ACCEPTED:
        raise Conflict(f"the exchange is {exchange.status}: only an accepted one is handed over")
    if quantity <= 0:
        raise Conflict("the quantity handed over must be more than 0")
    side = "owner_handed_over" if by == exchange.owner_id else "requester_handed_over"
    confirmed = replace(exchange, **{side: quantity})  # type: ignore[arg-type]
    both = confirmed.owner_handed_over is not None and confirmed.requester_handed_over is not None
    return exchange._next(
        now,
        **{side: quantity},
        reference=reference or exchange.reference,
        status=COMPLETED if both else ACCEPTED,
    )


def report_problem(exchange: Exchange, by: str, text: str, now: datetime) -> Exchange:
    """A no-show or another problem, for the other side and the admins to see."""
    _party(exchange, by)
    if exchange.status not in (ACCEPTED, COMPLETED):
        raise Conflict("a problem can be reported once an exchange is accepted")
    if not text.strip():
        raise Conflict("say what went wrong")
    return exchange._next(now, problem=text.strip()[:2000])


def handed_over_quantity(exchange: Exchange) -> float | None:
    """What both sides confirmed changed hands (the smaller figure if they differ)."""
    if exchange.status != COMPLETED:
        return None
    owner, requester = exchange.owner_handed_over, exchange.requester_handed_over
    assert owner is not None and requester is not None
    return min(owner, requester)


def stop_repeating(exchange: Exchange, by: str, now: datetime) -> Exchange:
    """Either side ends a standing order: this occurrence is the last."""
    _party(exchange, by)
    if not exchange.standing or exchange.status not in LIVE:
        raise Conflict("this exchange does not repeat")
    return exchange._next(now, repeats=ONE_OFF)


def next_occurrence(completed: Exchange, now: datetime) -> Exchange | None:
    """The next exchange of a standing order once one is completed, already accepted on the
    same terms one period later (the quantity stays reserved); None when it does not repeat."""
    if completed.status != COMPLETED or not completed.standing:
        return None
    shift = _period(completed.repeats)
    terms = completed.terms
    return Exchange(
        listing_id=completed.listing_id,
        owner_id=completed.owner_id,
        requester_id=completed.requester_id,
        terms=Terms(
            terms.quantity,
            shift(terms.window_from) if terms.window_from else None,
            shift(terms.window_until) if terms.window_until else None,
        ),
        unit=completed.unit,
        status=ACCEPTED,
        awaiting=None,
        created_at=now,
        updated_at=now,
        expires_at=None,
        repeats=completed.repeats,
        series_id=completed.series_id or completed.id,
        occurrence=completed.occurrence + 1,
    )


def _period(repeats: str) -> Callable[[datetime], datetime]:
    if repeats == "weekly":
        return lambda moment: moment + timedelta(weeks=1)
    return _one_month_later


def _one_month_later(moment: datetime) -> datetime:
    # The same day next month, or the month's last day (31 January -> 28/29 February).
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
