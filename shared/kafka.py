"""The one module that talks to Kafka: publishers and a consume loop with dead letters.

Delivery is at-least-once: offsets are committed only after the handler returned, so a
crash re-delivers the uncommitted tail and handlers must be idempotent. With a
`TransactionalPublisher` the loop is exactly-once between topics instead: a batch's
output and its offsets commit in one Kafka transaction, or neither does.

Failures are told apart (shared/faults.py). A transient one (database, broker, timeout)
never dead-letters anything: the loop stops committing, backs off with jitter and tries
the same message again until the dependency is back, reporting itself degraded meanwhile.
A message that fails validation, or whose handler keeps failing on it, goes to
`<topic>.dlq` with the reason in its headers, and the loop carries on with the next one. A
message of a schema version newer than this code stops its partition (the others go on)
until a newer consumer is deployed: skipping it would lose it, dead-lettering it would
blame the message for our age.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from shared import metrics
from shared.events import Event, EventValidationError, NewerSchemaVersion, decode_event
from shared.events import encode_event as encode_event
from shared.faults import backoff_s, is_transient
from shared.settings import Topics

log = logging.getLogger(__name__)

Handler = Callable[[Event], None]

#: Header names on a dead-lettered message.
DLQ_ERROR, DLQ_ATTEMPTS, DLQ_CONSUMER = "dlq.error", "dlq.attempts", "dlq.consumer"
DLQ_TOPIC, DLQ_PARTITION, DLQ_OFFSET = "dlq.topic", "dlq.partition", "dlq.offset"
#: Readers see only committed transactions' messages (the matcher writes transactionally).
READ_COMMITTED = "read_committed"


class KafkaPublisher:
    """Publishes validated events with their key: idempotent, acks=all, so no duplicates or
    losses from the producer's own retries and an acknowledged event is durable."""

    def __init__(self, bootstrap_servers: str, client_id: str, timeout_ms: int = 10_000) -> None:
        self._bootstrap = bootstrap_servers
        self._client_id = client_id
        self._timeout_ms = timeout_ms
        self._producer: KafkaProducer | None = None

    def _producer_config(self) -> dict[str, Any]:
        return {
            "bootstrap_servers": self._bootstrap,
            "client_id": self._client_id,
            # Explicit, not the library default: one changed setting must not turn them off.
            "acks": "all",
            "enable_idempotence": True,
            "linger_ms": 5,
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
    ) -> None:
        super().__init__(bootstrap_servers, transactional_id, timeout_ms)
        self.transactional_id = transactional_id
        self._transaction_timeout_ms = transaction_timeout_ms

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

    def begin(self) -> None:
        """Start a transaction: what is published next is invisible to read_committed readers."""
        self._get_producer().begin_transaction()

    def commit(self, offsets: Mapping[TopicPartition, OffsetAndMetadata], group: Any) -> None:
        """Commit the consumer offsets and everything published, as one."""
        producer = self._get_producer()
        if offsets:
            producer.send_offsets_to_transaction(dict(offsets), group)
        producer.commit_transaction()

    def abort(self) -> None:
        """Throw the open transaction away (or the whole producer, if it cannot even abort)."""
        if self._producer is None:
            return
        try:
            self._producer.abort_transaction()
        except Exception as exc:
            log.warning("could not abort the transaction (%r): starting a new producer", exc)
            self.reset()


@dataclass(frozen=True)
class ConsumerOptions:
    """How a consume loop behaves; the defaults suit every service here."""

    #: attempts of a handler that fails on a message (not the surroundings) before the DLQ
    max_attempts: int = 3
    retry_backoff_s: float = 0.2
    #: back-off while a dependency is away: doubles from base to cap, half of it jitter
    transient_backoff_s: float = 0.5
    transient_backoff_cap_s: float = 15.0
    poll_timeout_ms: int = 500
    max_poll_records: int = 500
    # A batch must finish (or a back-off end) within this, or the member is evicted.
    max_poll_interval_ms: int = 300_000
    auto_offset_reset: str = "earliest"
    # A crashed member holds its partitions until the broker gives up on it: keep that short
    # so a restarted or surviving process takes over within seconds.
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000


class _RetryLater(Exception):
    """A transient fault stopped the batch at a message: commit before it, retry from it."""


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
        transactions: TransactionalPublisher | None = None,
    ) -> None:
        self.group_id = group_id
        self._handler = handler
        self._before_batch = before_batch
        self._after_batch = after_batch
        # In a transaction, dead letters are part of it too.
        self._publisher = transactions or publisher
        self._transactions = transactions
        self._options = options or ConsumerOptions()
        self._consumer = KafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap_servers,
            group_id=group_id,
            client_id=group_id,
            enable_auto_commit=False,
            isolation_level=READ_COMMITTED,
            auto_offset_reset=self._options.auto_offset_reset,
            max_poll_records=self._options.max_poll_records,
            max_poll_interval_ms=self._options.max_poll_interval_ms,
            session_timeout_ms=self._options.session_timeout_ms,
            heartbeat_interval_ms=self._options.heartbeat_interval_ms,
        )
        self._stop = threading.Event()
        self._failures = 0  # transient failures in a row
        self.degraded: str | None = None
        self.stalled: dict[TopicPartition, str] = {}

    def run(self, stop: threading.Event) -> None:
        """Consume until `stop` is set, then close (committing nothing unhandled)."""
        self._stop = stop
        log.info("consumer %s started", self.group_id)
        try:
            while not stop.is_set():
                self.poll_once()
        finally:
            self.close()

    def health_check(self) -> None:
        """Raise (so /health says degraded) while a dependency is away or a partition stalls."""
        problems = [self.degraded] if self.degraded else []
        problems += [
            f"{tp.topic}[{tp.partition}] stopped: {why}" for tp, why in self.stalled.items()
        ]
        if problems:
            raise RuntimeError("; ".join(problems))

    def poll_once(self, timeout_ms: int | None = None) -> int:
        """Handle one batch and commit it; returns how many messages were taken."""
        batches = self._consumer.poll(timeout_ms=timeout_ms or self._options.poll_timeout_ms)
        if not batches:
            return 0
        done: dict[TopicPartition, OffsetAndMetadata] = {}
        try:
            if self._transactions is not None:
                self._transactions.begin()
            if self._before_batch is not None:
                self._before_batch()
            count = self._handle(batches, done)
            if self._after_batch is not None:
                # e.g. wait for the events the handler produced: they must be stored before
                # the offsets that caused them are committed.
                self._after_batch()
            self._commit(done)
        except Exception as exc:
            if not is_transient(exc) and not isinstance(exc, _RetryLater):
                raise
            self._retry_later(batches, done, exc)
            return 0
        self._recovered()
        self._record_lag(done)
        return count

    def _handle(
        self, batches: Mapping[TopicPartition, list[Any]], done: dict[TopicPartition, Any]
    ) -> int:
        count = 0
        for partition, messages in batches.items():
            for message in messages:
                if partition in self.stalled:
                    break
                self._process(partition, message)
                if partition not in self.stalled:
                    done[partition] = OffsetAndMetadata(message.offset + 1, "", -1)
                    count += 1
        return count

    def _commit(self, offsets: Mapping[TopicPartition, OffsetAndMetadata]) -> None:
        if self._transactions is not None:
            self._transactions.commit(offsets, self._consumer.group_metadata())
        elif offsets:
            self._consumer.commit(dict(offsets))

    def _retry_later(
        self,
        batches: Mapping[TopicPartition, list[Any]],
        done: dict[TopicPartition, OffsetAndMetadata],
        error: BaseException,
    ) -> None:
        cause = error.__cause__ if isinstance(error, _RetryLater) and error.__cause__ else error
        if self._transactions is not None:
            self._transactions.abort()
            done = {}  # nothing of the batch was committed
        else:
            try:
                self._commit(done)
            except Exception as exc:  # the broker may be the thing that is away
                log.warning("could not commit the handled part of the batch: %r", exc)
                done = {}
        for partition, messages in batches.items():
            if partition not in self.stalled:
                first = done[partition].offset if partition in done else messages[0].offset
                self._consumer.seek(partition, first)
        self._failures += 1
        self.degraded = f"waiting for a dependency: {type(cause).__name__}: {cause}"[:500]
        metrics.HANDLER_ERRORS.labels(next(iter(batches)).topic, self.group_id).inc()
        pause = backoff_s(
            self._failures,
            self._options.transient_backoff_s,
            self._options.transient_backoff_cap_s,
        )
        log.warning("%s: %s; retrying in %.1f s", self.group_id, self.degraded, pause)
        self._stop.wait(pause)

    def _recovered(self) -> None:
        if self._failures:
            log.info("%s: dependency back after %d attempts", self.group_id, self._failures)
        self._failures, self.degraded = 0, None

    def _record_lag(self, offsets: Mapping[TopicPartition, OffsetAndMetadata]) -> None:
        # The fetch responses carry each partition's high watermark: lag costs no request.
        for partition, committed in offsets.items():
            end = self._consumer.highwater(partition)
            if end is not None:
                metrics.CONSUMER_LAG.labels(
                    self.group_id, partition.topic, str(partition.partition)
                ).set(max(0, end - committed.offset))

    def _process(self, partition: TopicPartition, message: Any) -> None:
        labels = (message.topic, self.group_id)
        metrics.EVENTS_CONSUMED.labels(*labels).inc()
        try:
            event = decode_event(message.value)
        except NewerSchemaVersion as exc:
            self._stall(partition, message, str(exc))
            return
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
                if is_transient(exc):
                    raise _RetryLater(str(exc)) from exc
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

    def _stall(self, partition: TopicPartition, message: Any, reason: str) -> None:
        log.error("%s stops %s at offset %s: %s", self.group_id, partition, message.offset, reason)
        self.stalled[partition] = f"offset {message.offset}: {reason}"
        self._consumer.seek(partition, message.offset)
        self._consumer.pause(partition)

    def _dead_letter(self, message: Any, error: str, attempts: int) -> None:
        dead_letter(self._publisher, message, error, attempts, self.group_id)
        metrics.DEAD_LETTERS.labels(message.topic, self.group_id).inc()

    def close(self) -> None:
        """Leave the group cleanly so partitions move to the other members at once."""
        self._consumer.close(autocommit=False)


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


# Topic management and the table reader live beside this module; re-exported for callers.
from shared.table_reader import TableReader  # noqa: E402, F401
from shared.topics import ensure_topics, standard_topics  # noqa: E402, F401
