"""Exchange use cases: each step, its effect on the listing's quantity and its events commit
together (the listing change and `boucle.exchange.<step>` leave through the outbox).

docs/adr/0006-exchanges.md says why exchanges live in the listings service: accepting one
takes quantity off a listing, and only the listings service can do both in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from listings import exchanges as x
from listings.domain import Listing, event_type_for
from listings.errors import Conflict, NotFound
from listings.exchange_store import ExchangeStore
from listings.repository import SqlAlchemyRepository, is_id
from listings.tables import ListingRow, OrganisationRow
from shared.auth import Principal
from shared.contracts import ExchangeChanged
from shared.db import unit_of_work
from shared.events import Event
from shared.settings import Topics

log = logging.getLogger(__name__)
SOURCE = "/boucle/listings/exchanges"
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Party:
    """An organisation in an exchange; its contact is shown once the exchange is accepted."""

    id: str
    name: str
    contact_email: str | None = None
    contact_phone: str | None = None


@dataclass(frozen=True)
class ExchangeView:
    """An exchange as one of its parties sees it."""

    exchange: x.Exchange
    listing_title: str
    listing_kind: str
    owner: Party
    requester: Party
    messages: list[dict[str, Any]] = field(default_factory=list)


class ExchangeService:
    """Requests, answers, messages and hand-overs."""

    def __init__(
        self, sessions: sessionmaker[Session], topics: Topics, clock: Clock = _utcnow
    ) -> None:
        self._sessions = sessions
        self._topics = topics
        self._clock = clock

    def request(
        self, listing_id: str, fields: dict[str, Any], principal: Principal
    ) -> ExchangeView:
        """Ask the owner of a published listing for part or all of what it has left."""
        now = self._clock()
        with unit_of_work(self._sessions) as session:
            listing = SqlAlchemyRepository(session).get_listing(listing_id, for_update=True)
            if listing is None or listing.status != "published":
                raise NotFound(listing_id)
            terms = _terms(fields)
            if terms.quantity > listing.available:
                raise Conflict(f"only {listing.available:g} {listing.unit} left")
            exchange = x.request(
                listing.id,
                listing.organisation_id,
                principal.organisation_id,
                terms,
                listing.unit,
                now,
                repeats=listing.recurrence,  # a weekly listing makes a standing order
            )
            store = ExchangeStore(session)
            store.add(exchange)
            message = (fields.get("message") or "").strip()
            if message:
                store.add_message(exchange.id, principal.organisation_id, message, now)
            self._emit(session, "requested", exchange, listing, message or None, principal)
            return self._view(session, exchange, listing)

    def answer(
        self,
        exchange_id: str,
        action: str,
        principal: Principal,
        fields: dict[str, Any] | None = None,
    ) -> ExchangeView:
        """accept, decline or counter (with new terms) an exchange awaiting the caller."""
        now = self._clock()
        with unit_of_work(self._sessions) as session:
            store = ExchangeStore(session)
            current = self._party_exchange(store, exchange_id, principal)
            me = principal.organisation_id
            listing = None
            if action == "accept":
                changed = x.accept(current, me, now)
                listing = self._take(session, store, changed, now)
            elif action == "decline":
                changed = x.decline(current, me, now)
            elif action == "counter":
                changed = x.counter(current, me, _terms(fields or {}), now)
            else:
                raise ValueError(action)
            store.save(changed)
            step = {"accept": "accepted", "decline": "declined", "counter": "countered"}[action]
            listing = listing or _fresh_listing(session, changed.listing_id)
            self._emit(session, step, changed, listing, None, principal)
            return self._view(session, changed, listing)

    def cancel(self, exchange_id: str, principal: Principal) -> ExchangeView:
        """Call an exchange off; an accepted quantity goes back to the listing."""
        now = self._clock()
        with unit_of_work(self._sessions) as session:
            store = ExchangeStore(session)
            current = self._party_exchange(store, exchange_id, principal)
            changed = x.cancel(current, principal.organisation_id, now)
            store.save(changed)
            if current.reserves:
                store.give_back(current.listing_id, current.reserves, now)
                listing = self._listing_changed(session, current.listing_id)
            else:
                listing = _fresh_listing(session, current.listing_id)
            self._emit(session, "cancelled", changed, listing, None, principal)
            return self._view(session, changed, listing)

    def post_message(self, exchange_id: str, text: str, principal: Principal) -> ExchangeView:
        """Add a message to the exchange's thread (the other side is alerted)."""
        now = self._clock()
        text = text.strip()
        if not text:
            raise Conflict("write something")
        with unit_of_work(self._sessions) as session:
            store = ExchangeStore(session)
            current = self._party_exchange(store, exchange_id, principal)
            store.add_message(current.id, principal.organisation_id, text, now)
            listing = _fresh_listing(session, current.listing_id)
            self._emit(session, "message_posted", current, listing, text, principal)
            return self._view(session, current, listing)

    def hand_over(
        self, exchange_id: str, quantity: float, reference: str, principal: Principal
    ) -> ExchangeView:
        """Confirm what changed hands; completed once both sides have."""
        now = self._clock()
        with unit_of_work(self._sessions) as session:
            store = ExchangeStore(session)
            current = self._party_exchange(store, exchange_id, principal)
            changed = x.hand_over(current, principal.organisation_id, quantity, now, reference)
            store.save(changed)
            listing = _fresh_listing(session, changed.listing_id)
            self._emit(session, "handed_over", changed, listing, None, principal)
            if changed.status == x.COMPLETED:
                self._emit(session, "completed", changed, listing, None, principal)
                following = x.next_occurrence(changed, now)
                if following is not None:
                    # The standing order goes on: accepted on the same terms, a period on,
                    # still holding its quantity of the listing.
                    store.add(following)
                    self._emit(session, "accepted", following, listing, None, None)
            return self._view(session, changed, listing)

    def stop_repeating(self, exchange_id: str, principal: Principal) -> ExchangeView:
        """End a standing order: the current occurrence is the last."""
        now = self._clock()
        with unit_of_work(self._sessions) as session:
            store = ExchangeStore(session)
            current = self._party_exchange(store, exchange_id, principal)
            changed = x.stop_repeating(current, principal.organisation_id, now)
            store.save(changed)
            listing = _fresh_listing(session, changed.listing_id)
            self._emit(session, "repeat_stopped", changed, listing, None, principal)
            return self._view(session, changed, listing)

    def report_problem(self, exchange_id: str, text: str, principal: Principal) -> ExchangeView:
        """A no-show or another problem, seen by the other side and the admins."""
        now = self._clock()
        with unit_of_work(self._sessions) as session:
            store = ExchangeStore(session)
            current = self._party_exchange(store, exchange_id, principal)
            changed = x.report_problem(current, principal.organisation_id, text, now)
            store.save(changed)
            listing = _fresh_listing(session, changed.listing_id)
            self._emit(session, "problem_reported", changed, listing, None, principal)
            return self._view(session, changed, listing)

    def expire_due(self) -> int:
        """Expire every request whose answer is overdue."""
        now = self._clock()
        with unit_of_work(self._sessions) as session:
            store = ExchangeStore(session)
            expired = 0
            for current in store.due_to_expire(now):
                changed = x.expire(current, now)
                if changed is not None:
                    store.save(changed)
                    listing = _fresh_listing(session, changed.listing_id)
                    self._emit(session, "expired", changed, listing, None, None)
                    expired += 1
            return expired

    def get(self, exchange_id: str, principal: Principal) -> ExchangeView:
        """One exchange of the caller's organisation (admins see every one)."""
        with unit_of_work(self._sessions) as session:
            store = ExchangeStore(session)
            exchange = self._party_exchange(store, exchange_id, principal, admin_reads=True)
            listing = _fresh_listing(session, exchange.listing_id)
            return self._view(session, exchange, listing, with_messages=True)

    def of_organisation(self, principal: Principal) -> list[ExchangeView]:
        """The caller's organisation's exchanges, both sides, latest change first."""
        with unit_of_work(self._sessions) as session:
            exchanges = ExchangeStore(session).of_organisation(principal.organisation_id)
            # Two queries for the whole list, not three per exchange.
            listing_ids = {e.listing_id for e in exchanges}
            listings = {
                listing.id: listing
                for listing in SqlAlchemyRepository(session).listings(
                    select(ListingRow).where(ListingRow.id.in_(listing_ids))
                )
            }
            parties = _organisations(
                session, {o for e in exchanges for o in (e.owner_id, e.requester_id)}
            )
            return [_assemble(e, listings[e.listing_id], parties) for e in exchanges]

    def awaiting_answer(self, principal: Principal) -> int:
        """How many exchanges wait for the caller's organisation to answer."""
        with unit_of_work(self._sessions) as session:
            return ExchangeStore(session).awaiting(principal.organisation_id)

    # --- helpers -----------------------------------------------------------------------
    def _party_exchange(
        self,
        store: ExchangeStore,
        exchange_id: str,
        principal: Principal,
        admin_reads: bool = False,
    ) -> x.Exchange:
        exchange = store.get(exchange_id, for_update=True) if is_id(exchange_id) else None
        if exchange is None:
            raise NotFound(exchange_id)
        if not exchange.is_party(principal.organisation_id) and not (
            admin_reads and principal.is_admin
        ):
            raise NotFound(exchange_id)  # an exchange of others: not revealed
        return exchange

    def _take(
        self, session: Session, store: ExchangeStore, exchange: x.Exchange, now: datetime
    ) -> Listing:
        if not store.take(exchange.listing_id, exchange.terms.quantity, now):
            left = _fresh_listing(session, exchange.listing_id).available
            raise Conflict(
                f"only {left:g} {exchange.unit} left: propose a smaller quantity or decline"
            )
        return self._listing_changed(session, exchange.listing_id)

    def _listing_changed(self, session: Session, listing_id: str) -> Listing:
        """The listing after its quantity changed, its event queued for matching and readers."""
        listing = _fresh_listing(session, listing_id)
        event_type = event_type_for(listing, first_publication=False)
        if event_type is not None:
            event = Event(event_type, "/boucle/listings", listing.id, listing.event_data())
            SqlAlchemyRepository(session).add_event(self._topics.listings, event)
        return listing

    def _emit(
        self,
        session: Session,
        step: str,
        exchange: x.Exchange,
        listing: Listing,
        message: str | None,
        principal: Principal | None,
    ) -> None:
        data = ExchangeChanged(
            id=exchange.id,
            listing_id=listing.id,
            listing_kind=listing.kind,
            listing_title=listing.title,
            owner_organisation_id=exchange.owner_id,
            requester_organisation_id=exchange.requester_id,
            quantity=exchange.terms.quantity,
            unit=exchange.unit,
            status=exchange.status,
            version=exchange.version,
            updated_at=exchange.updated_at,
            awaiting=exchange.awaiting,
            window_from=exchange.terms.window_from,
            window_until=exchange.terms.window_until,
            expires_at=exchange.expires_at,
            owner_handed_over=exchange.owner_handed_over,
            requester_handed_over=exchange.requester_handed_over,
            problem=exchange.problem,
            message=message,
            author_organisation_id=principal.organisation_id if principal else None,
            repeats=exchange.repeats,
            series_id=exchange.series_id,
            occurrence=exchange.occurrence,
        )
        event = Event(f"boucle.exchange.{step}", SOURCE, exchange.id, data)
        SqlAlchemyRepository(session).add_event(self._topics.exchanges, event)
        log.info("exchange %s %s", exchange.id, step, extra={"event_id": event.id})

    def _view(
        self,
        session: Session,
        exchange: x.Exchange,
        listing: Listing,
        with_messages: bool = False,
    ) -> ExchangeView:
        parties = _organisations(session, {exchange.owner_id, exchange.requester_id})
        messages = ExchangeStore(session).messages(exchange.id) if with_messages else []
        return _assemble(exchange, listing, parties, messages)


def _assemble(
    exchange: x.Exchange,
    listing: Listing,
    organisations: dict[str, OrganisationRow],
    messages: list[Any] | None = None,
) -> ExchangeView:
    revealed = exchange.status in (x.ACCEPTED, x.COMPLETED)
    owner = _party(organisations.get(exchange.owner_id), exchange.owner_id, revealed)
    requester = _party(organisations.get(exchange.requester_id), exchange.requester_id, revealed)
    names = {owner.id: owner.name, requester.id: requester.name}
    thread = [
        {
            "author_id": m.author_id,
            "author": names.get(m.author_id, ""),
            "text": m.text,
            "created_at": m.created_at,
        }
        for m in messages or []
    ]
    return ExchangeView(exchange, listing.title, listing.kind, owner, requester, thread)


def _fresh_listing(session: Session, listing_id: str) -> Listing:
    # Read past the session's identity map: an UPDATE statement may have changed the row.
    query = (
        select(ListingRow)
        .where(ListingRow.id == listing_id)
        .execution_options(populate_existing=True)
    )
    return SqlAlchemyRepository(session).listings(query)[0]


def _organisations(session: Session, ids: set[str]) -> dict[str, OrganisationRow]:
    rows = session.scalars(select(OrganisationRow).where(OrganisationRow.id.in_(ids)))
    return {row.id: row for row in rows}


def _party(row: OrganisationRow | None, organisation_id: str, revealed: bool) -> Party:
    if row is None:
        return Party(organisation_id, "")
    if not revealed:
        return Party(row.id, row.name)
    return Party(row.id, row.name, row.contact_email, row.phone or None)


def _terms(fields: dict[str, Any]) -> x.Terms:
    try:
        return x.Terms(
            float(fields["quantity"]), fields.get("window_from"), fields.get("window_until")
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise Conflict("say how much, as a number") from exc
