"""The transactional outbox: a broker that is down delays listing events and loses none."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from listings.service import ListingService
from listings.tables import OutboxRow
from services.devtools.kafka import LocalKafka
from shared.auth import Principal
from shared.db import service_database
from shared.events import decode_event
from shared.kafka import KafkaPublisher, ensure_topics
from shared.outbox import OutboxRelay
from tests.conftest import IN_CI, random_id
from tests.integration.kafka_helpers import read_topic, wait_for

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def offer(title: str) -> dict[str, object]:
    return {
        "kind": "offer",
        "title": title,
        "category": "ewc-150103",
        "quantity": 30,
        "unit": "pallets",
        "location": {"lat": 49.61, "lon": 6.13},
        "radius_km": 0,
    }


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[LocalKafka]:
    """A broker of this test's own: the test stops and restarts it."""
    # A data directory of the test's, which stop() keeps: the broker comes back with its
    # topics, as a real one does (it no longer creates a missing topic on first use).
    broker = LocalKafka(data_dir=tmp_path / "kafka")
    try:
        broker.start()
    except Exception as exc:
        if IN_CI:
            pytest.fail(f"Kafka could not be started: {exc}", pytrace=False)
        pytest.skip(f"Kafka could not be started: {exc}")
    try:
        yield broker
    finally:
        broker.stop()


def test_events_written_while_the_broker_is_down_are_published_in_order_once_it_is_back(
    own_broker: LocalKafka, postgres_url: str
):
    topic = random_id("listings")
    ensure_topics(own_broker.bootstrap_servers, {topic: {"cleanup.policy": "compact"}})
    _, sessions = service_database(postgres_url, "listings")
    service = ListingService(sessions, topic)
    publisher = KafkaPublisher(own_broker.bootstrap_servers, "relay-test", timeout_ms=3000)
    relay = OutboxRelay(sessions, publisher, OutboxRow, send_timeout_s=5)

    own_broker.stop()
    poster = Principal(organisation_id="org-1", user_id="member-1")
    created = [service.create(offer(f"Pallets lot {n}"), poster) for n in range(3)]
    with pytest.raises(Exception):  # noqa: B017 - any failure to reach the broker will do
        relay.relay_once()
    assert relay.pending() == 3, "the events wait in the outbox while Kafka is down"

    own_broker.restart()
    publisher.reset()
    stop = threading.Event()
    worker = threading.Thread(target=relay.run, args=(stop, 0.1))
    worker.start()
    try:
        wait_for(lambda: relay.pending() == 0, timeout=60, what="the outbox to drain")
    finally:
        stop.set()
        worker.join(timeout=30)
        publisher.close()
    messages = read_topic(own_broker.bootstrap_servers, topic, 3)
    creation_order = [listing.id for listing in created]
    assert sorted(decode_event(m.value).subject for m in messages) == sorted(creation_order)
    for partition in {m.partition for m in messages}:
        in_partition = [
            decode_event(m.value).subject
            for m in sorted(messages, key=lambda m: m.offset)
            if m.partition == partition
        ]
        assert in_partition == [i for i in creation_order if i in in_partition], "order kept"
    assert [m.key.decode() for m in messages] == [decode_event(m.value).subject for m in messages]
    by_listing = {decode_event(m.value).subject: decode_event(m.value) for m in messages}
    assert {e.type for e in by_listing.values()} == {"boucle.listing.published"}
    assert by_listing[created[0].id].data.title == "Pallets lot 0"
