"""Deliveries against a real PostgreSQL, a real SMTP server, real HTTP receivers and Kafka."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook
from werkzeug import Request, Response

from notifications.outcomes import CONSUMER
from notifications.preference_store import add_endpoint, save_preferences
from notifications.preferences import CONTACT, Preferences
from notifications.store import AlertStore
from notifications.tables import DeliveryRow
from shared.db import unit_of_work
from shared.events import Event, decode_event
from shared.settings import Topics
from tests.conftest import random_id
from tests.integration.kafka_helpers import read_topic, wait_for
from tests.integration.test_notif_support import (
    Notifier,
    SmtpSink,
    build_notifier,
    match_event,
    organisation_event,
    settled_event,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
def notifier(
    postgres_url: str, kafka_bootstrap: str, topic_prefix: str, smtp_url: str
) -> Iterator[Notifier]:
    built = build_notifier(postgres_url, kafka_bootstrap, topic_prefix, smtp_url, max_attempts=3)
    yield built
    built.publisher.close()


def register(notifier: Notifier, org_id: str, contact: str, language: str = "fr") -> None:
    notifier.organisations.apply(organisation_event(org_id, contact, language))


def add_webhook(notifier: Notifier, org_id: str, url: str) -> tuple[str, str]:
    with unit_of_work(notifier.sessions) as session:
        endpoint = add_endpoint(session, org_id, url, "test receiver")
    return endpoint.id, endpoint.secret


def deliver_until(notifier: Notifier, condition: Any, what: str, timeout: float = 20) -> Any:
    def turn() -> Any:
        notifier.deliver_due()
        return condition()

    return wait_for(turn, timeout=timeout, interval=0.05, what=what)


def outcomes(notifier: Notifier, expected: int) -> list[Event]:
    messages = read_topic(notifier.publisher._bootstrap, notifier.topics.deliveries, expected)
    return [decode_event(m.value) for m in messages]


def statuses(notifier: Notifier) -> dict[tuple[str, str], tuple[str, int]]:
    with unit_of_work(notifier.sessions) as session:
        rows = session.scalars(select(DeliveryRow))
        return {(r.channel, r.recipient): (r.status, r.attempts) for r in rows}


def test_both_parties_get_one_email_each_in_their_language_and_the_inbox(
    notifier: Notifier, sink: SmtpSink
) -> None:
    seller, buyer = random_id("farm"), random_id("canteen")
    register(notifier, seller, "farm@example.org", "de")
    register(notifier, buyer, "canteen@example.org", "fr")
    event = match_event(random_id("m"), seller, buyer)
    notifier.handler(event)
    notifier.handler(event)  # the same event again, as after a crash before the commit

    deliver_until(notifier, lambda: len(sink.received) >= 2, "two e-mails")
    [to_buyer] = sink.to("canteen@example.org")
    [to_seller] = sink.to("farm@example.org")
    assert to_buyer["Subject"] == "Nouvelle offre pour votre besoin : Euro pallets"
    assert to_seller["Subject"].startswith("In Ihrer Nähe wird gebraucht")
    assert "/unsubscribe/" in to_buyer["List-Unsubscribe"]
    assert AlertStore(notifier.sessions).unread_count(buyer) == 1
    sent = [e for e in outcomes(notifier, 4) if e.data.outcome == "sent"]
    assert {(e.data.channel, e.data.recipient) for e in sent} == {
        ("email", "canteen@example.org"),
        ("email", "farm@example.org"),
        ("inbox", buyer),
        ("inbox", seller),
    }


def test_an_smtp_server_that_refuses_then_accepts_gets_the_email_once(
    notifier: Notifier, sink: SmtpSink
) -> None:
    sink.refuse_first = 2
    seller, buyer = random_id("farm"), random_id("canteen")
    register(notifier, buyer, "canteen@example.org")
    notifier.handler(match_event(random_id("m"), seller, buyer))

    deliver_until(notifier, lambda: sink.received, "the e-mail after two refusals")
    deliver_until(notifier, lambda: True, "one more turn")
    assert sink.refused == 2
    assert len(sink.to("canteen@example.org")) == 1
    assert statuses(notifier)[("email", "canteen@example.org")] == ("sent", 3)
    email_outcomes = [e.data.outcome for e in outcomes(notifier, 6) if e.data.channel == "email"]
    assert email_outcomes == ["failed", "retried", "failed", "retried", "sent"]


def test_a_webhook_that_fails_twice_then_succeeds_gets_it_once_with_a_valid_signature(
    notifier: Notifier, httpserver: HTTPServer
) -> None:
    seller, buyer = random_id("farm"), random_id("canteen")
    register(notifier, buyer, "canteen@example.org")
    endpoint_id, secret = add_webhook(notifier, buyer, httpserver.url_for("/hooks"))
    calls: list[Request] = []

    def receiver(request: Request) -> Response:
        calls.append(request)
        return Response("try later", status=503 if len(calls) <= 2 else 204)

    httpserver.expect_request("/hooks", method="POST").respond_with_handler(receiver)
    match = match_event(random_id("m"), seller, buyer)
    notifier.handler(match)

    deliver_until(
        notifier, lambda: statuses(notifier)[("webhook", endpoint_id)][0] == "sent", "sent"
    )
    assert len(calls) == 3
    ids = {call.headers["webhook-id"] for call in calls}
    assert len(ids) == 1  # one message id across retries: receivers can dedupe
    body = calls[-1].get_data(as_text=True)
    document = Webhook(secret).verify(body, dict(calls[-1].headers))
    assert document["type"] == "match.found"
    assert document["data"]["match_id"] == match.data.match_id
    assert document["data"]["role"] == "buyer"
    assert document["data"]["link"].endswith(f"/listings/offer-{match.data.match_id}")


def test_a_receiver_that_always_fails_ends_in_the_dead_letter_topic(
    notifier: Notifier, httpserver: HTTPServer, kafka_bootstrap: str
) -> None:
    seller, buyer = random_id("farm"), random_id("canteen")
    register(notifier, buyer, "canteen@example.org")
    endpoint_id, _ = add_webhook(notifier, buyer, httpserver.url_for("/down"))
    httpserver.expect_request("/down").respond_with_data("<h1>down</h1>", status=500)
    match_id = random_id("m")
    notifier.handler(match_event(match_id, seller, buyer))

    deliver_until(
        notifier,
        lambda: statuses(notifier)[("webhook", endpoint_id)][0] == "dead_lettered",
        "the dead letter",
    )
    assert statuses(notifier)[("webhook", endpoint_id)] == ("dead_lettered", 3)
    [dead] = read_topic(kafka_bootstrap, Topics.dead_letter(notifier.topics.deliveries), 1)
    headers = {name: value.decode() for name, value in dead.headers}
    assert "HTTP 500" in headers["dlq.error"]
    assert headers["dlq.attempts"] == "3" and headers["dlq.consumer"] == CONSUMER
    event = decode_event(dead.value)
    assert event.type == "boucle.delivery.dead_lettered"
    assert (event.data.match_id, event.data.recipient) == (match_id, endpoint_id)


def test_a_webhook_pointed_at_a_private_address_is_refused_when_called(
    postgres_url: str,
    kafka_bootstrap: str,
    topic_prefix: str,
    smtp_url: str,
    httpserver: HTTPServer,
) -> None:
    guarded = build_notifier(
        postgres_url, kafka_bootstrap, topic_prefix, smtp_url, allow_private=False
    )
    try:
        seller, buyer = random_id("farm"), random_id("canteen")
        register(guarded, buyer, "canteen@example.org")
        endpoint_id, _ = add_webhook(guarded, buyer, httpserver.url_for("/internal"))
        guarded.handler(match_event(random_id("m"), seller, buyer))
        deliver_until(
            guarded,
            lambda: statuses(guarded)[("webhook", endpoint_id)][0] == "dead_lettered",
            "the refusal",
        )
        assert httpserver.log == []
        with unit_of_work(guarded.sessions) as session:
            row = session.scalars(
                select(DeliveryRow).where(DeliveryRow.recipient == endpoint_id)
            ).one()
            assert "loopback" in (row.last_error or "")
            assert row.attempts == 1  # a refusal is final: no retries against it
    finally:
        guarded.publisher.close()


def test_a_digest_groups_the_days_alerts_into_one_email(notifier: Notifier, sink: SmtpSink) -> None:
    seller, buyer = random_id("farm"), random_id("canteen")
    register(notifier, buyer, "canteen@example.org", "en")
    with unit_of_work(notifier.sessions) as session:
        save_preferences(session, buyer, CONTACT, Preferences(email=True, digest=True))
    for n in range(3):
        notifier.handler(match_event(random_id("m"), seller, buyer, title=f"Offer {n}"))
    notifier.deliver_due()
    assert sink.received == []  # not before the digest hour

    notifier.worker.send_digests_now()
    deliver_until(notifier, lambda: sink.received, "the digest")
    deliver_until(notifier, lambda: True, "one more turn")
    [digest] = sink.received
    assert digest["Subject"] == "Boucle: 3 new matches today"
    text = digest.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert all(f"Offer {n}" in text for n in range(3))
    assert [s for (channel, _), (s, _) in statuses(notifier).items() if channel == "email"] == [
        "sent"
    ]


def test_a_retracted_match_sends_nothing_new_and_the_inbox_says_no_longer_available(
    notifier: Notifier, sink: SmtpSink
) -> None:
    seller, buyer = random_id("farm"), random_id("canteen")
    register(notifier, buyer, "canteen@example.org")
    with unit_of_work(notifier.sessions) as session:
        save_preferences(session, buyer, CONTACT, Preferences(email=True, digest=True))
    found = match_event(random_id("m"), seller, buyer)
    notifier.handler(found)
    # The seller withdraws the offer: the matcher settles its matches at that version.
    notifier.handler(settled_event(found.data.offer.listing_id, "offer", 2, "withdrawn"))
    # A late copy of the found event (computed from the offer's first version) is stale.
    notifier.handler(dataclasses.replace(found, id=random_id("again")))

    notifier.worker.send_digests_now()
    notifier.deliver_due()
    assert sink.received == []
    [alert] = AlertStore(notifier.sessions).inbox(buyer)
    assert alert.retraction_reason == "offer withdrawn"
    assert statuses(notifier)[("email", "canteen@example.org")][0] == "cancelled"
    skipped = [e for e in outcomes(notifier, 1) if e.data.outcome == "skipped"]
    assert "offer withdrawn" in (skipped[0].data.error or "")


def test_an_unsubscribed_recipient_gets_nothing_that_was_still_waiting(
    notifier: Notifier, sink: SmtpSink
) -> None:
    seller, buyer = random_id("farm"), random_id("canteen")
    register(notifier, buyer, "canteen@example.org")
    with unit_of_work(notifier.sessions) as session:
        save_preferences(session, buyer, CONTACT, Preferences(email=True, digest=True))
    notifier.handler(match_event(random_id("m"), seller, buyer))
    with unit_of_work(notifier.sessions) as session:
        save_preferences(session, buyer, CONTACT, Preferences(email=False, digest=True))
    notifier.worker.send_digests_now()
    deliver_until(
        notifier,
        lambda: statuses(notifier)[("email", "canteen@example.org")][0] == "cancelled",
        "the cancellation",
    )
    assert sink.received == []
    assert statuses(notifier)[("inbox", buyer)][0] == "sent"  # the inbox still has it
