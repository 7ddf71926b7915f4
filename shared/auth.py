"""Who is calling: the contract every web service shares for sessions and API tokens.

The listings service owns accounts. When a member logs in it opens a server-side session
(its id in the Flask session cookie, signed with the shared SECRET_KEY, named
SESSION_COOKIE_NAME) and only listings can say whether that session, or an API token, is
still good. The edge asks it once per request and forwards the answer to every service as a
signed identity (shared/identity.py, ADR 0007). API tokens are random strings; only their
SHA-256 digests are stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

SESSION_COOKIE_NAME = "boucle_session"
SESSION_LIFETIME = timedelta(hours=12)
TOKEN_PREFIX = "bcl_"

# Keys of the Flask session: the server-side login it points to, and the reader's language.
# Role and organisation are not kept in the cookie: listings reads them on every request, so a
# demotion or removal holds at once.
SESSION_ID, LANGUAGE = ("sid", "lang")


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


def session_login(session: Any, session_id: str, language: str) -> None:
    """Point a Flask session at a login listings opened (after checking the password)."""
    session.clear()
    session[SESSION_ID] = session_id
    session[LANGUAGE] = language


def session_id_of(session: Mapping[str, Any]) -> str | None:
    """The server-side login a Flask session points to, or None."""
    found = session.get(SESSION_ID)
    return found if isinstance(found, str) and found else None


def new_session_id() -> str:
    """A fresh login id: kept in the member's cookie, stored only as its digest."""
    return secrets.token_urlsafe(32)


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
