"""Fixtures the integration tests share: a real SMTP server (aiosmtpd) that keeps what it gets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.test_notif_support import SmtpSink, start_smtp


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    """What the SMTP server of `smtp_url` received."""
    yield SmtpSink()


@pytest.fixture
def smtp_url(sink: SmtpSink) -> Iterator[str]:
    """smtp:// URL of a real SMTP server running for the test."""
    controller, url = start_smtp(sink)
    yield url
    controller.stop()
