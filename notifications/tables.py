"""The notifier's own tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, MetaData, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UtcDateTime


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s_%(column_1_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class AlertRow(Base):
    """One alert to one party of one match: unique, so a re-delivered match adds nothing."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("match_id", "listing_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    match_id: Mapped[str] = mapped_column(String(36), index=True)
    listing_id: Mapped[str] = mapped_column(String(36), index=True)
    organisation_id: Mapped[str] = mapped_column(String(36), index=True)
    role: Mapped[str] = mapped_column(String(10))
    counterpart_listing_id: Mapped[str] = mapped_column(String(36))
    counterpart_title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(10))
    distance_km: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(12), default="active")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
