"""Webhook signing secrets at rest: encrypted in the database, readable only by the notifier.

The notifier must sign with the secret, so it cannot store a one-way hash as it does for API
tokens; it stores the secret sealed with Fernet (AES-128-CBC + HMAC-SHA256, from the
`cryptography` package). The key is WEBHOOK_SECRETS_KEY (a Fernet key) or, when unset, one
derived from SECRET_KEY, so a stolen database dump alone does not reveal any secret.
"""

from __future__ import annotations

import base64
import os
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import String, TypeDecorator

SEALED = "fernet:"
_DEV_SECRET_KEY = "dev-only-secret-change-me"  # the same development default as shared.settings


def _fernet() -> Fernet:
    explicit = os.environ.get("WEBHOOK_SECRETS_KEY")
    if explicit:
        return Fernet(explicit.encode())
    secret_key = os.environ.get("SECRET_KEY", _DEV_SECRET_KEY).encode()
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"boucle webhook signing secrets"
    ).derive(secret_key)
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(secret: str) -> str:
    """The secret encrypted for storage."""
    return SEALED + _fernet().encrypt(secret.encode()).decode()


def unseal(stored: str) -> str:
    """The secret from its stored form (rows written before encryption are read as they are)."""
    if not stored.startswith(SEALED):
        return stored
    try:
        return _fernet().decrypt(stored.removeprefix(SEALED).encode()).decode()
    except InvalidToken as exc:
        raise RuntimeError(
            "cannot read a webhook secret: WEBHOOK_SECRETS_KEY or SECRET_KEY changed since it "
            "was stored; re-register the endpoint"
        ) from exc


class SealedString(TypeDecorator[str]):
    """A column whose value is sealed on the way in and unsealed on the way out."""

    impl = String(400)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else seal(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else unseal(value)
