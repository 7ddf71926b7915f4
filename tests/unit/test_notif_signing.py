"""Webhook signatures follow Standard Webhooks: the reference library verifies them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from notifications.channels.webhook import payload, signed_headers
from notifications.preference_store import new_signing_secret
from notifications.unsubscribe import UnsubscribeTokens


def test_a_signed_delivery_verifies_with_the_endpoint_secret() -> None:
    secret = new_signing_secret()
    now = datetime.now(UTC)
    body = payload("match.found", now, {"match_id": "m-1"})
    headers = signed_headers(secret, "d-1", now, body)
    assert Webhook(secret).verify(body, headers)["data"] == {"match_id": "m-1"}
    assert headers["webhook-id"] == "d-1"


def test_a_tampered_body_or_another_secret_fails_verification() -> None:
    secret = new_signing_secret()
    now = datetime.now(UTC)
    body = payload("match.found", now, {"match_id": "m-1"})
    headers = signed_headers(secret, "d-1", now, body)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("m-1", "m-2"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_signing_secret()).verify(body, headers)


def test_secrets_are_standard_and_never_repeat() -> None:
    secrets = {new_signing_secret() for _ in range(20)}
    assert len(secrets) == 20
    assert all(s.startswith("whsec_") for s in secrets)


def test_an_unsubscribe_token_names_its_recipient_and_cannot_be_forged() -> None:
    tokens = UnsubscribeTokens("secret-key")
    token = tokens.make("org-1", "member-1")
    assert tokens.read(token) == ("org-1", "member-1")
    assert UnsubscribeTokens("another-key").read(token) is None
    assert tokens.read(token[:-2] + "xx") is None
