"""Links sent by e-mail: confirm an address, reset a password, join an organisation.

A link carries 32 random bytes; only their SHA-256 digest is stored, with what the link is
for, the address it was sent to, its expiry and whether it was used. A random token looked
up in our own table is unforgeable and needs no signing key; expiry and single use are
checked on redemption, in the same transaction that acts on it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from listings.errors import ListingsError
from listings.tables import AccountLinkRow
from shared.auth import token_digest

CONFIRM_EMAIL, RESET_PASSWORD, INVITATION = "confirm_email", "reset_password", "invitation"
LIFETIMES = {
    CONFIRM_EMAIL: timedelta(days=2),
    RESET_PASSWORD: timedelta(hours=1),
    INVITATION: timedelta(days=3),
}
#: where each link leads on the site
PATHS = {
    CONFIRM_EMAIL: "/account/confirm/",
    RESET_PASSWORD: "/password/reset/",
    INVITATION: "/invitations/",
}


class LinkRefused(ListingsError):
    """The link is unknown, expired or already used (`reason` says which)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class IssuedLink:
    """A fresh link: its full URL (to e-mail, never stored) and when it stops working."""

    url: str
    expires_at: datetime


def issue(
    session: Session,
    base_url: str,
    purpose: str,
    email: str,
    organisation_id: str,
    now: datetime,
    member_id: str | None = None,
    role: str = "member",
) -> IssuedLink:
    """A new link for `purpose`, stored as its digest in the caller's transaction."""
    token = secrets.token_urlsafe(32)
    expires_at = now + LIFETIMES[purpose]
    session.add(
        AccountLinkRow(
            digest=token_digest(token),
            purpose=purpose,
            email=email,
            organisation_id=organisation_id,
            member_id=member_id,
            role=role,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return IssuedLink(f"{base_url.rstrip('/')}{PATHS[purpose]}{token}", expires_at)


def redeem(session: Session, purpose: str, token: str, now: datetime) -> AccountLinkRow:
    """The link's row, marked used; LinkRefused when it is unknown, expired or used."""
    row = session.get(AccountLinkRow, token_digest(token), with_for_update=True)
    if row is None or row.purpose != purpose:
        raise LinkRefused("unknown")
    if row.used_at is not None:
        raise LinkRefused("used")
    if row.expires_at <= now:
        raise LinkRefused("expired")
    row.used_at = now
    return row


def peek(session: Session, purpose: str, token: str, now: datetime) -> AccountLinkRow:
    """The link's row if it would be accepted now, without using it (to show a form)."""
    row = session.get(AccountLinkRow, token_digest(token))
    if row is None or row.purpose != purpose:
        raise LinkRefused("unknown")
    if row.used_at is not None:
        raise LinkRefused("used")
    if row.expires_at <= now:
        raise LinkRefused("expired")
    return row
