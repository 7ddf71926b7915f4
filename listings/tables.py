"""The listings service's own tables: organisations, members, tokens, listings, the outbox,
and the read model of each listing's current matches."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from listings.spatial import ecef_km, stored_cell
from shared.db import UtcDateTime
from shared.outbox import OutboxColumns


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class OrganisationRow(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))
    place: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    contact_email: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2))
    phone: Mapped[str] = mapped_column(String(40), default="")
    contact_email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MemberRow(Base):
    __tablename__ = "members"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(2))
    role: Mapped[str] = mapped_column(String(10), default="member")
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    organisation_role: Mapped[str] = mapped_column(String(10), default="owner")


class ApiTokenRow(Base):
    """An API token, stored as its SHA-256 digest only."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    #: the member who created it: removing the member revokes it
    created_by: Mapped[str | None] = mapped_column(String(36), nullable=True)


class AccountLinkRow(Base):
    """A link sent by e-mail (confirm an address, reset a password, join an organisation).

    Only the digest of its random token is kept; it expires and works once.
    """

    __tablename__ = "account_links"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(254))
    organisation_id: Mapped[str] = mapped_column(String(36), index=True)
    member_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    #: for an invitation: the role the new member gets
    role: Mapped[str] = mapped_column(String(10), default="member")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class AuditRow(Base):
    """What an admin or an owner did to others' data: who, when, what, on what."""

    __tablename__ = "audit_log"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor_id: Mapped[str] = mapped_column(String(36))
    actor_organisation_id: Mapped[str] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")


class MemberSessionRow(Base):
    """A member's login, kept on the server so log-out and revocation end it at once.

    The cookie carries the session id; only its SHA-256 digest is stored here.
    """

    __tablename__ = "member_sessions"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ListingRow(Base):
    __tablename__ = "listings"
    __table_args__ = (Index("ix_listings_search", "status", "kind", "category"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(100), index=True)
    quantity: Mapped[float] = mapped_column(Float)
    min_quantity: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit: Mapped[str] = mapped_column(String(10))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    place: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    radius_km: Mapped[float] = mapped_column(Float)
    available_from: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    available_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    use_by: Mapped[date | None] = mapped_column(Date, nullable=True)
    recurrence: Mapped[str] = mapped_column(String(10), default="one-off")
    price_mode: Mapped[str] = mapped_column(String(12), default="free")
    price_amount: Mapped[float | None] = mapped_column(Float, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # What accepted exchanges have not taken (None: all of it); never below 0.
    remaining_quantity: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_price: Mapped[float | None] = mapped_column(Float, nullable=True)
    # Searchable forms of (lat, lon), set on every write (listings/spatial.py, ADR 0008).
    # PostgreSQL also keeps a generated `search_vector` (migration 0010), not mapped here.
    h3_cell: Mapped[int] = mapped_column(BigInteger)
    ecef_x: Mapped[float] = mapped_column(Float)
    ecef_y: Mapped[float] = mapped_column(Float)
    ecef_z: Mapped[float] = mapped_column(Float)


Index(
    "ix_listings_nearby",
    ListingRow.status,
    ListingRow.h3_cell,
    # Counting needs no visit to the table on PostgreSQL: the filters and the exact test
    # read these from the index.
    postgresql_include=["kind", "category", "ecef_x", "ecef_y", "ecef_z"],
)
Index("ix_listings_recent", ListingRow.status, ListingRow.updated_at)


@event.listens_for(ListingRow, "before_insert")
@event.listens_for(ListingRow, "before_update")
def _locate(_mapper: Any, _connection: Any, row: ListingRow) -> None:
    row.h3_cell = stored_cell(row.lat, row.lon)
    row.ecef_x, row.ecef_y, row.ecef_z = ecef_km(row.lat, row.lon)


class ListingMatchRow(Base):
    """Read model: one listing's side of a current match, kept from the matches topic."""

    __tablename__ = "listing_matches"

    listing_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    match_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    counterpart_id: Mapped[str] = mapped_column(String(36), index=True)
    counterpart_title: Mapped[str] = mapped_column(String(200))
    counterpart_organisation_id: Mapped[str] = mapped_column(String(36))
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12))  # active | retracted
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The listing versions the pair was last evaluated at (0: unknown, match schema 1).
    listing_version: Mapped[int] = mapped_column(Integer, default=0)
    counterpart_version: Mapped[int] = mapped_column(Integer, default=0)


class ExchangeRow(Base):
    """An exchange about one listing between its owner and a requester."""

    __tablename__ = "exchanges"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    listing_id: Mapped[str] = mapped_column(String(36), index=True)
    owner_id: Mapped[str] = mapped_column(String(36), index=True)
    requester_id: Mapped[str] = mapped_column(String(36), index=True)
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(10))
    window_from: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    window_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(12), index=True)
    awaiting: Mapped[str | None] = mapped_column(String(36), nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    owner_handed_over: Mapped[float | None] = mapped_column(Float, nullable=True)
    requester_handed_over: Mapped[float | None] = mapped_column(Float, nullable=True)
    reference: Mapped[str] = mapped_column(String(200), default="")
    problem: Mapped[str | None] = mapped_column(Text, nullable=True)
    repeats: Mapped[str] = mapped_column(String(10), default="one-off")
    series_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    occurrence: Mapped[int] = mapped_column(Integer, default=1)


class ExchangeMessageRow(Base):
    """One message in an exchange's thread."""

    __tablename__ = "exchange_messages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    exchange_id: Mapped[str] = mapped_column(String(36), index=True)
    author_id: Mapped[str] = mapped_column(String(36))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OutboxRow(OutboxColumns, Base):
    """An event written in the same transaction as the change it reports."""

    __tablename__ = "outbox"

    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    event_type: Mapped[str] = mapped_column(String(100))
