"""An organisation's data: all of it to take away (export), and leaving Boucle (erasure).

Export gathers what listings holds (profile, members, tokens without their values,
listings, their current matches, exchanges and their messages) and what the notifications
service holds (alerts, deliveries, notices, settings; fetched by the caller), as JSON and
one CSV per table, in a zip.

Deleting withdraws every active listing (so matches are retracted everywhere), erases the
organisation's personal data here, publishes `boucle.organisation.deleted` (every service
erases its part) and tombstones the organisation's and its listings' keys on the compacted
topics, so a consumer reading them from the start finds nothing of it. What aggregate
statistics need stays, without anything that names or locates anyone: each listing's kind,
category, quantity, unit and status, its place rounded to ~10 km; exchanges' quantities.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from listings.domain import SOURCE as LISTINGS_SOURCE
from listings.domain import apply_action, event_type_for
from listings.errors import Forbidden, NotFound
from listings.organisations import SOURCE as ORGANISATIONS_SOURCE
from listings.repository import SqlAlchemyRepository
from listings.tables import (
    AccountLinkRow,
    ApiTokenRow,
    AuditRow,
    ExchangeMessageRow,
    ExchangeRow,
    ListingMatchRow,
    ListingRow,
    MemberRow,
    MemberSessionRow,
    OrganisationRow,
)
from shared import contracts
from shared.db import unit_of_work
from shared.event_schemas import ORGANISATION_DELETED
from shared.events import Event
from shared.settings import Topics

ACTIVE = ("draft", "published", "reserved")
#: columns never exported: secrets and what only the server needs
_HIDDEN = {"password_hash", "digest", "h3_cell", "ecef_x", "ecef_y", "ecef_z", "search_text"}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _rows(session: Session, table: Any, *where: Any) -> list[dict[str, Any]]:
    columns = [c.name for c in table.__table__.columns if c.name not in _HIDDEN]
    return [
        {name: _plain(getattr(row, name)) for name in columns}
        for row in session.scalars(select(table).where(*where))
    ]


class OrganisationData:
    """Export and erasure of one organisation's data in the listings service."""

    def __init__(self, sessions: sessionmaker[Session], topics: Topics) -> None:
        self._sessions = sessions
        self._topics = topics

    def export(self, organisation_id: str, elsewhere: dict[str, Any]) -> bytes:
        """A zip of everything held about the organisation: data.json and one CSV a table."""
        with unit_of_work(self._sessions) as session:
            listing_ids = select(ListingRow.id).where(ListingRow.organisation_id == organisation_id)
            exchanges = (ExchangeRow.owner_id == organisation_id) | (
                ExchangeRow.requester_id == organisation_id
            )
            exchange_ids = select(ExchangeRow.id).where(exchanges)
            tables: dict[str, Any] = {
                "organisation": _rows(
                    session, OrganisationRow, OrganisationRow.id == organisation_id
                ),
                "members": _rows(session, MemberRow, MemberRow.organisation_id == organisation_id),
                "api_tokens": _rows(
                    session, ApiTokenRow, ApiTokenRow.organisation_id == organisation_id
                ),
                "listings": _rows(
                    session, ListingRow, ListingRow.organisation_id == organisation_id
                ),
                "matches": _rows(
                    session, ListingMatchRow, ListingMatchRow.listing_id.in_(listing_ids)
                ),
                "exchanges": _rows(session, ExchangeRow, exchanges),
                "exchange_messages": _rows(
                    session, ExchangeMessageRow, ExchangeMessageRow.exchange_id.in_(exchange_ids)
                ),
            }
        tables.update(elsewhere)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("data.json", json.dumps(tables, indent=2, ensure_ascii=False))
            for name, rows in tables.items():
                table = _csv(rows)
                if table:
                    archive.writestr(f"{name}.csv", table)
        return buffer.getvalue()

    def delete(self, organisation_id: str, actor_id: str, actor_organisation_id: str) -> int:
        """Erase the organisation (its owner, or an admin); returns how many listings it had."""
        now = datetime.now(UTC)
        with unit_of_work(self._sessions) as session:
            repository = SqlAlchemyRepository(session)
            organisation = session.get(OrganisationRow, organisation_id, with_for_update=True)
            if organisation is None:
                raise NotFound(organisation_id)
            actor = session.get(MemberRow, actor_id)
            is_owner = (
                actor is not None
                and actor.organisation_id == organisation_id
                and actor.organisation_role == "owner"
            )
            is_admin = actor is not None and actor.role == "admin"
            if not (is_owner or is_admin):
                raise Forbidden("only an owner may delete the organisation")
            listings = repository.listings(
                select(ListingRow).where(ListingRow.organisation_id == organisation_id)
            )
            for listing in listings:
                if listing.status in ACTIVE:
                    withdrawn = apply_action(listing, "withdraw", now)
                    repository.save_listing(withdrawn)
                    event_type = event_type_for(withdrawn, first_publication=False)
                    if event_type is not None:
                        repository.add_event(
                            self._topics.listings,
                            Event(
                                type=event_type,
                                source=LISTINGS_SOURCE,
                                subject=listing.id,
                                data=withdrawn.event_data(),
                            ),
                        )
            session.flush()
            for listing in listings:
                repository.add_tombstone(self._topics.listings, listing.id)
            self._erase(session, organisation_id)
            deleted = contracts.OrganisationDeleted(id=organisation_id, deleted_at=now)
            repository.add_event(
                self._topics.organisations,
                Event(
                    type=ORGANISATION_DELETED,
                    source=ORGANISATIONS_SOURCE,
                    subject=organisation_id,
                    data=deleted,
                ),
            )
            repository.add_tombstone(self._topics.organisations, organisation_id)
            if is_admin and not is_owner and actor is not None:
                session.add(
                    AuditRow(
                        id=str(uuid.uuid4()),
                        at=now,
                        actor_id=actor.id,
                        actor_organisation_id=actor_organisation_id,
                        action="delete_organisation",
                        subject=organisation_id,
                        detail=f"{len(listings)} listings withdrawn and anonymised",
                    )
                )
            return len(listings)

    @staticmethod
    def _erase(session: Session, organisation_id: str) -> None:
        members = select(MemberRow.id).where(MemberRow.organisation_id == organisation_id)
        session.execute(delete(MemberSessionRow).where(MemberSessionRow.member_id.in_(members)))
        session.execute(delete(MemberRow).where(MemberRow.organisation_id == organisation_id))
        session.execute(delete(ApiTokenRow).where(ApiTokenRow.organisation_id == organisation_id))
        session.execute(
            delete(AccountLinkRow).where(AccountLinkRow.organisation_id == organisation_id)
        )
        for row in session.scalars(
            select(ListingRow).where(ListingRow.organisation_id == organisation_id)
        ):
            row.title, row.description, row.place = "—", "", ""
            # ~10 km: enough for a regional count, too coarse to find anyone.
            row.lat, row.lon = round(row.lat, 1), round(row.lon, 1)
        listing_ids = select(ListingRow.id).where(ListingRow.organisation_id == organisation_id)
        session.execute(delete(ListingMatchRow).where(ListingMatchRow.listing_id.in_(listing_ids)))
        mine = (ExchangeRow.owner_id == organisation_id) | (
            ExchangeRow.requester_id == organisation_id
        )
        exchange_ids = select(ExchangeRow.id).where(mine)
        session.execute(
            delete(ExchangeMessageRow).where(ExchangeMessageRow.exchange_id.in_(exchange_ids))
        )
        for exchange in session.scalars(select(ExchangeRow).where(mine)):
            exchange.reference, exchange.problem = "", None
        organisation = session.get(OrganisationRow, organisation_id)
        if organisation is not None:
            organisation.name = "—"
            organisation.contact_email = ""
            organisation.phone = organisation.place = ""
            organisation.description = organisation.website = ""
            organisation.lat = organisation.lon = None
            organisation.contact_email_verified = False


def _csv(rows: Any) -> str:
    """One table as CSV: a list of records, or one record; anything else has no table."""
    if isinstance(rows, dict):
        rows = [rows]
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in row.items()}
        )
    return out.getvalue()
