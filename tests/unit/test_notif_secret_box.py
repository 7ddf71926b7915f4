"""Webhook secrets sealed at rest: readable back with the key, useless without it."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from notifications.secret_box import SEALED, seal, unseal


def test_a_sealed_secret_reads_back_and_does_not_show_in_the_stored_form() -> None:
    stored = seal("whsec_c2VjcmV0")
    assert stored.startswith(SEALED) and "whsec_" not in stored
    assert unseal(stored) == "whsec_c2VjcmV0"


def test_a_secret_stored_before_sealing_is_read_as_it_is() -> None:
    assert unseal("whsec_legacy") == "whsec_legacy"


def test_another_key_cannot_read_it_and_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = seal("whsec_c2VjcmV0")
    monkeypatch.setenv("WEBHOOK_SECRETS_KEY", Fernet.generate_key().decode())
    with pytest.raises(RuntimeError, match="re-register the endpoint"):
        unseal(stored)
