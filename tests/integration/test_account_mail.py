"""Account e-mails (confirm, reset, invitation) from the `account-mail` topic through the
notifier's consume loop to a real SMTP server: once each, in the recipient's language, an
outage waited out, a refusal dead-lettered with its reason and its link kept from admins."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from monitor.domain.dead_letters import dead_letter_from
from monitor.domain.records import RawRecord
from monitor.domain.tail import TailHub
from monitor.serialize import dead_letter_dict
from notifications.account_mail import AccountMailComposer, AccountMailHandler
from notifications.channels.email import SmtpMailer, SmtpServer
from shared.db import service_database
from shared.event_schemas import ACCOUNT_MAIL_REQUESTED
from shared.events import Event, typed_data
from shared.kafka import KafkaPublisher, ensure_topics, standard_topics
from shared.settings import Topics
from tests.conftest import random_id
from tests.integration.event_core_support import consuming, degraded, message_count
from tests.integration.kafka_helpers import read_topic, wait_for
from tests.integration.test_notif_support import SmtpSink, start_smtp

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
LINK = "http://boucle.test/account/confirm/s3cr3t-token"


@dataclass
class Wiring:
    topics: Topics
    sessions: sessionmaker[Session]
    publisher: KafkaPublisher
    handler: Any


def wiring(postgres_url: str, kafka_bootstrap: str, prefix: str, smtp_url: str) -> Wiring:
    _, sessions = service_database(postgres_url, "notifications")
    topics = Topics(
        listings=f"{prefix}listings",
        organisations=f"{prefix}organisations",
        matches=f"{prefix}matches",
        deliveries=f"{prefix}deliveries",
        exchanges=f"{prefix}exchanges",
        account_mail=f"{prefix}account-mail",
    )
    ensure_topics(kafka_bootstrap, standard_topics(topics))
    account_mail = AccountMailHandler(
        sessions,
        AccountMailComposer(
            "Boucle <accounts@boucle.test>", "http://boucle.test", ZoneInfo("Europe/Luxembourg")
        ),
        SmtpMailer(SmtpServer.from_url(smtp_url), timeout_s=5),
    )
    return Wiring(topics, sessions, KafkaPublisher(kafka_bootstrap, "test"), account_mail)


@pytest.fixture
def wired(
    postgres_url: str, kafka_bootstrap: str, topic_prefix: str, smtp_url: str
) -> Iterator[Wiring]:
    built = wiring(postgres_url, kafka_bootstrap, topic_prefix, smtp_url)
    yield built
    built.publisher.close()


def request(kind: str, to: str, language: str, event_id: str | None = None, **extra: Any) -> Event:
    data = {
        "id": random_id("mail"),
        "kind": kind,
        "to": to,
        "language": language,
        "link": LINK,
        "expires_at": datetime.now(UTC) + timedelta(hours=24),
        "organisation_id": "org-1",
        "organisation_name": "Menuiserie Weber",
        **extra,
    }
    event = Event(
        type=ACCOUNT_MAIL_REQUESTED,
        source="/boucle/listings",
        subject=data["id"],
        data=typed_data(ACCOUNT_MAIL_REQUESTED, data),
    )
    if event_id is not None:
        event = Event(
            id=event_id,
            type=event.type,
            source=event.source,
            subject=event.subject,
            data=event.data,
        )
    return event


def send(wired: Wiring, *events: Event) -> None:
    for event in events:
        wired.publisher.publish(wired.topics.account_mail, event)
    wired.publisher.flush(30)


def text_of(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    return str(plain.get_content()), str(html.get_content())


def test_each_account_email_is_sent_once_in_the_recipients_language_with_its_link(
    wired: Wiring, sink: SmtpSink, kafka_bootstrap: str
) -> None:
    confirm = request("confirm_email", "anne@example.org", "fr", member_name="Anne")
    reset = request("reset_password", "ben@example.org", "de")
    invite = request(
        "invitation", "chris@example.org", "en", invited_by="Anne Weber", member_name=""
    )
    # The confirmation twice with the same event id, as after a producer's retry.
    send(wired, confirm, reset, invite, confirm)
    with consuming(
        kafka_bootstrap,
        random_id("notifier"),
        [wired.topics.account_mail],
        wired.handler,
        wired.publisher,
    ):
        wait_for(lambda: len(sink.received) >= 3, what="three e-mails")
        # One more event through the loop: the repeated confirmation is behind us by then.
        marker = request("confirm_email", "last@example.org", "en")
        send(wired, marker)
        wait_for(lambda: sink.to("last@example.org"), what="the last e-mail")

    [to_anne] = sink.to("anne@example.org")
    assert to_anne["Subject"] == "Confirmez votre adresse e-mail pour Boucle"
    assert to_anne["Content-Language"] == "fr"
    plain, html = text_of(to_anne)
    assert "Bonjour Anne," in plain and LINK in plain and f'href="{LINK}"' in html
    assert "une seule fois" in plain  # the link works once, until ...
    assert str(datetime.now(UTC).year) in plain

    [to_ben] = sink.to("ben@example.org")
    assert to_ben["Subject"] == "Wählen Sie ein neues Passwort für Boucle"
    assert "Ihr Passwort bleibt unverändert" in text_of(to_ben)[0]

    [to_chris] = sink.to("chris@example.org")
    assert to_chris["Subject"] == "Anne Weber invites you to join Menuiserie Weber on Boucle"
    assert "Accept the invitation: " + LINK in text_of(to_chris)[0]
    assert to_chris["Message-ID"] == f"<{invite.data.id}@boucle.test>"


def test_an_smtp_outage_is_waited_out_and_the_email_sent_once(
    wired: Wiring, sink: SmtpSink, kafka_bootstrap: str
) -> None:
    sink.refuse_first = 3
    send(wired, request("reset_password", "dana@example.org", "en"))
    with consuming(
        kafka_bootstrap,
        random_id("notifier"),
        [wired.topics.account_mail],
        wired.handler,
        wired.publisher,
    ) as consumer:
        wait_for(lambda: degraded(consumer), what="the loop waiting for the SMTP server")
        wait_for(lambda: sink.received, timeout=30, what="the e-mail once the server accepts")
        wait_for(lambda: degraded(consumer) is None, what="healthy again")
    assert sink.refused == 3
    assert len(sink.to("dana@example.org")) == 1
    assert message_count(kafka_bootstrap, f"{wired.topics.account_mail}.dlq") == 0


class RefusingSink(SmtpSink):
    """An SMTP server that refuses every message for good."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.refused += 1
        return "550 5.1.1 No such mailbox"


def test_a_permanent_refusal_is_dead_lettered_with_its_reason_and_admins_never_see_the_link(
    postgres_url: str, kafka_bootstrap: str, topic_prefix: str
) -> None:
    refusing = RefusingSink()
    controller, url = start_smtp(refusing)
    wired = wiring(postgres_url, kafka_bootstrap, topic_prefix, url)
    try:
        send(wired, request("invitation", "nobody@example.org", "en", invited_by="Anne"))
        with consuming(
            kafka_bootstrap,
            random_id("notifier"),
            [wired.topics.account_mail],
            wired.handler,
            wired.publisher,
        ):
            [message] = read_topic(kafka_bootstrap, f"{wired.topics.account_mail}.dlq", 1)
    finally:
        controller.stop()
        wired.publisher.close()
    headers = {k: v.decode() for k, v in message.headers}
    assert "550" in headers["dlq.error"] and "nobody@example.org" in headers["dlq.error"]
    assert refusing.received == []

    record = RawRecord(
        message.topic,
        message.partition,
        message.offset,
        message.key,
        message.value,
        tuple(message.headers),
        message.timestamp,
    )
    shown = [
        TailHub().publish(record).as_dict(),
        dead_letter_dict(dead_letter_from(record), full=True),
    ]
    for view in shown:
        assert "s3cr3t-token" not in repr(view)
        assert "[redacted]" in repr(view)
    assert shown[0]["payload"]["to"] == "nobody@example.org"  # the rest stays readable
