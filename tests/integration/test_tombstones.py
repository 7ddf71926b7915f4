"""Tombstones (null values) on the compacted topics against the real broker: the consume loop
and the table reader take them as "forget this key", never as a dead letter."""

from __future__ import annotations

import pytest

from monitor.domain.records import RawRecord
from monitor.domain.tail import TailHub
from shared.events import Event, encode_event
from shared.kafka import KafkaPublisher, TableReader, dead_letters_to, ensure_topics
from tests.conftest import random_id
from tests.integration.event_core_support import consuming, message_count
from tests.integration.kafka_helpers import wait_for
from tests.integration.test_notif_support import organisation_event

pytestmark = pytest.mark.kafka


@pytest.fixture
def topic(kafka_bootstrap: str) -> str:
    name = random_id("compacted")
    ensure_topics(kafka_bootstrap, {name: {"cleanup.policy": "compact"}})
    return name


def publish(bootstrap: str, topic: str, *values: tuple[str, bytes | None]) -> None:
    publisher = KafkaPublisher(bootstrap, "test")
    for key, value in values:
        publisher.publish_raw(topic, key.encode(), value)
    publisher.flush(30)
    publisher.close()


def org(org_id: str) -> bytes:
    return encode_event(organisation_event(org_id, f"{org_id}@example.org"))


def test_the_table_reader_forgets_a_tombstoned_key_in_its_place_in_the_topic(
    kafka_bootstrap: str, topic: str
) -> None:
    # o-1 is written, forgotten, written again; o-2 is written then forgotten.
    publish(
        kafka_bootstrap,
        topic,
        ("o-1", org("o-1")),
        ("o-2", org("o-2")),
        ("o-1", None),
        ("o-2", None),
        ("o-1", org("o-1")),
    )
    table: dict[str, Event] = {}
    forgotten: list[str] = []

    def forget(key: str) -> None:
        forgotten.append(key)
        table.pop(key, None)

    publisher = KafkaPublisher(kafka_bootstrap, "test")
    reader = TableReader(
        kafka_bootstrap,
        topic,
        lambda event: table.__setitem__(event.subject, event),
        dead_letters_to(publisher),
        name="tombstones-test",
        apply_many=lambda events: table.update({e.subject: e for e in events}),
        forget=forget,
    )
    try:
        reader.catch_up()
    finally:
        reader.close()
        publisher.close()
    assert sorted(forgotten) == ["o-1", "o-2"]
    assert sorted(table) == ["o-1"]
    assert reader.invalid == 0
    assert message_count(kafka_bootstrap, f"{topic}.dlq") == 0


def test_a_table_reader_without_forget_skips_tombstones(kafka_bootstrap: str, topic: str) -> None:
    publish(kafka_bootstrap, topic, ("o-1", None), ("o-2", org("o-2")))
    applied: list[str] = []
    publisher = KafkaPublisher(kafka_bootstrap, "test")
    reader = TableReader(
        kafka_bootstrap, topic, lambda e: applied.append(e.subject), dead_letters_to(publisher)
    )
    try:
        assert reader.catch_up() == 1
    finally:
        reader.close()
        publisher.close()
    assert applied == ["o-2"]
    assert message_count(kafka_bootstrap, f"{topic}.dlq") == 0


def test_the_consume_loop_skips_a_tombstone_and_handles_what_follows(
    kafka_bootstrap: str, topic: str
) -> None:
    publish(kafka_bootstrap, topic, ("o-1", org("o-1")), ("o-1", None), ("o-2", org("o-2")))
    handled: list[str] = []
    publisher = KafkaPublisher(kafka_bootstrap, "test")
    try:
        with consuming(
            kafka_bootstrap,
            random_id("group"),
            [topic],
            lambda event: handled.append(event.subject),
            publisher,
        ) as consumer:
            wait_for(lambda: len(handled) == 2, what="both events handled")
            assert consumer.stalled == {}
    finally:
        publisher.close()
    assert handled == ["o-1", "o-2"]
    assert message_count(kafka_bootstrap, f"{topic}.dlq") == 0


def test_the_monitor_tail_shows_a_tombstone_as_an_empty_message() -> None:
    hub = TailHub()
    item = hub.publish(RawRecord("organisations", 0, 7, b"o-1", None))
    shown = item.as_dict()
    assert shown["key"] == "o-1" and shown["payload"] == "" and shown["type"] == ""
