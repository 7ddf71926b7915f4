"""Tests call services as the edge does: with a signed identity (shared/identity.py, ADR 0007)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.auth import Principal
from shared.identity import IDENTITY_HEADER, Identity, IdentitySigner


def identity_headers(principal: Principal, secret_key: str, language: str = "en") -> dict[str, str]:
    """The header the edge forwards for `principal`, signed now."""
    signed = IdentitySigner(secret_key).sign(Identity(principal, language), datetime.now(UTC))
    return {IDENTITY_HEADER: signed}


def act_as(client: Any, principal: Principal, secret_key: str, language: str = "en") -> Any:
    """Make every later request of a Flask test client come from `principal` via the edge."""
    header = identity_headers(principal, secret_key, language)[IDENTITY_HEADER]
    client.environ_base["HTTP_" + IDENTITY_HEADER.upper().replace("-", "_")] = header
    return client
