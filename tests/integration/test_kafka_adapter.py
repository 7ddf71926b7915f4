"""The Kafka adapter against the real broker: round trip, dead letters, resume after a crash."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from shared.contracts import MatchFound
from shared.event_schemas import MATCH_FOUND
from shared.events import Event, encode_event, typed_data
from shared.kafka import (
    DLQ_ATTEMPTS,
    DLQ_CONSUMER,
    DLQ_ERROR,
    ConsumerOptions,
    EventConsumer,
    KafkaPublisher,
    ensure_topics,
)
from tests.conftest import random_id
from tests.integration.kafka_helpers import read_topic, wait_for

pytestmark = pytest.mark.kafka
WORKER = Path(__file__).with_name("tracking_worker.py")


def match_event(n: int) -> Event:
    side = {
        "listing_id": f"l-{n}",
        "organisation_id": "o",
        "title": "Pallets",
        "category": "ewc-150103",
        "quantity": 1.0,
        "unit": "pallets",
        "location": {"lat": 49.6, "lon": 6.1},
        "version": 1,
    }
    data = {
        "match_id": f"m-{n}",
        "offer": side,
        "need": {**side, "listing_id": f"n-{n}", "organisation_id": "p"},
        "score": 0.5,
        "reasons": {"distance_km": 3.0, "category_relation": "same"},
    }
    return Event(
        type=MATCH_FOUND, source="/test", subject=f"m-{n}", data=typed_data(MATCH_FOUND, data)
    )


@pytest.fixture
def topic(kafka_bootstrap: str) -> str:
    name = random_id("adapter")
    ensure_topics(kafka_bootstrap, {name: {}})
    return name


def consume_until(consumer: EventConsumer, done: object, timeout: float = 30) -> None:
    wait_for(lambda: consumer.poll_once(200) >= 0 and done(), timeout=timeout)  # type: ignore[operator]


def test_an_event_published_is_consumed_with_its_key_and_data(kafka_bootstrap: str, topic: str):
    publisher = KafkaPublisher(kafka_bootstrap, "test")
    sent = match_event(1)
    publisher.publish(topic, sent).get(timeout=30)
    received: list[Event] = []
    consumer = EventConsumer(kafka_bootstrap, random_id("g"), [topic], received.append, publisher)
    try:
        consume_until(consumer, lambda: received)
    finally:
        consumer.close()
        publisher.close()
    assert [e.id for e in received] == [sent.id]
    assert isinstance(received[0].data, MatchFound)
    assert received[0].data.offer.title == "Pallets"
    [raw] = read_topic(kafka_bootstrap, topic, 1)
    assert raw.key == b"m-1"


def test_a_malformed_message_is_dead_lettered_and_the_next_one_still_handled(
    kafka_bootstrap: str, topic: str
):
    publisher = KafkaPublisher(kafka_bootstrap, "test")
    publisher.publish_raw(topic, b"m-0", b"{not json").get(timeout=30)
    good = match_event(2)
    publisher.publish(topic, good).get(timeout=30)
    received: list[Event] = []
    group = random_id("g")
    consumer = EventConsumer(kafka_bootstrap, group, [topic], received.append, publisher)
    try:
        consume_until(consumer, lambda: received)
    finally:
        consumer.close()
    [dead] = read_topic(kafka_bootstrap, f"{topic}.dlq", 1)
    headers = dict(dead.headers)
    assert [e.id for e in received] == [good.id]
    assert dead.value == b"{not json"
    assert dead.key == b"m-0"
    assert b"not JSON" in headers[DLQ_ERROR]
    assert headers[DLQ_CONSUMER] == group.encode()
    assert headers[DLQ_ATTEMPTS] == b"1"
    publisher.close()


def test_a_handler_that_keeps_failing_on_a_message_is_retried_then_dead_lettered(
    kafka_bootstrap: str, topic: str
):
    publisher = KafkaPublisher(kafka_bootstrap, "test")
    publisher.publish(topic, match_event(3)).get(timeout=30)
    publisher.publish(topic, match_event(4)).get(timeout=30)
    calls: list[str] = []

    def handler(event: Event) -> None:
        calls.append(event.subject)
        if event.subject == "m-3":
            # A bug that this message triggers, every time: only a dead letter helps.
            raise KeyError("unit 'barrels' has no conversion")

    options = ConsumerOptions(max_attempts=3, retry_backoff_s=0.01)
    consumer = EventConsumer(kafka_bootstrap, random_id("g"), [topic], handler, publisher, options)
    try:
        consume_until(consumer, lambda: "m-4" in calls)
    finally:
        consumer.close()
    [dead] = read_topic(kafka_bootstrap, f"{topic}.dlq", 1)
    headers = dict(dead.headers)
    assert calls == ["m-3", "m-3", "m-3", "m-4"]
    assert headers[DLQ_ATTEMPTS] == b"3"
    assert b"KeyError" in headers[DLQ_ERROR] and b"barrels" in headers[DLQ_ERROR]
    publisher.close()


@pytest.mark.postgres
def test_a_consumer_killed_mid_stream_resumes_after_its_last_commit_and_loses_nothing(
    kafka_bootstrap: str, topic: str, postgres_url: str
):
    total = 400
    publisher = KafkaPublisher(kafka_bootstrap, "test")
    for n in range(total):
        publisher.publish(topic, match_event(n))
    publisher.flush(30)
    publisher.close()
    engine = create_engine(postgres_url)
    group = random_id("g")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    command = [sys.executable, str(WORKER), kafka_bootstrap, topic, group, postgres_url]

    def handled() -> int:
        with engine.connect() as connection:
            try:
                return connection.execute(text("select count(*) from effects")).scalar_one()
            except Exception:
                return 0

    first = subprocess.Popen(command, env=env)
    try:
        wait_for(lambda: handled() >= 60, timeout=60, what="the first worker to get going")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    killed_at = handled()
    assert killed_at < total, "the worker should have been killed mid-stream"

    second = subprocess.Popen(command, env=env)
    try:
        wait_for(lambda: handled() >= total, timeout=90, what="the restarted worker")
    finally:
        second.terminate()
        second.wait(timeout=30)
    with engine.connect() as connection:
        rows = connection.execute(text("select event_subject, count(*) from effects group by 1"))
        counts = dict(rows.all())
        redelivered = connection.execute(text("select count(*) from redeliveries")).scalar_one()
    engine.dispose()
    assert set(counts) == {f"m-{n}" for n in range(total)}, "no event may be lost"
    assert set(counts.values()) == {1}, "no event may take effect twice"
    # It resumed after its last commit (batches of 20), not from the start of the topic.
    assert redelivered <= 20 < killed_at


def test_a_database_outage_is_waited_out_never_dead_lettered_and_order_is_kept(
    kafka_bootstrap: str, topic: str
):
    publisher = KafkaPublisher(kafka_bootstrap, "test")
    for n in (5, 6, 7):  # one key, so one partition: their order is defined
        publisher.publish(topic, match_event(n), key="one-partition").get(timeout=30)
    outage = {"left": 6}
    handled: list[str] = []

    def handler(event: Event) -> None:
        if event.subject == "m-6" and outage["left"] > 0:
            outage["left"] -= 1
            raise OperationalError("INSERT", {}, ConnectionRefusedError("connection refused"))
        handled.append(event.subject)

    options = ConsumerOptions(transient_backoff_s=0.05, transient_backoff_cap_s=0.2)
    consumer = EventConsumer(kafka_bootstrap, random_id("g"), [topic], handler, publisher, options)
    degraded: list[str] = []

    def progress() -> bool:
        consumer.poll_once(200)
        try:
            consumer.health_check()
        except RuntimeError as exc:
            degraded.append(str(exc))
        return "m-7" in handled

    try:
        wait_for(progress, timeout=30, what="the outage to pass")
    finally:
        consumer.close()
    assert handled == ["m-5", "m-6", "m-7"], "each once, in order, after the outage"
    assert outage["left"] == 0
    assert degraded and "OperationalError" in degraded[0], "/health said why it waited"
    consumer.health_check()  # healthy again
    assert end_offset(kafka_bootstrap, f"{topic}.dlq") == 0, "nothing was dead-lettered"
    publisher.close()


def test_a_message_of_a_newer_schema_version_stops_its_partition_with_a_clear_error(
    kafka_bootstrap: str,
):
    topic = random_id("adapter")
    ensure_topics(kafka_bootstrap, {topic: {}})
    publisher = KafkaPublisher(kafka_bootstrap, "test")
    newer = json.loads(encode_event(match_event(8)))
    newer["schemaversion"] = 99
    publisher.publish_raw(topic, b"same", json.dumps(newer).encode()).get(timeout=30)
    publisher.publish(topic, match_event(9), key="same").get(timeout=30)
    handled: list[str] = []
    consumer = EventConsumer(
        kafka_bootstrap, random_id("g"), [topic], lambda e: handled.append(e.subject), publisher
    )
    try:
        wait_for(lambda: consumer.poll_once(200) >= 0 and consumer.stalled, timeout=30)
        for _ in range(5):
            consumer.poll_once(200)
        with pytest.raises(RuntimeError, match="schema version 99 is newer"):
            consumer.health_check()
    finally:
        consumer.close()
    assert handled == [], "nothing after it in its partition is handled out of order"
    assert end_offset(kafka_bootstrap, f"{topic}.dlq") == 0, "it is not the message's fault"
    publisher.close()


def test_a_hundred_thousand_deep_payload_is_dead_lettered_and_the_consumer_carries_on(
    kafka_bootstrap: str, topic: str
):
    publisher = KafkaPublisher(kafka_bootstrap, "test")
    poison = b'{"data":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    publisher.publish_raw(topic, b"m-p", poison).get(timeout=30)
    publisher.publish(topic, match_event(10)).get(timeout=30)
    handled: list[str] = []
    group = random_id("g")
    consumer = EventConsumer(
        kafka_bootstrap, group, [topic], lambda e: handled.append(e.subject), publisher
    )
    try:
        wait_for(lambda: consumer.poll_once(200) >= 0 and handled, timeout=30)
    finally:
        consumer.close()
    [dead] = read_topic(kafka_bootstrap, f"{topic}.dlq", 1)
    assert handled == ["m-10"]
    assert b"nested too deeply" in dict(dead.headers)[DLQ_ERROR]
    publisher.close()


def end_offset(bootstrap: str, topic: str) -> int:
    """How many messages the topic has ever had (all partitions)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()
