"""A webhook whose name fails to resolve for now is retried; one that does not exist is not."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from notifications.channels.netguard import ResolutionUnavailable, UnsafeUrl, resolve
from notifications.channels.webhook import WebhookPolicy, WebhookSender
from notifications.retry import DeliveryError

URL = "https://hooks.example.org/in"
TEMPORARY = socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
NO_SUCH_NAME = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
FailResolver = Callable[[socket.gaierror], None]


@pytest.fixture
def resolver_fails(monkeypatch: pytest.MonkeyPatch) -> FailResolver:
    """Make the system resolver raise the given error."""

    def install(error: socket.gaierror) -> None:
        def getaddrinfo(*args: Any, **kwargs: Any) -> Any:
            raise error

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    return install


def send() -> None:
    sender = WebhookSender(WebhookPolicy(), resolver=resolve)
    sender.send(URL, "whsec_" + "a" * 32, "msg-1", datetime.now(UTC), "{}")


def test_a_temporary_resolver_failure_is_reported_as_such(resolver_fails: FailResolver) -> None:
    resolver_fails(TEMPORARY)
    with pytest.raises(ResolutionUnavailable, match="does not resolve right now"):
        resolve("hooks.example.org", 443)


def test_a_name_that_does_not_exist_is_still_an_unsafe_url(resolver_fails: FailResolver) -> None:
    resolver_fails(NO_SUCH_NAME)
    with pytest.raises(UnsafeUrl, match="does not resolve") as caught:
        resolve("hooks.example.org", 443)
    assert not isinstance(caught.value, ResolutionUnavailable)


def test_a_delivery_that_meets_a_temporary_resolver_failure_is_retried(
    resolver_fails: FailResolver,
) -> None:
    resolver_fails(TEMPORARY)
    with pytest.raises(DeliveryError) as caught:
        send()
    assert not caught.value.permanent
    assert "Temporary failure in name resolution" in caught.value.reason


def test_a_delivery_to_a_name_that_does_not_exist_fails_for_good(
    resolver_fails: FailResolver,
) -> None:
    resolver_fails(NO_SUCH_NAME)
    with pytest.raises(DeliveryError) as caught:
        send()
    assert caught.value.permanent
