"""Publishing to Kafka: idempotent publishers, a transactional one, and dead letters."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kafka import KafkaProducer, TopicPartition
from kafka.partitioner.default import murmur2
from kafka.structs import OffsetAndMetadata

from shared import metrics
from shared.events import Event, encode_event
from shared.settings import Topics

log = logging.getLogger(__name__)

#: Header names on a dead-lettered message.
DLQ_ERROR, DLQ_ATTEMPTS, DLQ_CONSUMER = "dlq.error", "dlq.attempts", "dlq.consumer"
DLQ_TOPIC, DLQ_PARTITION, DLQ_OFFSET = "dlq.topic", "dlq.partition", "dlq.offset"


@dataclass(frozen=True)
class ProducerTuning:
    """How a producer batches: the defaults suit a trickle of events (the outbox relay)."""

    linger_ms: int = 5
    batch_bytes: int = 16_384
    #: None, "gzip", "lz4" or "zstd" (consumers decompress whatever the batch says)
    compression: str | None = None


class KafkaPublisher:
    """Publishes events with their key: idempotent, acks=all, so no duplicates or
    losses from the producer's own retries and an acknowledged event is durable."""

    def __init__(
        self,
        bootstrap_servers: str,
        client_id: str,
        timeout_ms: int = 10_000,
        tuning: ProducerTuning | None = None,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._client_id = client_id
        self._timeout_ms = timeout_ms
        self._tuning = tuning or ProducerTuning()
        self._producer: KafkaProducer | None = None

    def _producer_config(self) -> dict[str, Any]:
        return {
            "bootstrap_servers": self._bootstrap,
            "client_id": self._client_id,
            # Explicit, not the library default: one changed setting must not turn them off.
            "acks": "all",
            "enable_idempotence": True,
            "linger_ms": self._tuning.linger_ms,
            "batch_size": self._tuning.batch_bytes,
            "compression_type": self._tuning.compression,
            "max_block_ms": self._timeout_ms,
            "request_timeout_ms": self._timeout_ms,
            "delivery_timeout_ms": self._timeout_ms * 3,
        }

    def _get_producer(self) -> KafkaProducer:
        # Created on first use, not at construction: a broker that is down must not stop a
        # process from starting (the outbox relay keeps rows until it comes back).
        if self._producer is None:
            self._producer = KafkaProducer(**self._producer_config())
        return self._producer

    def publish(
        self,
        topic: str,
        event: Event,
        key: str | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> Any:
        """Send `event`, keyed by `key` (default: its subject); returns a future."""
        value = encode_event(event)
        return self.publish_raw(topic, (key or event.subject).encode(), value, headers)

    def publish_raw(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> Any:
        """Send bytes as they are (dead letters and replays); returns a future."""
        future = self._get_producer().send(topic, key=key, value=value, headers=headers or [])
        future.add_callback(lambda _metadata: metrics.EVENTS_PRODUCED.labels(topic).inc())
        future.add_errback(lambda _error: metrics.PRODUCE_ERRORS.labels(topic).inc())
        return future

    def flush(self, timeout_s: float | None = None) -> None:
        """Block until every sent message is acknowledged or has failed."""
        if self._producer is not None:
            self._producer.flush(timeout=timeout_s)

    def reset(self) -> None:
        """Drop the producer after an error, so the next publish connects afresh."""
        if self._producer is not None:
            self._producer.close(timeout=1)
            self._producer = None

    def close(self) -> None:
        """Flush and close."""
        if self._producer is not None:
            self._producer.close(timeout=self._timeout_ms / 1000)
            self._producer = None


class TransactionalPublisher(KafkaPublisher):
    """A publisher whose sends between `begin()` and `commit()` land together or not at all.

    `transactional_id` must be stable for one logical instance: a restarted instance with
    the same id fences its predecessor and aborts the transaction it left open at once.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        transactional_id: str,
        timeout_ms: int = 10_000,
        transaction_timeout_ms: int = 60_000,
        tuning: ProducerTuning | None = None,
    ) -> None:
        super().__init__(bootstrap_servers, transactional_id, timeout_ms, tuning)
        self.transactional_id = transactional_id
        self._transaction_timeout_ms = transaction_timeout_ms
        self._pending: Counter[str] = Counter()  # messages sent in the open transaction
        self._last_key: tuple[str, bytes] | None = None
        self._last_partition = 0

    def _producer_config(self) -> dict[str, Any]:
        return {
            **super()._producer_config(),
            "transactional_id": self.transactional_id,
            "transaction_timeout_ms": self._transaction_timeout_ms,
        }

    def _get_producer(self) -> KafkaProducer:
        if self._producer is None:
            producer = KafkaProducer(**self._producer_config())
            try:
                producer.init_transactions()
            except Exception:
                producer.close(timeout=1)
                raise
            self._producer = producer
        return self._producer

    def publish_raw(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> Any:
        """Send bytes in the open transaction; returns a future.

        No callback per message: the commit says whether all of it landed, and two
        callbacks a message cost more than the send itself at tens of thousands a second.
        """
        producer = self._get_producer()
        partition = None
        if key is not None:
            # A listing's matches all carry its key: hash it once (murmur2 is pure Python),
            # to the partition kafka-python's default partitioner would choose.
            if (topic, key) != self._last_key:
                partitions = sorted(producer.partitions_for(topic))
                self._last_key = (topic, key)
                self._last_partition = partitions[(murmur2(key) & 0x7FFFFFFF) % len(partitions)]
            partition = self._last_partition
        future = producer.send(
            topic, key=key, value=value, headers=headers or [], partition=partition
        )
        self._pending[topic] += 1
        return future

    def begin(self) -> None:
        """Start a transaction: what is published next is invisible to read_committed readers."""
        self._pending.clear()
        self._get_producer().begin_transaction()

    def commit(self, offsets: Mapping[TopicPartition, OffsetAndMetadata], group: Any) -> None:
        """Commit the consumer offsets and everything published, as one."""
        producer = self._get_producer()
        try:
            if offsets:
                producer.send_offsets_to_transaction(dict(offsets), group)
            producer.commit_transaction()
        except Exception:
            for topic in self._pending:
                metrics.PRODUCE_ERRORS.labels(topic).inc()
            raise
        for topic, count in self._pending.items():
            metrics.EVENTS_PRODUCED.labels(topic).inc(count)
        self._pending.clear()

    def abort(self) -> None:
        """Throw the open transaction away (or the whole producer, if it cannot even abort)."""
        self._pending.clear()
        if self._producer is None:
            return
        try:
            self._producer.abort_transaction()
        except Exception as exc:
            log.warning("could not abort the transaction (%r): starting a new producer", exc)
            self.reset()


def dead_letter(
    publisher: KafkaPublisher, message: Any, error: str, attempts: int, consumer: str
) -> None:
    """Write `message` as it is to `<topic>.dlq`, with why, who and where in its headers."""
    headers = [h for h in (message.headers or []) if not h[0].startswith("dlq.")]
    headers += [
        (DLQ_ERROR, error[:2000].encode()),
        (DLQ_ATTEMPTS, str(attempts).encode()),
        (DLQ_CONSUMER, consumer.encode()),
        (DLQ_TOPIC, message.topic.encode()),
        (DLQ_PARTITION, str(message.partition).encode()),
        (DLQ_OFFSET, str(message.offset).encode()),
    ]
    future = publisher.publish_raw(
        Topics.dead_letter(message.topic), message.key, message.value, headers
    )
    # Wait for the broker: the offset is committed next, and a dead letter that was not
    # stored would be a lost event. A broker that does not answer is a transient fault.
    future.get(timeout=30)


def dead_letters_to(publisher: KafkaPublisher) -> Callable[[Any, str, str], None]:
    """A table reader's dead-letter writer (message, reason, consumer) through `publisher`."""

    def write(message: Any, reason: str, consumer: str) -> None:
        dead_letter(publisher, message, reason, 1, consumer)
        metrics.DEAD_LETTERS.labels(message.topic, consumer).inc()

    return write
