"""The table reader (a GlobalKTable of our own) against the real broker: it dead-letters
what it cannot read, waits out a dependency, and stops at a message too new for it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.exc import OperationalError

from shared.events import Event, encode_event
from shared.kafka import KafkaPublisher, TableReader, dead_letters_to, ensure_topics
from tests.conftest import random_id
from tests.integration.event_core_support import message_count
from tests.integration.test_matching_support import MatchReader
from tests.integration.test_notif_support import organisation_event

pytestmark = pytest.mark.kafka
DEEP = b'{"data":' + b"[" * 100_000 + b"]" * 100_000 + b"}"


@pytest.fixture
def topic(kafka_bootstrap: str) -> str:
    name = random_id("table")
    ensure_topics(kafka_bootstrap, {name: {"cleanup.policy": "compact"}})
    return name


def publish(bootstrap: str, topic: str, *values: tuple[str, bytes]) -> None:
    publisher = KafkaPublisher(bootstrap, "test")
    for key, value in values:
        publisher.publish_raw(topic, key.encode(), value)
    publisher.flush(30)
    publisher.close()


def org(org_id: str) -> bytes:
    return encode_event(organisation_event(org_id, f"{org_id}@example.org"))


def test_unreadable_messages_are_dead_lettered_with_the_reason_and_the_rest_applied(
    kafka_bootstrap: str, topic: str
) -> None:
    publish(kafka_bootstrap, topic, ("k", b"{not json"), ("k", DEEP), ("k", org("o-1")))
    applied: list[Event] = []
    publisher = KafkaPublisher(kafka_bootstrap, "test")
    reader = TableReader(
        kafka_bootstrap, topic, applied.append, dead_letters_to(publisher), name="orgs-test"
    )
    try:
        assert reader.catch_up() == 1
    finally:
        reader.close()
        publisher.close()
    assert [e.subject for e in applied] == ["o-1"]
    reasons = [
        dict(m.headers)["dlq.error"] for m in MatchReader.raw(kafka_bootstrap, f"{topic}.dlq")
    ]
    assert len(reasons) == 2
    assert b"not JSON" in reasons[0] and b"nested too deeply" in reasons[1]


def test_a_failing_apply_is_dead_lettered_unless_the_failure_is_the_surroundings(
    kafka_bootstrap: str, topic: str
) -> None:
    publish(kafka_bootstrap, topic, ("a", org("o-bug")), ("b", org("o-2")))
    outage = {"left": 1}
    applied: list[str] = []

    def apply(event: Event) -> None:
        if event.subject == "o-bug":
            raise ValueError("a bug this event triggers")
        if outage["left"]:
            outage["left"] -= 1
            raise OperationalError("UPDATE", {}, ConnectionRefusedError("database away"))
        applied.append(event.subject)

    publisher = KafkaPublisher(kafka_bootstrap, "test")
    reader = TableReader(kafka_bootstrap, topic, apply, dead_letters_to(publisher), name="t")
    try:
        with pytest.raises(OperationalError):
            reader.catch_up()
        reader.catch_up()  # the database is back: the same event again, not skipped
    finally:
        reader.close()
        publisher.close()
    assert applied == ["o-2"]
    assert message_count(kafka_bootstrap, f"{topic}.dlq") == 1


def test_a_message_newer_than_the_reader_stops_its_partition_and_says_so(
    kafka_bootstrap: str, topic: str
) -> None:
    newer = json.loads(org("o-new"))
    newer["schemaversion"] = 7
    publish(kafka_bootstrap, topic, ("same", json.dumps(newer).encode()), ("same", org("o-3")))
    applied: list[str] = []
    reader = TableReader(kafka_bootstrap, topic, lambda e: applied.append(e.subject))
    try:
        reader.catch_up()  # returns: a stopped partition is not waited for
        with pytest.raises(RuntimeError, match="schema version 7 is newer"):
            reader.health_check()
    finally:
        reader.close()
    assert applied == [], "nothing behind it is applied out of order"
    assert message_count(kafka_bootstrap, f"{topic}.dlq") == 0
