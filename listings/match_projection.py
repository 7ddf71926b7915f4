"""The read model of each listing's current matches, kept from the `matches` topic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from listings.tables import ListingMatchRow
from shared.db import unit_of_work
from shared.event_schemas import MATCH_FOUND, MATCH_RETRACTED
from shared.events import Event


@dataclass(frozen=True)
class CurrentMatch:
    match_id: str
    counterpart_id: str
    counterpart_title: str
    counterpart_organisation_id: str
    score: float
    reasons: dict[str, Any]


class MatchProjection:
    """Upserts both sides of every match; a retraction marks them retracted. Idempotent."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def __call__(self, event: Event) -> None:
        if event.type not in (MATCH_FOUND, MATCH_RETRACTED):
            return
        data = event.data
        status = "active" if event.type == MATCH_FOUND else "retracted"
        reasons = {k: v for k, v in data["reasons"].items()}
        with unit_of_work(self._sessions) as session:
            for side, other in (("offer", "need"), ("need", "offer")):
                key = (data[side]["listing_id"], data["match_id"])
                row = session.get(ListingMatchRow, key) or ListingMatchRow(
                    listing_id=key[0], match_id=key[1]
                )
                row.counterpart_id = data[other]["listing_id"]
                row.counterpart_title = data[other]["title"]
                row.counterpart_organisation_id = data[other]["organisation_id"]
                row.score = data["score"]
                row.reasons = reasons
                row.status = status
                row.updated_at = datetime.now(UTC)
                session.merge(row)

    def current(self, listing_id: str) -> list[CurrentMatch]:
        """The listing's active matches, best first."""
        query = (
            select(ListingMatchRow)
            .where(ListingMatchRow.listing_id == listing_id, ListingMatchRow.status == "active")
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
                )
                for row in session.scalars(query)
            ]
