"""The caller's identity as the edge forwards it to every service (ADR 0007).

The listings service owns accounts, sessions and API tokens. The edge (Caddy's
`forward_auth`, or the Python router when Caddy is absent) asks listings who a request
comes from, once per request, and forwards the answer to the service that serves it in the
`X-Boucle-Identity` header: the principal, signed with a key derived from SECRET_KEY and
valid for a few seconds. A service that receives the header needs no copy of the accounts
and no cache, so a token works everywhere from the moment it is issued and a revocation
(token revoked, member removed, admin demoted, log-out) holds everywhere on the next request.

The edge strips any `X-Boucle-Identity` a client sends; the signature makes a forged one
useless anyway, and the short validity bounds what a header seen inside the network is worth.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from shared.auth import Principal

IDENTITY_HEADER = "X-Boucle-Identity"
#: What the edge forwards for a visitor with no credentials. Always sending a value keeps
#: the edge's copy simple (Caddy's forward_auth copies a header only as a whole).
ANONYMOUS = "anonymous"
#: How long a signed identity is accepted: the edge signs a fresh one for every request.
DEFAULT_MAX_AGE_S = 60.0
_VERSION = "v1"


class InvalidIdentity(ValueError):
    """The header is malformed, forged, or too old: the request is refused, not anonymous."""


@dataclass(frozen=True)
class Identity:
    """Who the edge says is calling, and in which language they read Boucle."""

    principal: Principal
    language: str = ""


def _key(secret_key: str) -> bytes:
    # A key of its own, so a signed identity can never pass for a session cookie or the
    # other way round, although both derive from the one SECRET_KEY operators manage.
    return hmac.new(secret_key.encode(), b"boucle identity header v1", hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class IdentitySigner:
    """Signs identities at the edge and checks them in the services."""

    secret_key: str
    max_age_s: float = DEFAULT_MAX_AGE_S

    def sign(self, identity: Identity, now: datetime) -> str:
        """The header value for `identity`, issued at `now`."""
        principal = identity.principal
        payload = {
            "org": principal.organisation_id,
            "user": principal.user_id,
            "role": principal.role,
            "lang": identity.language,
            "iat": round(now.timestamp(), 3),
        }
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return f"{_VERSION}.{body}.{self._mac(body)}"

    def verify(self, value: str, now: datetime) -> Identity:
        """The identity in a header value; InvalidIdentity when it is not one we signed lately."""
        version, _, rest = value.partition(".")
        body, _, mac = rest.partition(".")
        if version != _VERSION or not body or not mac:
            raise InvalidIdentity("malformed identity header")
        if not hmac.compare_digest(mac, self._mac(body)):
            raise InvalidIdentity("identity header with a wrong signature")
        try:
            payload = json.loads(_unb64(body))
            issued = float(payload["iat"])
            principal = Principal(
                organisation_id=str(payload["org"]),
                user_id=None if payload["user"] is None else str(payload["user"]),
                role=str(payload["role"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidIdentity("identity header with an unreadable body") from exc
        age = now.timestamp() - issued
        if age > self.max_age_s or age < -self.max_age_s:
            raise InvalidIdentity("identity header too old")
        return Identity(principal=principal, language=str(payload.get("lang") or ""))

    def read(self, value: str | None, now: datetime) -> Identity | None:
        """The identity a request's header carries; None for no header or an anonymous
        visitor, InvalidIdentity for a forged or stale one."""
        value = (value or "").strip()
        if not value or value == ANONYMOUS:
            return None
        return self.verify(value, now)

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(_key(self.secret_key), body.encode(), hashlib.sha256).digest())
