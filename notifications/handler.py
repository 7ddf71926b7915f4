"""What the notifier does with match and listing events: alerts and their deliveries.

Every event is handled in one transaction with the claim of its id, so a re-delivered
event changes nothing, and deliveries are unique per (match, recipient, channel). What
stands is decided by listing versions, never by arrival order (shared/match_state.py):
a found match from older listing versions than the notifier has seen is dropped; a
listing that reaches a version retracts its alerts from older ones that were not found
again, and all of them once it left `published`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, tzinfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from notifications.alerts import alerts_for_match
from notifications.deliveries import DeliveryPlanner, Lineage
from notifications.exchange_handler import ExchangeNotices
from notifications.outcomes import PENDING, RETRACTED_PREFIX, OutcomeRecorder
from notifications.store import ACTIVE, RETRACTED
from notifications.tables import (
    AlertRow,
    DeliveryRow,
    ListingVersionRow,
    OrganisationRow,
    processed_events,
)
from shared.contracts import (
    ExchangeChanged,
    ListingChanged,
    MatchesSettled,
    MatchFound,
    MatchRetracted,
)
from shared.db import in_chunks, unit_of_work
from shared.events import Event
from shared.match_state import is_stale, no_longer_holds, retraction_reason, sides
from shared.tracking import claim_events

log = logging.getLogger(__name__)
CONSUMER = "notifier"

Clock = Callable[[], datetime]


_HANDLED = MatchFound | MatchRetracted | MatchesSettled | ListingChanged | ExchangeChanged


def _now() -> datetime:
    return datetime.now(UTC)


_VERSION_ROWS = "listing version rows"


def _version_row(session: Session, listing_id: str) -> ListingVersionRow | None:
    """The listing's known version, locked; from the run's read when it named the listing."""
    rows = session.info.setdefault(_VERSION_ROWS, {})
    if listing_id not in rows:
        rows[listing_id] = session.get(ListingVersionRow, listing_id, with_for_update=True)
    row: ListingVersionRow | None = rows[listing_id]
    return row


_ALERTED_KEY = "listings with active alerts"


def _note_alerted(session: Session, listing_ids: list[str]) -> None:
    """Remember which of the run's listings an active alert names, read in one query."""
    alerted: set[str] = set()
    for ids in in_chunks(listing_ids):
        query = select(AlertRow.listing_id, AlertRow.counterpart_listing_id).where(
            AlertRow.status == ACTIVE,
            or_(AlertRow.listing_id.in_(ids), AlertRow.counterpart_listing_id.in_(ids)),
        )
        for own, other in session.execute(query):
            alerted.update((own, other))
    session.info[_ALERTED_KEY] = alerted


def _may_have_alerts(session: Session, listing_id: str) -> bool:
    """False only when the run's read found no alert naming it and the run made none."""
    alerted: set[str] | None = session.info.get(_ALERTED_KEY)
    return alerted is None or listing_id in alerted


def _listings_named(events: list[Event]) -> set[str]:
    """Every listing whose known version the events may read or raise."""
    named: set[str] = set()
    for event in events:
        data = event.data
        if isinstance(data, MatchFound | MatchRetracted):
            named.update(sides(data))
        elif isinstance(data, MatchesSettled):
            named.add(data.listing_id)
        elif isinstance(data, ListingChanged):
            named.add(data.id)
    return named


class MatchAlertHandler:
    """Found: one alert per party and its deliveries. Gone: alerts marked, sends cancelled."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        recorder: OutcomeRecorder,
        lineage: Lineage,
        zone: tzinfo,
        clock: Clock = _now,
    ) -> None:
        self._sessions = sessions
        self._recorder = recorder
        self._planner = DeliveryPlanner(lineage, zone)
        self._exchanges = ExchangeNotices(zone)
        self._clock = clock

    def __call__(self, event: Event) -> None:
        self.handle_many([event])

    def handle_many(self, events: list[Event]) -> None:
        """Handle a run of events in one transaction, each at most once, in their order."""
        events = [event for event in events if isinstance(event.data, _HANDLED)]
        if not events:
            return
        with unit_of_work(self._sessions) as session:
            fresh = claim_events(session, processed_events, CONSUMER, [e.id for e in events])
            # The listings the run touches, read (and locked) at once in a stable order.
            named = sorted(_listings_named(events))
            self._lock_known(session, named)
            _note_alerted(session, named)
            for event in events:
                if event.id not in fresh:
                    log.info("event already handled", extra={"event_id": event.id})
                    continue
                fresh.discard(event.id)  # the same event twice in a run: once
                self._apply(session, event)

    def _apply(self, session: Session, event: Event) -> None:
        data = event.data
        match data:
            case MatchFound():
                self._found(session, data, event.id)
            case MatchRetracted():
                if not self._stale(session, data, event.id):
                    self._retract(session, data.match_id, data.reason, data)
            case MatchesSettled():
                self._listing_at(session, data.listing_id, data.kind, data.version, data.status)
            case ListingChanged() if not data.is_published:
                # Gone from the exchange: its alerts go, whatever the matcher says.
                self._listing_at(session, data.id, data.kind, data.version, data.status)
            case ListingChanged():
                # An edit: the matcher's settlement of this version will say what stands.
                self._raise_known(session, {data.id: data.version}, data.status)
            case ExchangeChanged():
                step = event.type.rsplit(".", 1)[1]
                self._exchanges.handle(session, data, step, self._clock())

    def _lock_known(self, session: Session, listing_ids: list[str]) -> None:
        # Kept in the session for `_version_row`: each listing's row read once a run.
        rows: dict[str, ListingVersionRow | None] = dict.fromkeys(listing_ids)
        for ids in in_chunks(listing_ids):
            query = (
                select(ListingVersionRow)
                .where(ListingVersionRow.listing_id.in_(ids))
                .order_by(ListingVersionRow.listing_id)
                .with_for_update()
            )
            rows.update((row.listing_id, row) for row in session.scalars(query))
        session.info[_VERSION_ROWS] = rows

    def _stale(self, session: Session, match: MatchFound | MatchRetracted, event_id: str) -> bool:
        known = self._known(session, list(sides(match)))
        if is_stale(match, known):
            log.info("stale match %s dropped", match.match_id, extra={"event_id": event_id})
            return True
        self._raise_known(session, sides(match))
        return False

    def _found(self, session: Session, match: MatchFound, event_id: str) -> None:
        if self._stale(session, match, event_id):
            return
        now = self._clock()
        planned: set[tuple[str, str]] = set()
        # Alerts this run makes are alerts a later settlement in the run must see.
        alerted = session.info.get(_ALERTED_KEY)
        if alerted is not None:
            alerted.update(sides(match))
        for alert in alerts_for_match(match):
            # Who the other side is, as the organisations topic last said.
            other = session.get(OrganisationRow, alert.counterpart_organisation_id or "")
            if other is not None:
                alert = replace(alert, counterpart_organisation_name=other.name)
            self._planner.found(session, alert, now, planned)
        log.info(
            "match %s: %d deliveries planned",
            match.match_id,
            len(planned),
            extra={"event_id": event_id},
        )

    def _listing_at(
        self, session: Session, listing_id: str, kind: str, version: int, status: str
    ) -> None:
        self._raise_known(session, {listing_id: version}, status)
        if not _may_have_alerts(session, listing_id):
            return  # a listing no alert names (most of a bulk import): nothing to retract
        gone: set[str] = set()
        query = select(AlertRow).where(
            AlertRow.status == ACTIVE,
            or_(AlertRow.listing_id == listing_id, AlertRow.counterpart_listing_id == listing_id),
        )
        for alert in session.scalars(query):
            computed_from = (
                alert.listing_version
                if alert.listing_id == listing_id
                else alert.counterpart_version
            )
            if no_longer_holds(computed_from, version, status):
                gone.add(alert.match_id)
        for match_id in sorted(gone):
            self._retract(session, match_id, retraction_reason(kind, status))

    def _retract(
        self, session: Session, match_id: str, reason: str, at: MatchRetracted | None = None
    ) -> None:
        now = self._clock()
        for alert in session.scalars(select(AlertRow).where(AlertRow.match_id == match_id)):
            alert.status, alert.retracted_at = RETRACTED, now
            alert.retraction_reason = reason[:200]
            if at is not None:  # retracted at these versions: the same found is no news
                versions = sides(at)
                alert.listing_version = versions.get(alert.listing_id, alert.listing_version)
                alert.counterpart_version = versions.get(
                    alert.counterpart_listing_id, alert.counterpart_version
                )
        pending = session.scalars(
            select(DeliveryRow)
            .where(DeliveryRow.match_id == match_id, DeliveryRow.status == PENDING)
            .with_for_update()
        )
        for delivery in pending:
            self._recorder.skipped(session, delivery, f"{RETRACTED_PREFIX}{reason}")
        log.info("match %s retracted: %s", match_id, reason)

    def _known(self, session: Session, listing_ids: list[str]) -> dict[str, int]:
        rows = (_version_row(session, listing_id) for listing_id in listing_ids)
        return {row.listing_id: row.version for row in rows if row is not None}

    def _raise_known(
        self, session: Session, versions: dict[str, int], status: str | None = None
    ) -> None:
        for listing_id, version in versions.items():
            row = _version_row(session, listing_id)
            if row is None:
                row = ListingVersionRow(
                    listing_id=listing_id, version=version, status=status or "published"
                )
                session.add(row)
                session.info[_VERSION_ROWS][listing_id] = row
            elif version > row.version or (version == row.version and status is not None):
                row.version = version
                row.status = status or "published"
