"""Preferences and webhook endpoints in the notifier's database, as plain values."""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications.organisations import load_organisation
from notifications.preferences import Audience, Preferences, defaults_for
from notifications.push_store import subscriptions_by_member
from notifications.tables import PreferenceRow, WebhookEndpointRow


def _clock(value: str | None) -> time | None:
    return time.fromisoformat(value) if value else None


def load_preferences(session: Session, organisation_id: str, member_id: str) -> Preferences:
    """Stored preferences, or the defaults for that kind of recipient."""
    row = session.get(PreferenceRow, (organisation_id, member_id))
    return defaults_for(member_id) if row is None else _from_row(row)


def _from_row(row: PreferenceRow) -> Preferences:
    return Preferences(
        email=row.email,
        webhook=row.webhook,
        inbox=row.inbox,
        digest=row.digest,
        digest_hour=row.digest_hour,
        muted_categories=frozenset(row.muted_categories),
        quiet_start=_clock(row.quiet_start),
        quiet_end=_clock(row.quiet_end),
    )


def save_preferences(
    session: Session, organisation_id: str, member_id: str, prefs: Preferences
) -> None:
    """Store a recipient's preferences; they apply from the next alert on."""
    row = session.get(PreferenceRow, (organisation_id, member_id))
    if row is None:
        row = PreferenceRow(organisation_id=organisation_id, member_id=member_id)
        session.add(row)
    row.email, row.webhook, row.inbox = prefs.email, prefs.webhook, prefs.inbox
    row.digest, row.digest_hour = prefs.digest, prefs.digest_hour
    row.muted_categories = sorted(prefs.muted_categories)
    row.quiet_start = prefs.quiet_start.strftime("%H:%M") if prefs.quiet_start else None
    row.quiet_end = prefs.quiet_end.strftime("%H:%M") if prefs.quiet_end else None
    row.updated_at = datetime.now(UTC)


def load_audience(session: Session, organisation_id: str) -> Audience:
    """Who hears about an alert for this organisation, and how they want to."""
    organisation = load_organisation(session, organisation_id)
    if organisation is None:
        return Audience(organisation_id, known=False)
    rows = session.scalars(
        select(PreferenceRow).where(PreferenceRow.organisation_id == organisation_id)
    )
    preferences = {row.member_id: _from_row(row) for row in rows}
    return Audience(
        organisation_id,
        people=organisation.people(),
        preferences=preferences,
        webhook_endpoints=[e.id for e in endpoints_of(session, organisation_id)],
        push_subscriptions=subscriptions_by_member(session, organisation_id),
    )


@dataclass(frozen=True)
class NewEndpoint:
    """A registered endpoint and its signing secret, which is shown this once."""

    id: str
    url: str
    description: str
    secret: str
    created_at: datetime


def new_signing_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def add_endpoint(session: Session, organisation_id: str, url: str, description: str) -> NewEndpoint:
    """Register an endpoint (its URL already checked); returns it with its secret."""
    row = WebhookEndpointRow(
        id=str(uuid.uuid4()),
        organisation_id=organisation_id,
        url=url,
        description=description,
        secret=new_signing_secret(),
        active=True,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    return NewEndpoint(row.id, row.url, row.description, row.secret, row.created_at)


def endpoints_of(session: Session, organisation_id: str) -> list[WebhookEndpointRow]:
    """An organisation's active endpoints, oldest first."""
    return list(
        session.scalars(
            select(WebhookEndpointRow)
            .where(
                WebhookEndpointRow.organisation_id == organisation_id,
                WebhookEndpointRow.active.is_(True),
            )
            .order_by(WebhookEndpointRow.created_at, WebhookEndpointRow.id)
        )
    )


def remove_endpoint(session: Session, organisation_id: str, endpoint_id: str) -> bool:
    """Deactivate one of the organisation's endpoints; False if it has no such endpoint."""
    row = session.get(WebhookEndpointRow, endpoint_id)
    if row is None or row.organisation_id != organisation_id or not row.active:
        return False
    row.active = False
    return True
