"""The monitor against the real broker: lag of a stopped group, replay of a dead letter, health."""

from __future__ import annotations

import html
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask
from werkzeug.serving import make_server

from shared.events import Event
from shared.kafka import ConsumerOptions, EventConsumer, KafkaPublisher
from tests.conftest import random_id
from tests.integration.kafka_helpers import wait_for
from tests.integration.monitor_helpers import (
    body,
    csrf_token,
    log_in,
    match_event,
    monitor_settings,
    running_monitor,
)
from tests.integration.test_notif_support import organisation_event

pytestmark = pytest.mark.kafka


@pytest.fixture
def monitor(kafka_bootstrap: str, topic_prefix: str) -> Iterator[Flask]:
    with running_monitor(kafka_bootstrap, topic_prefix) as app:
        yield app


@pytest.fixture
def publisher(kafka_bootstrap: str) -> Iterator[KafkaPublisher]:
    sender = KafkaPublisher(kafka_bootstrap, "monitor-test")
    yield sender
    sender.close()


def test_a_stopped_group_shows_the_lag_of_the_events_produced_since(
    monitor: Flask, kafka_bootstrap: str, topic_prefix: str, publisher: KafkaPublisher
):
    matches = monitor_settings(kafka_bootstrap, topic_prefix).topics.matches
    group = random_id("notifications")
    handled: list[Event] = []
    consumer = EventConsumer(kafka_bootstrap, group, [matches], handled.append, publisher)
    publisher.publish(matches, match_event(0)).get(timeout=30)
    wait_for(lambda: consumer.poll_once(200) >= 0 and handled, what="the first event handled")
    consumer.close()  # the group is stopped, its offsets committed
    produced = 7
    for n in range(1, produced + 1):
        publisher.publish(matches, match_event(n)).get(timeout=30)

    client = monitor.test_client()
    log_in(client)
    html = client.get("/monitor").get_data(as_text=True)
    assert f'data-group="{group}"' in html
    assert f'data-total-lag="{produced}"' in html, client.get("/api/v1/monitor/groups").json
    assert f"Stopped: no consumer is running and {produced} messages are waiting." in html
    assert "Normal: empty. Each message here is one a consumer or the notifier gave up on." in html
    [seen] = [
        g for g in body(client.get("/api/v1/monitor/groups"))["groups"] if g["group_id"] == group
    ]
    assert seen["state"] == "Empty" and seen["members"] == []
    assert (seen["pace"]["verdict"], seen["pace"]["lag"]) == ("stopped", produced)
    assert sum(p["lag"] for p in seen["partitions"]) == produced
    assert {p["topic"] for p in seen["partitions"]} == {matches}
    topics = {t["name"]: t for t in body(client.get("/api/v1/monitor/topics"))["topics"]}
    assert topics[matches]["messages"] == produced + 1
    assert f"{matches}.dlq" in topics
    metrics = client.get("/metrics").get_data(as_text=True)
    assert f'boucle_events_consumed_total{{group="{group}",topic="{matches}"}} 1.0' in metrics


def test_a_dead_letter_replayed_after_a_fix_is_handled_and_leaves_the_dead_letter_view(
    monitor: Flask, kafka_bootstrap: str, topic_prefix: str, publisher: KafkaPublisher
):
    matches = monitor_settings(kafka_bootstrap, topic_prefix).topics.matches
    group = random_id("notifications")
    broken, handled = [True], []

    def handler(event: Event) -> None:
        if broken[0]:
            # A bug, not an outage: a database that is down is waited out, never dead-lettered.
            raise RuntimeError("no alert template for this category")
        handled.append(event.id)

    options = ConsumerOptions(max_attempts=2, retry_backoff_s=0.01)
    consumer = EventConsumer(kafka_bootstrap, group, [matches], handler, publisher, options)
    client = monitor.test_client()
    log_in(client)

    def open_letters() -> list[dict]:
        consumer.poll_once(200)
        return body(client.get("/api/v1/monitor/dead-letters"))["dead_letters"]

    def replay_from_the_page(letter_id: str) -> None:
        page = client.get("/monitor/dead-letters").get_data(as_text=True)
        assert f'data-dead-letter="{letter_id}"' in page
        topic, partition, offset = letter_id.rsplit(":", 2)
        url = f"/monitor/dead-letters/{topic}/{partition}/{offset}/replay"
        response = client.post(url, data={"csrf_token": csrf_token(page)})
        assert response.status_code == 302

    def replay_status(letter_id: str) -> str:
        consumer.poll_once(200)
        rows = body(client.get("/api/v1/monitor/replays"))["replays"]
        return next((r["status"] for r in rows if r["dead_letter_id"] == letter_id), "")

    try:
        event = match_event(1)
        publisher.publish(matches, event).get(timeout=30)
        [letter] = wait_for(open_letters, what="the dead letter in the monitor")
        assert letter["error"] == "RuntimeError: no alert template for this category"
        assert (letter["consumer"], letter["attempts"]) == (group, 2)
        assert letter["source"]["topic"] == matches

        # Replayed before the fix: it fails again, and the monitor says so.
        replay_from_the_page(letter["id"])
        wait_for(lambda: replay_status(letter["id"]) == "dead-lettered again", what="2nd failure")
        [again] = wait_for(open_letters, what="the new dead letter")
        assert again["replay_of"] == letter["id"]

        broken[0] = False  # the fix
        replay_from_the_page(again["id"])
        wait_for(lambda: replay_status(again["id"]) == "handled", what="the replay handled")
        assert handled == [event.id]
        assert open_letters() == []
        page = client.get("/monitor/dead-letters").get_data(as_text=True)
        assert "data-dead-letter=" not in page
        assert "handled by" in page
    finally:
        consumer.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_stopped_service_shows_as_down_after_the_threshold(
    kafka_bootstrap: str, topic_prefix: str
):
    probe = Flask("probe")
    probe.get("/health")(lambda: {"status": "ok"})
    port = free_port()
    server = make_server("127.0.0.1", port, probe, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    services = {"probe": f"http://127.0.0.1:{port}"}
    with running_monitor(kafka_bootstrap, topic_prefix, services) as app:
        client = app.test_client()
        log_in(client)

        def status() -> str:
            [probe_row] = body(client.get("/api/v1/monitor/services"))["services"]
            return str(probe_row["status"])

        wait_for(lambda: status() == "up", timeout=10, what="the service up")
        server.shutdown()
        server.server_close()
        wait_for(lambda: status() == "down", timeout=10, what="the service down")
        html = client.get("/monitor").get_data(as_text=True)
        assert 'data-service="probe"' in html and 'data-status="down"' in html


def test_the_tail_lists_a_shared_name_once_and_the_activity_headline_matches_its_charts(
    monitor: Flask, kafka_bootstrap: str, topic_prefix: str, publisher: KafkaPublisher
):
    topics = monitor_settings(kafka_bootstrap, topic_prefix).topics
    admins = [random_id("admins") for _ in range(4)]
    for oid in admins:
        event = organisation_event(oid, f"{oid}@example.org")
        event = replace(event, data=replace(event.data, name="Boucle administrators"))
        publisher.publish(topics.organisations, event).get(timeout=30)
    for n in range(3):
        publisher.publish(topics.matches, match_event(n)).get(timeout=30)
    publisher.publish(topics.matches, match_event(0)).get(timeout=30)  # read twice
    client = monitor.test_client()
    log_in(client)

    def tail_page() -> str:
        page = client.get("/monitor/tail").get_data(as_text=True)
        return page if ",".join(sorted(admins)) in page else ""

    page = wait_for(tail_page, what="the organisations in the tail's filter")
    assert page.count(">Boucle administrators</option>") == 1

    def activity_page() -> str:
        page = html.unescape(client.get("/monitor/activity").get_data(as_text=True))
        return page if "3 matches still standing" in page else ""

    activity = wait_for(activity_page, what="the matches in the activity")
    assert "Last 30 days: 0 listings published, 3 matches found, 0 alerts sent." in activity
    assert "Matches found per day — last 30 days, 3 in all" in activity
    assert "3 matches still standing" in activity
