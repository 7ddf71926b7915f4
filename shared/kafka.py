"""The one module that talks to Kafka: a publisher, a consume loop with dead letters, topics.

Delivery is at-least-once: offsets are committed only after the handler returned, so a
crash re-delivers the uncommitted tail and handlers must be idempotent. A message that
fails validation, or whose handler keeps failing, goes to `<topic>.dlq` with the reason in
its headers, and the consumer carries on with the next one.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata

from shared import metrics
from shared.events import Event, EventValidationError, decode_event, encode_event
from shared.settings import Topics

log = logging.getLogger(__name__)

Handler = Callable[[Event], None]

#: Header names on a dead-lettered message.
DLQ_ERROR, DLQ_ATTEMPTS, DLQ_CONSUMER = "dlq.error", "dlq.attempts", "dlq.consumer"
DLQ_TOPIC, DLQ_PARTITION, DLQ_OFFSET = "dlq.topic", "dlq.partition", "dlq.offset"


class KafkaPublisher:
    """Publishes validated events with their key; acks=all so an acknowledged event is durable."""

    def __init__(self, bootstrap_servers: str, client_id: str, timeout_ms: int = 10_000) -> None:
        self._bootstrap = bootstrap_servers
        self._client_id = client_id
        self._timeout_ms = timeout_ms
        self._producer: KafkaProducer | None = None

    def _get_producer(self) -> KafkaProducer:
        # Created on first use, not at construction: a broker that is down must not stop a
        # process from starting (the outbox relay keeps rows until it comes back).
        if self._producer is None:
            self._producer = KafkaProducer(
                bootstrap_servers=self._bootstrap,
                client_id=self._client_id,
                acks="all",
                linger_ms=5,
                max_block_ms=self._timeout_ms,
                request_timeout_ms=self._timeout_ms,
                delivery_timeout_ms=self._timeout_ms * 3,
            )
        return self._producer

    def publish(self, topic: str, event: Event, key: str | None = None) -> Any:
        """Validate and send `event`, keyed by `key` (default: its subject); returns a future."""
        value = encode_event(event)
        return self.publish_raw(topic, (key or event.subject).encode(), value)

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


@dataclass(frozen=True)
class ConsumerOptions:
    """How a consume loop behaves; the defaults suit every service here."""

    max_attempts: int = 3
    retry_backoff_s: float = 0.2
    poll_timeout_ms: int = 500
    max_poll_records: int = 500
    auto_offset_reset: str = "earliest"
    # A crashed member holds its partitions until the broker gives up on it: keep that short
    # so a restarted or surviving process takes over within seconds.
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000


class EventConsumer:
    """A consumer in a group: decode, handle, dead-letter failures, then commit."""

    def __init__(
        self,
        bootstrap_servers: str,
        group_id: str,
        topics: Iterable[str],
        handler: Handler,
        publisher: KafkaPublisher,
        options: ConsumerOptions | None = None,
        before_batch: Callable[[], object] | None = None,
        after_batch: Callable[[], object] | None = None,
    ) -> None:
        self.group_id = group_id
        self._handler = handler
        self._before_batch = before_batch
        self._after_batch = after_batch
        self._publisher = publisher
        self._options = options or ConsumerOptions()
        self._consumer = KafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap_servers,
            group_id=group_id,
            client_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset=self._options.auto_offset_reset,
            max_poll_records=self._options.max_poll_records,
            session_timeout_ms=self._options.session_timeout_ms,
            heartbeat_interval_ms=self._options.heartbeat_interval_ms,
        )

    def run(self, stop: threading.Event) -> None:
        """Consume until `stop` is set, then close (committing nothing unhandled)."""
        log.info("consumer %s started", self.group_id)
        try:
            while not stop.is_set():
                self.poll_once()
        finally:
            self.close()

    def poll_once(self, timeout_ms: int | None = None) -> int:
        """Handle one batch and commit it; returns how many messages were taken."""
        batches = self._consumer.poll(timeout_ms=timeout_ms or self._options.poll_timeout_ms)
        if not batches:
            return 0
        if self._before_batch is not None:
            self._before_batch()
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        count = 0
        for partition, messages in batches.items():
            for message in messages:
                self._process(message)
                offsets[partition] = OffsetAndMetadata(message.offset + 1, "", -1)
                count += 1
        if self._after_batch is not None:
            # e.g. wait for the events the handler produced: they must be stored before the
            # offsets that caused them are committed.
            self._after_batch()
        self._consumer.commit(offsets)
        self._record_lag(offsets)
        return count

    def _record_lag(self, offsets: Mapping[TopicPartition, OffsetAndMetadata]) -> None:
        # The fetch responses carry each partition's high watermark: lag costs no request.
        for partition, committed in offsets.items():
            end = self._consumer.highwater(partition)
            if end is not None:
                metrics.CONSUMER_LAG.labels(
                    self.group_id, partition.topic, str(partition.partition)
                ).set(max(0, end - committed.offset))

    def _process(self, message: Any) -> None:
        labels = (message.topic, self.group_id)
        metrics.EVENTS_CONSUMED.labels(*labels).inc()
        try:
            event = decode_event(message.value)
        except EventValidationError as exc:
            log.warning("invalid event at %s:%s: %s", message.topic, message.offset, exc)
            metrics.INVALID_EVENTS.labels(*labels).inc()
            self._dead_letter(message, str(exc), attempts=1)
            return
        for attempt in range(1, self._options.max_attempts + 1):
            try:
                started = time.perf_counter()
                self._handler(event)
                metrics.HANDLER_SECONDS.labels(*labels).observe(time.perf_counter() - started)
                return
            except Exception as exc:
                metrics.HANDLER_ERRORS.labels(*labels).inc()
                log.warning(
                    "handler failed on event %s (attempt %d/%d): %r",
                    event.id,
                    attempt,
                    self._options.max_attempts,
                    exc,
                    extra={"event_id": event.id},
                )
                if attempt == self._options.max_attempts:
                    self._dead_letter(message, f"{type(exc).__name__}: {exc}", attempt)
                    return
                time.sleep(self._options.retry_backoff_s * 2 ** (attempt - 1))

    def _dead_letter(self, message: Any, error: str, attempts: int) -> None:
        headers = [h for h in (message.headers or []) if not h[0].startswith("dlq.")]
        headers += [
            (DLQ_ERROR, error[:2000].encode()),
            (DLQ_ATTEMPTS, str(attempts).encode()),
            (DLQ_CONSUMER, self.group_id.encode()),
            (DLQ_TOPIC, message.topic.encode()),
            (DLQ_PARTITION, str(message.partition).encode()),
            (DLQ_OFFSET, str(message.offset).encode()),
        ]
        future = self._publisher.publish_raw(
            Topics.dead_letter(message.topic), message.key, message.value, headers
        )
        # Wait for the broker: the offset is committed next, and a dead letter that was
        # not stored would be a lost event.
        future.get(timeout=30)
        metrics.DEAD_LETTERS.labels(message.topic, self.group_id).inc()

    def close(self) -> None:
        """Leave the group cleanly so partitions move to the other members at once."""
        self._consumer.close(autocommit=False)


class TableReader:
    """Reads a whole compacted topic into local state, like a Kafka Streams GlobalKTable.

    Not in a consumer group: every process that owns a reader sees every partition, so a
    lookup is complete whichever partition the other side of a pair fell in.
    """

    def __init__(self, bootstrap_servers: str, topic: str, apply: Callable[[Event], None]) -> None:
        self._topic = topic
        self._apply = apply
        self._consumer = KafkaConsumer(
            bootstrap_servers=bootstrap_servers, enable_auto_commit=False, group_id=None
        )
        self._partitions: list[TopicPartition] = []
        self.invalid = 0

    def _assign(self) -> None:
        partitions = self._consumer.partitions_for_topic(self._topic) or set()
        wanted = [TopicPartition(self._topic, p) for p in sorted(partitions)]
        if wanted and wanted != self._partitions:
            self._consumer.assign(wanted)
            self._consumer.seek_to_beginning(*wanted)
            self._partitions = wanted

    def catch_up(self, timeout_s: float = 30.0) -> int:
        """Apply every event written before this call; returns how many were applied."""
        self._assign()
        if not self._partitions:
            return 0
        targets = self._consumer.end_offsets(self._partitions)
        deadline = time.monotonic() + timeout_s
        applied = 0
        while any(self._consumer.position(tp) < end for tp, end in targets.items()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {self._topic} to its end in {timeout_s}s")
            for messages in self._consumer.poll(timeout_ms=200, max_records=5000).values():
                for message in messages:
                    applied += self._apply_one(message)
        return applied

    def _apply_one(self, message: Any) -> int:
        try:
            event = decode_event(message.value)
        except EventValidationError as exc:
            # The work consumer dead-letters it; the replica just leaves it out.
            self.invalid += 1
            log.debug("replica skips invalid event at offset %s: %s", message.offset, exc)
            return 0
        self._apply(event)
        return 1

    def close(self) -> None:
        """Close the underlying consumer."""
        self._consumer.close(autocommit=False)


def ensure_topics(
    bootstrap_servers: str, topics: Mapping[str, Mapping[str, str]], partitions: int = 3
) -> None:
    """Create missing topics (and their dead-letter topics) with the given configs."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="boucle-admin")
    try:
        existing = set(admin.list_topics())
        wanted: dict[str, Mapping[str, str]] = {}
        for name, config in topics.items():
            wanted[name] = config
            wanted[Topics.dead_letter(name)] = {}
        missing = {
            name: {"num_partitions": partitions, "replication_factor": 1, "configs": dict(cfg)}
            for name, cfg in wanted.items()
            if name not in existing
        }
        if missing:
            # Another process may win the race to create a topic; it is there, which will do.
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(missing, wait_for_metadata=True)
            log.info("created topics %s", sorted(missing))
    finally:
        admin.close()


def standard_topics(topics: Topics) -> dict[str, dict[str, str]]:
    """The exchange's topics and their configs: state topics are compacted."""
    compacted = {"cleanup.policy": "compact"}
    return {
        topics.listings: compacted,
        topics.organisations: compacted,
        topics.matches: {},
        topics.deliveries: {},
    }
