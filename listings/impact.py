"""An organisation's own impact: what its completed exchanges moved and avoided, computed
with the same definitions and factors as the admins' summary (shared/impact)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from listings.exchange_store import ExchangeStore
from listings.tables import ListingRow, OrganisationRow
from shared.db import unit_of_work
from shared.impact.factors import LONG_CHAIN_KM
from shared.impact.summary import ImpactRow, Lineage, impact_summary, transfers


class OrganisationImpact:
    """Reads the organisation's completed exchanges and sums their impact."""

    def __init__(self, sessions: sessionmaker[Session], lineage: Lineage) -> None:
        self._sessions = sessions
        self._lineage = lineage

    def of(self, organisation_id: str) -> tuple[list[ImpactRow], ImpactRow]:
        """Rows per material (largest CO2e first) and the total, for one organisation."""
        with unit_of_work(self._sessions) as session:
            rows = ExchangeStore(session).completed_of(organisation_id)
            exchanges = [_exchange(row) for row in rows]
            listings = _listings(session, {row.listing_id for row in rows})
            places = _places(session, {row.requester_id for row in rows})
        moved = transfers(listings, exchanges, places, self._lineage)
        return impact_summary(moved, self._lineage, LONG_CHAIN_KM)


def _exchange(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "listing_id": row.listing_id,
        "requester_organisation_id": row.requester_id,
        "status": row.status,
        "unit": row.unit,
        "owner_handed_over": row.owner_handed_over,
        "requester_handed_over": row.requester_handed_over,
    }


def _listings(session: Session, ids: set[str]) -> dict[str, dict[str, Any]]:
    found = session.scalars(select(ListingRow).where(ListingRow.id.in_(ids)))
    return {
        row.id: {
            "id": row.id,
            "category": row.category,
            "location": {"lat": row.lat, "lon": row.lon},
        }
        for row in found
    }


def _places(session: Session, ids: set[str]) -> dict[str, dict[str, Any]]:
    found = session.scalars(select(OrganisationRow).where(OrganisationRow.id.in_(ids)))
    return {
        row.id: {"location": {"lat": row.lat, "lon": row.lon}}
        for row in found
        if row.lat is not None and row.lon is not None
    }
