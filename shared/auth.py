"""Who is calling: the contract every web service shares for sessions and API tokens.

The listings service owns accounts. When a member logs in it writes the keys below into the
Flask session (a cookie signed with the shared SECRET_KEY, named SESSION_COOKIE_NAME), so
every web service behind the router recognises the same login without reading the listings
tables. API tokens are random strings; services compare SHA-256 digests only, and learn an
organisation's live digests from the `organisations` topic.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

SESSION_COOKIE_NAME = "boucle_session"
SESSION_LIFETIME = timedelta(hours=12)
TOKEN_PREFIX = "bcl_"

# Keys of the Flask session that make up a login.
USER_ID, ORGANISATION_ID, ROLE, LANGUAGE, EXPIRES = (
    "user_id",
    "organisation_id",
    "role",
    "lang",
    "expires_at",
)


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a member through a session, or an organisation's API token."""

    organisation_id: str
    user_id: str | None = None
    role: str = "member"

    @property
    def is_admin(self) -> bool:
        """Admins of the exchange may moderate and monitor everything."""
        return self.role == "admin"


def session_login(session: Any, principal: Principal, language: str, now: datetime) -> None:
    """Write a login into a Flask session (listings does this after checking the password)."""
    session.clear()
    session[USER_ID] = principal.user_id
    session[ORGANISATION_ID] = principal.organisation_id
    session[ROLE] = principal.role
    session[LANGUAGE] = language
    session[EXPIRES] = (now + SESSION_LIFETIME).timestamp()


def principal_from_session(
    session: Mapping[str, Any], now: datetime | None = None
) -> Principal | None:
    """The logged-in member, or None when there is no login or it has expired."""
    user_id, organisation_id = session.get(USER_ID), session.get(ORGANISATION_ID)
    expires = session.get(EXPIRES)
    if not user_id or not organisation_id or not isinstance(expires, int | float):
        return None
    if (now or datetime.now(UTC)).timestamp() >= expires:
        return None
    return Principal(
        organisation_id=organisation_id, user_id=user_id, role=session.get(ROLE, "member")
    )


def new_api_token() -> str:
    """A fresh API token: shown to its owner once, stored only as its digest."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """SHA-256 hex digest of a token (tokens are long and random, so no salt or KDF is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def bearer_token(authorization_header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    if not authorization_header:
        return None
    scheme, _, token = authorization_header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def digest_matches(token: str, digests: list[str] | set[str]) -> bool:
    """Constant-time check of a presented token against known digests."""
    presented = token_digest(token)
    return any(hmac.compare_digest(presented, known) for known in digests)
