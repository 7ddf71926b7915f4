"""Helpers (no tests) for the event core's fault tests: consumers on threads, topic counts."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from kafka import KafkaConsumer, TopicPartition

from shared.events import Event
from shared.kafka import ConsumerOptions, EventConsumer, KafkaPublisher

#: Quick back-offs, so a test's outage ends in seconds, not in the production cap.
FAST = ConsumerOptions(transient_backoff_s=0.1, transient_backoff_cap_s=1.0, poll_timeout_ms=200)


@contextmanager
def consuming(
    bootstrap: str,
    group: str,
    topics: list[str],
    handler: Callable[[Event], None],
    publisher: KafkaPublisher,
) -> Iterator[EventConsumer]:
    """An EventConsumer running on its own thread until the block ends."""
    consumer = EventConsumer(bootstrap, group, topics, handler, publisher, FAST)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield consumer
    finally:
        stop.set()
        thread.join(timeout=30)


def message_count(bootstrap: str, topic: str) -> int:
    """How many messages a topic has ever had, all partitions (0 when it does not exist)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(partitions).values()) if partitions else 0
    finally:
        consumer.close()


def degraded(consumer: EventConsumer) -> str | None:
    """What the consumer's /health check says is wrong, or None when healthy."""
    try:
        consumer.health_check()
    except RuntimeError as exc:
        return str(exc)
    return None
