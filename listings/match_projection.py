"""The read model of each listing's current matches, kept from the `matches` topic.

What stands is decided by listing versions (shared/match_state.py), and the listings
service knows every listing's current version and status first-hand: a match found from
older versions than the listings table holds is dropped, a listing's settlement retracts
its matches from older versions, and a match whose listing or counterpart is no longer
published is never shown, whatever the topic said.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from listings.tables import ListingMatchRow, ListingRow, OrganisationRow
from shared.contracts import MatchesSettled, MatchFound, MatchRetracted, MatchSide
from shared.db import in_chunks, unit_of_work
from shared.events import Event
from shared.match_state import is_stale

ACTIVE, RETRACTED = "active", "retracted"


@dataclass(frozen=True)
class CurrentMatch:
    match_id: str
    counterpart_id: str
    counterpart_title: str
    counterpart_organisation_id: str
    score: float
    reasons: dict[str, Any]
    counterpart_organisation_name: str = ""


class MatchProjection:
    """Upserts both sides of every match; settlements and retractions mark them. Idempotent."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def __call__(self, event: Event) -> None:
        self.handle_many([event])

    def handle_many(self, events: list[Event]) -> None:
        """Project a run of events in one transaction, in their order."""
        with unit_of_work(self._sessions) as session:
            # Settling a listing no active row names changes nothing: read once which do.
            settled = [e.data.listing_id for e in events if isinstance(e.data, MatchesSettled)]
            matched = _matched(session, settled)
            for event in events:
                data = event.data
                if isinstance(data, MatchFound | MatchRetracted):
                    if not is_stale(data, self._versions(session, data)):
                        status = ACTIVE if isinstance(data, MatchFound) else RETRACTED
                        self._upsert(session, data, status)
                        matched.update((data.offer.listing_id, data.need.listing_id))
                elif isinstance(data, MatchesSettled) and data.listing_id in matched:
                    self._settle(session, data)

    def _versions(self, session: Session, match: MatchFound | MatchRetracted) -> dict[str, int]:
        ids = [match.offer.listing_id, match.need.listing_id]
        rows = session.execute(
            select(ListingRow.id, ListingRow.version).where(ListingRow.id.in_(ids))
        )
        return {listing_id: version for listing_id, version in rows}

    def _upsert(self, session: Session, match: MatchFound | MatchRetracted, status: str) -> None:
        reasons = asdict(match.reasons)
        reasons["countries"] = list(match.reasons.countries)
        for own, other in ((match.offer, match.need), (match.need, match.offer)):
            row = session.get(ListingMatchRow, (own.listing_id, match.match_id))
            if row is None:
                row = ListingMatchRow(listing_id=own.listing_id, match_id=match.match_id)
                session.add(row)
            elif _older(own, other, row):
                continue  # a newer evaluation of the pair is already here
            row.counterpart_id = other.listing_id
            row.counterpart_title = other.title
            row.counterpart_organisation_id = other.organisation_id
            row.listing_version, row.counterpart_version = own.version, other.version
            row.score, row.reasons, row.status = match.score, reasons, status
            row.updated_at = datetime.now(UTC)

    def _settle(self, session: Session, settled: MatchesSettled) -> None:
        listing = settled.listing_id
        older = or_(
            and_(
                ListingMatchRow.listing_id == listing,
                ListingMatchRow.listing_version < settled.version,
            ),
            and_(
                ListingMatchRow.counterpart_id == listing,
                ListingMatchRow.counterpart_version < settled.version,
            ),
        )
        if not settled.is_published:  # gone: every match not from a later version goes too
            older = or_(
                and_(
                    ListingMatchRow.listing_id == listing,
                    ListingMatchRow.listing_version <= settled.version,
                ),
                and_(
                    ListingMatchRow.counterpart_id == listing,
                    ListingMatchRow.counterpart_version <= settled.version,
                ),
            )
        gone = select(ListingMatchRow.match_id).where(ListingMatchRow.status == ACTIVE, older)
        session.execute(
            update(ListingMatchRow)
            .where(ListingMatchRow.match_id.in_(gone.scalar_subquery()))
            .values(status=RETRACTED, updated_at=datetime.now(UTC))
            .execution_options(synchronize_session=False)
        )

    def current(self, listing_id: str) -> list[CurrentMatch]:
        """The listing's active matches whose counterpart is still published, best first."""
        counterpart = aliased(ListingRow)
        query = (
            select(ListingMatchRow, OrganisationRow.name)
            .join(counterpart, counterpart.id == ListingMatchRow.counterpart_id)
            .outerjoin(OrganisationRow, OrganisationRow.id == counterpart.organisation_id)
            .where(
                ListingMatchRow.listing_id == listing_id,
                ListingMatchRow.status == ACTIVE,
                counterpart.status == "published",
            )
            .order_by(ListingMatchRow.score.desc(), ListingMatchRow.match_id)
        )
        with unit_of_work(self._sessions) as session:
            return [
                CurrentMatch(
                    match_id=row.match_id,
                    counterpart_id=row.counterpart_id,
                    counterpart_title=row.counterpart_title,
                    counterpart_organisation_id=row.counterpart_organisation_id,
                    score=row.score,
                    reasons=row.reasons,
                    counterpart_organisation_name=name or "",
                )
                for row, name in session.execute(query)
            ]


def _matched(session: Session, listing_ids: list[str]) -> set[str]:
    """Those of `listing_ids` that an active row names, as listing or as counterpart."""
    found: set[str] = set()
    for ids in in_chunks(listing_ids):
        rows = session.execute(
            select(ListingMatchRow.listing_id, ListingMatchRow.counterpart_id).where(
                ListingMatchRow.status == ACTIVE,
                or_(ListingMatchRow.listing_id.in_(ids), ListingMatchRow.counterpart_id.in_(ids)),
            )
        )
        for own, other in rows:
            found.update((own, other))
    return found


def _older(own: MatchSide, other: MatchSide, row: ListingMatchRow) -> bool:
    return own.version < (row.listing_version or 0) or other.version < (
        row.counterpart_version or 0
    )
