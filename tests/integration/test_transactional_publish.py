"""The matcher's transactional publisher against the real broker: keyed messages land in
the partition kafka-python's default partitioner picks (readers rely on a listing's
events sharing one partition), and nothing is visible before the commit."""

from __future__ import annotations

import pytest
from kafka import KafkaProducer

from shared.kafka import ProducerTuning, TransactionalPublisher, ensure_topics
from tests.conftest import random_id
from tests.integration.kafka_helpers import read_all, read_topic

pytestmark = pytest.mark.kafka

KEYS = [f"listing-{n}".encode() for n in range(40)]


def test_a_key_lands_where_the_default_partitioner_puts_it(kafka_bootstrap: str) -> None:
    ours, theirs = random_id("ours"), random_id("theirs")
    ensure_topics(kafka_bootstrap, {ours: {}, theirs: {}})
    publisher = TransactionalPublisher(
        kafka_bootstrap, random_id("tx"), tuning=ProducerTuning(compression="lz4")
    )
    plain = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    try:
        publisher.begin()
        for key in KEYS:  # each key twice in a row, as a listing's matches come
            publisher.publish_raw(ours, key, b"first")
            publisher.publish_raw(ours, key, b"second")
        assert read_all(kafka_bootstrap, ours, timeout=2) == []  # not committed yet
        publisher.commit({}, None)
        for key in KEYS:
            plain.send(theirs, key=key, value=b"plain")
        plain.flush()
        placed = {(m.key, m.partition) for m in read_topic(kafka_bootstrap, ours, 2 * len(KEYS))}
        default = {(m.key, m.partition) for m in read_topic(kafka_bootstrap, theirs, len(KEYS))}
        assert placed == default
        assert len({partition for _, partition in default}) > 1
    finally:
        publisher.close()
        plain.close()
