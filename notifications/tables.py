"""The notifier's own tables: alerts (the inbox), deliveries, preferences, endpoints, projection."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from notifications.secret_box import SealedString
from shared.db import UtcDateTime
from shared.outbox import OutboxColumns
from shared.tracking import processed_events_table


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s_%(column_1_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


processed_events = processed_events_table(Base.metadata)


class AlertRow(Base):
    """One alert to one party of one match: unique, so a re-delivered match adds nothing."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("match_id", "listing_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    match_id: Mapped[str] = mapped_column(String(36), index=True)
    listing_id: Mapped[str] = mapped_column(String(36), index=True)
    organisation_id: Mapped[str] = mapped_column(String(36), index=True)
    role: Mapped[str] = mapped_column(String(10))
    counterpart_listing_id: Mapped[str] = mapped_column(String(36), index=True)
    counterpart_title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(10))
    distance_km: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(12), default="active")
    # Indexed: the live feeds look for the newest rows of every organisation at once.
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    own_title: Mapped[str] = mapped_column(String(200), default="")
    counterpart_organisation_id: Mapped[str | None] = mapped_column(String(36))
    counterpart_place: Mapped[str | None] = mapped_column(String(200))
    available_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reasons: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Read by the organisation's API clients (an API token is no member); members' own
    # reads are in AlertReadRow.
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    retracted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    retraction_reason: Mapped[str | None] = mapped_column(String(200))
    # The listing versions the match was last found at (0: unknown, before match schema 2).
    listing_version: Mapped[int] = mapped_column(Integer, default=0)
    counterpart_version: Mapped[int] = mapped_column(Integer, default=0)
    counterpart_organisation_name: Mapped[str] = mapped_column(String(200), default="")
    price_mode: Mapped[str | None] = mapped_column(String(12))
    price_amount: Mapped[float | None] = mapped_column(Float)


class AlertReadRow(Base):
    """One member read one alert: read state is per member, so a colleague still sees it."""

    __tablename__ = "alert_reads"

    alert_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ErasedAlertTally(Base):
    """What aggregate statistics keep of an erased organisation's alerts: counts per day,
    category and side, with no organisation, listing, address or name."""

    __tablename__ = "erased_alert_tallies"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # ISO date, UTC
    category: Mapped[str] = mapped_column(String(100), primary_key=True)
    role: Mapped[str] = mapped_column(String(10), primary_key=True)
    alerts: Mapped[int] = mapped_column(Integer, default=0)
    emails_sent: Mapped[int] = mapped_column(Integer, default=0)


class ListingVersionRow(Base):
    """The newest version (and its status) the notifier has seen of a listing, from the
    listings topic or a match event: match events from older versions are stale."""

    __tablename__ = "listing_versions"

    listing_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))


class DeliveryRow(Base):
    """One alert on one channel to one recipient; the unique key makes sending exactly once."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("match_id", "recipient", "channel", name="uq_deliveries_once"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    match_id: Mapped[str] = mapped_column(String(36))
    alert_id: Mapped[str] = mapped_column(String(36), index=True)
    organisation_id: Mapped[str] = mapped_column(String(36), index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subscriber: Mapped[str] = mapped_column(String(36), default="")
    channel: Mapped[str] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(2), default="en")
    digest: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))  # pending, sent, dead_lettered, cancelled
    # "match": `alert_id` is an alert; "exchange": an exchange notice (match_id = its id too)
    kind: Mapped[str] = mapped_column(String(10), default="match")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ExchangeNoticeRow(Base):
    """One step of an exchange told to one of its organisations (inbox and e-mail)."""

    __tablename__ = "exchange_notices"
    __table_args__ = (
        UniqueConstraint(
            "exchange_id", "version", "step", "organisation_id", name="uq_notice_once"
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    exchange_id: Mapped[str] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[str] = mapped_column(String(36), index=True)
    author_organisation_id: Mapped[str | None] = mapped_column(String(36))
    author_name: Mapped[str] = mapped_column(String(200), default="")
    listing_title: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12))
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OutboxRow(OutboxColumns, Base):
    """A delivery outcome event, written with the outcome and published afterwards in order."""

    __tablename__ = "notification_outbox"


class PreferenceRow(Base):
    """A recipient's choices; member_id "" holds the organisation's own (contact) choices."""

    __tablename__ = "notification_preferences"

    organisation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean)
    webhook: Mapped[bool] = mapped_column(Boolean)
    inbox: Mapped[bool] = mapped_column(Boolean)
    digest: Mapped[bool] = mapped_column(Boolean)
    digest_hour: Mapped[int] = mapped_column(Integer)
    muted_categories: Mapped[list[str]] = mapped_column(JSON)
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WebhookEndpointRow(Base):
    """An organisation's webhook receiver and the secret its deliveries are signed with."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(String(36), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    # Sealed at rest (notifications/secret_box.py): the notifier needs it back to sign.
    secret: Mapped[str] = mapped_column(SealedString)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OrganisationRow(Base):
    """The notifier's projection of an organisation, from the `organisations` topic."""

    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(320))
    # Nothing is e-mailed to an address its owner has not confirmed (members: in `members`).
    contact_email_verified: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(2))
    members: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OrganisationTokenRow(Base):
    """A live API token digest of an organisation, for bearer authentication."""

    __tablename__ = "organisation_tokens"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(String(36), index=True)


class PushSubscriptionRow(Base):
    """A member's browser (a phone, a desk) that takes Web Push alerts: where its push
    service waits and the keys the alerts are encrypted for."""

    __tablename__ = "push_subscriptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(String(36), index=True)
    member_id: Mapped[str] = mapped_column(String(36))
    endpoint: Mapped[str] = mapped_column(String(2000), index=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(5), default="en")
    device: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
