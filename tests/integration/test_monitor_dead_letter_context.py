"""The monitor's dead letters say whose they are and where they point (real Kafka, PostgreSQL,
SMTP and HTTP receivers): a webhook and an e-mail the notifier gave up on, a match a consumer
could not handle."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer

from notifications.preference_store import add_endpoint
from shared.db import unit_of_work
from shared.kafka import ConsumerOptions, EventConsumer, KafkaPublisher
from tests.conftest import random_id
from tests.integration.kafka_helpers import wait_for
from tests.integration.monitor_helpers import body, log_in, match_event, running_monitor
from tests.integration.test_notif_support import (
    Notifier,
    SmtpSink,
    build_notifier,
    organisation_event,
)
from tests.integration.test_notif_support import match_event as notifier_match

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
def notifier(
    postgres_url: str, kafka_bootstrap: str, topic_prefix: str, smtp_url: str
) -> Iterator[Notifier]:
    built = build_notifier(postgres_url, kafka_bootstrap, topic_prefix, smtp_url, max_attempts=2)
    yield built
    built.publisher.close()


@pytest.fixture
def monitor(kafka_bootstrap: str, topic_prefix: str) -> Iterator[Flask]:
    with running_monitor(kafka_bootstrap, topic_prefix) as app:
        yield app


def admin(monitor: Flask) -> FlaskClient:
    client = monitor.test_client()
    log_in(client)
    return client


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_given_up_webhook_and_e_mail_name_the_organisation_the_channel_and_the_target(
    notifier: Notifier, monitor: Flask, sink: SmtpSink, httpserver: HTTPServer
) -> None:
    sink.refuse_first = 1000  # the mailbox stays busy: the e-mail is given up too
    seller, buyer = random_id("farm"), random_id("canteen")
    registered = organisation_event(buyer, "canteen@example.org")
    notifier.organisations.apply(registered)
    # The monitor learns names from the organisations topic, as in production.
    notifier.publisher.publish(notifier.topics.organisations, registered).get(timeout=30)
    with unit_of_work(notifier.sessions) as session:
        add_endpoint(session, buyer, httpserver.url_for("/hooks/s3cr3t-path"), "ERP")
    httpserver.expect_request("/hooks/s3cr3t-path").respond_with_data("down", status=500)
    notifier.handler(notifier_match(random_id("m"), seller, buyer))

    client = admin(monitor)

    def given_up() -> list[dict[str, Any]]:
        notifier.deliver_due()
        letters = body(client.get("/api/v1/monitor/dead-letters"))["dead_letters"]
        return letters if len(letters) == 2 else []

    letters = wait_for(given_up, timeout=30, what="both deliveries dead-lettered")
    by_channel = {letter["channel"]: letter for letter in letters}
    host = f"{httpserver.host}:{httpserver.port}"
    assert by_channel["webhook"]["target"] == host, "the host, never the secret path"
    assert by_channel["email"]["target"] == "c…n@example.org"
    for letter in letters:
        assert letter["organisations"] == [{"id": buyer, "name": f"Organisation {buyer}"}]
        assert letter["delivery"] and not letter["replayable"]

    page = text(client.get("/monitor/dead-letters"))
    assert f"Organisation {buyer}" in page
    assert f"webhook to {host}" in page and "e-mail to c…n@example.org" in page
    assert "s3cr3t-path" not in page and "Replay all" not in page

    topic, partition, offset = by_channel["webhook"]["id"].rsplit(":", 2)
    detail = text(client.get(f"/monitor/dead-letters/{topic}/{partition}/{offset}"))
    assert f"Organisation {buyer}" in detail and host in detail
    assert "Source" not in detail and "Replay to ?" not in detail
    assert f"the notifier gave up this webhook delivery to {host}" in detail
    assert "s3cr3t-path" not in detail


def test_a_consumers_dead_letter_names_both_sides_and_says_where_a_replay_goes(
    monitor: Flask, kafka_bootstrap: str, topic_prefix: str
) -> None:
    publisher = KafkaPublisher(kafka_bootstrap, "monitor-test")
    matches, organisations = f"{topic_prefix}matches", f"{topic_prefix}organisations"
    offer_side, need_side = random_id("org-a"), "org-b"
    publisher.publish(organisations, organisation_event(offer_side, "a@example.org")).get(30)
    group = random_id("alerts")

    def handler(_event: Any) -> None:
        raise RuntimeError("no template for this category")

    consumer = EventConsumer(
        kafka_bootstrap,
        group,
        [matches],
        handler,
        publisher,
        ConsumerOptions(max_attempts=1, retry_backoff_s=0.01),
    )
    client = admin(monitor)
    try:
        publisher.publish(matches, match_event(1, offer_side)).get(timeout=30)

        def letters() -> list[dict[str, Any]]:
            consumer.poll_once(200)
            return body(client.get("/api/v1/monitor/dead-letters"))["dead_letters"]

        [letter] = wait_for(letters, what="the dead letter")
        assert [o["id"] for o in letter["organisations"]] == [offer_side, need_side]
        assert letter["organisations"][0]["name"] == f"Organisation {offer_side}"
        topic, partition, offset = letter["id"].rsplit(":", 2)
        detail = text(client.get(f"/monitor/dead-letters/{topic}/{partition}/{offset}"))
        assert f"Organisation {offer_side}" in detail
        assert "an organisation the monitor has not heard of (org-b)" in detail
        assert (
            f"A replay puts this message back at the end of the topic {matches}; "
            f"the consumer group {group} reads it again" in detail
        )
        assert f"Replay to {matches}" in detail
    finally:
        consumer.close()
        publisher.close()
