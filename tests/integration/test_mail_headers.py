"""The headers of an alert e-mail as a real SMTP server receives them, byte for byte.

Mail clients read `List-Unsubscribe` only as a plain `<https://…>` value (RFC 2369) and offer
one-click unsubscribe only beside `List-Unsubscribe-Post` (RFC 8058); parsing the message back
with the email package would decode RFC 2047 words and hide the fault, so the raw bytes count.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from notifications.alerts import alerts_for_match
from notifications.channels.email import SmtpMailer, SmtpServer
from notifications.mail import Letter, MailComposer
from notifications.unsubscribe import UnsubscribeTokens
from tests.integration.test_notif_support import free_port
from tests.unit.test_notif_mail import match

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class RawSink:
    """An aiosmtpd handler that keeps each message's bytes as they arrived."""

    raw: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.raw.append(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[RawSink, SmtpServer]]:
    sink, port = RawSink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, SmtpServer(host="127.0.0.1", port=port)
    controller.stop()


def header_lines(raw: bytes) -> list[str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    return head.split("\r\n")


def test_a_sent_alert_carries_a_plain_one_click_unsubscribe_and_a_message_id_of_the_sender(
    smtp: tuple[RawSink, SmtpServer],
) -> None:
    sink, server = smtp
    # A real token for a long organisation id: the URL is well past 78 characters.
    token = UnsubscribeTokens("a-secret").make("org-" + "7" * 36, "member-" + "4" * 36)
    link = f"https://www.boucle.example/unsubscribe/{token}"
    assert len(f"List-Unsubscribe: <{link}>") > 78
    composer = MailComposer("https://www.boucle.example", "Boucle <alerts@mail.boucle.lu>")
    buyer, _ = alerts_for_match(match())
    SmtpMailer(server).send(
        composer.compose(Letter("delivery-1", "canteen@example.org", "fr", [buyer], link), NOW)
    )

    [raw] = sink.raw
    lines = header_lines(raw)
    assert f"List-Unsubscribe: <{link}>" in lines, "one line, no =?utf-8?q?…?= words"
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in lines
    assert "Message-ID: <delivery-1@mail.boucle.lu>" in lines
    assert not any("=?" in line for line in lines if line.startswith("List-Unsubscribe"))
    # And a mail client reading it finds the same URL.
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["List-Unsubscribe"] == f"<{link}>"
