"""A consumer with a batch handler: a poll's run of events in one go, the guarantees kept.

A burst (a bulk import, a replay after a restart) is handled one transaction a poll, not
one an event; a message that does not decode, or a run the handler refuses, falls back to
one event at a time, where dead letters are decided; a database blip is waited out.
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from shared.events import Event
from shared.kafka import (
    DLQ_ERROR,
    ConsumerOptions,
    EventConsumer,
    KafkaPublisher,
    ensure_topics,
)
from tests.conftest import random_id
from tests.integration.kafka_helpers import read_topic, wait_for
from tests.integration.test_kafka_adapter import end_offset, match_event

pytestmark = pytest.mark.kafka
KEY = "one-partition"  # one key: the order of the messages is defined


@pytest.fixture
def topic(kafka_bootstrap: str) -> str:
    name = random_id("batched")
    ensure_topics(kafka_bootstrap, {name: {}})
    return name


@pytest.fixture
def publisher(kafka_bootstrap: str):
    publisher = KafkaPublisher(kafka_bootstrap, "test")
    yield publisher
    publisher.close()


def publish(publisher: KafkaPublisher, topic: str, numbers: range | tuple[int, ...]) -> None:
    """Match events numbered `numbers`, in that order on one partition."""
    for n in numbers:
        publisher.publish(topic, match_event(n), key=KEY)
    publisher.flush(timeout_s=30)


def consume(consumer: EventConsumer, done: object) -> None:
    try:
        wait_for(lambda: consumer.poll_once(500) >= 0 and done(), timeout=30)  # type: ignore[operator]
    finally:
        consumer.close()


def test_a_burst_is_handled_a_poll_at_a_time_each_event_once_in_order(
    kafka_bootstrap: str, topic: str, publisher: KafkaPublisher
):
    publish(publisher, topic, range(300))
    runs: list[list[str]] = []
    one_by_one: list[str] = []
    consumer = EventConsumer(
        kafka_bootstrap,
        random_id("g"),
        [topic],
        lambda event: one_by_one.append(event.subject),
        publisher,
        handle_batch=lambda events: runs.append([e.subject for e in events]),
    )
    consume(consumer, lambda: sum(map(len, runs)) + len(one_by_one) >= 300)
    handled = [subject for run in runs for subject in run] + one_by_one
    assert handled == [f"m-{n}" for n in range(300)], "each once, in order"
    assert len(runs) <= 10, f"a few transactions, not 300: {[len(r) for r in runs]}"


def test_an_unreadable_message_in_a_run_is_dead_lettered_alone(
    kafka_bootstrap: str, topic: str, publisher: KafkaPublisher
):
    publisher.publish(topic, match_event(1), key=KEY)
    publisher.publish_raw(topic, KEY.encode(), b"{not json").get(timeout=30)
    publisher.publish(topic, match_event(2), key=KEY).get(timeout=30)
    handled: list[str] = []
    consumer = EventConsumer(
        kafka_bootstrap,
        random_id("g"),
        [topic],
        lambda event: handled.append(event.subject),
        publisher,
        handle_batch=lambda events: handled.extend(e.subject for e in events),
    )
    consume(consumer, lambda: "m-2" in handled)
    assert handled == ["m-1", "m-2"]
    [dead] = read_topic(kafka_bootstrap, f"{topic}.dlq", 1)
    assert dead.value == b"{not json"
    assert b"not JSON" in dict(dead.headers)[DLQ_ERROR]


def test_a_run_the_handler_refuses_is_handled_again_one_event_at_a_time(
    kafka_bootstrap: str, topic: str, publisher: KafkaPublisher
):
    publish(publisher, topic, (11, 12, 13))
    handled: list[str] = []

    def refuse(events: list[Event]) -> None:
        # A bug one event triggers: the run changes nothing, and says so by raising.
        if any(e.subject == "m-12" for e in events):
            raise KeyError("unit 'barrels' has no conversion")
        handled.extend(e.subject for e in events)

    def one(event: Event) -> None:
        refuse([event])

    options = ConsumerOptions(max_attempts=2, retry_backoff_s=0.01)
    consumer = EventConsumer(
        kafka_bootstrap, random_id("g"), [topic], one, publisher, options, handle_batch=refuse
    )
    consume(consumer, lambda: "m-13" in handled)
    assert handled == ["m-11", "m-13"], "the others are handled, once"
    [dead] = read_topic(kafka_bootstrap, f"{topic}.dlq", 1)
    assert b"barrels" in dict(dead.headers)[DLQ_ERROR]


def test_a_database_blip_during_a_run_is_waited_out_never_dead_lettered(
    kafka_bootstrap: str, topic: str, publisher: KafkaPublisher
):
    publish(publisher, topic, (21, 22, 23))
    outage = {"left": 3}
    handled: list[str] = []

    def run(events: list[Event]) -> None:
        if outage["left"] > 0:
            outage["left"] -= 1
            raise OperationalError("INSERT", {}, ConnectionRefusedError("connection refused"))
        handled.extend(e.subject for e in events)

    options = ConsumerOptions(transient_backoff_s=0.05, transient_backoff_cap_s=0.2)
    consumer = EventConsumer(
        kafka_bootstrap,
        random_id("g"),
        [topic],
        lambda event: run([event]),
        publisher,
        options,
        handle_batch=run,
    )
    consume(consumer, lambda: "m-23" in handled)
    assert handled == ["m-21", "m-22", "m-23"]
    assert outage["left"] == 0
    assert end_offset(kafka_bootstrap, f"{topic}.dlq") == 0, "nothing was dead-lettered"
