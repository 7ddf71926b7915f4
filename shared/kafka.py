"""The Kafka adapter's consume loop; publishers and the table reader sit beside it.

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

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import (
    CommitFailedError,
    IllegalStateError,
    NoOffsetForPartitionError,
    RebalanceInProgressError,
)
from kafka.structs import OffsetAndMetadata

from shared import metrics
from shared.events import Event, EventValidationError, NewerSchemaVersion, decode_event
from shared.faults import backoff_s, is_transient

log = logging.getLogger(__name__)

Handler = Callable[[Event], None]
#: Handles a partition's run of events in one transaction, or raises having changed nothing.
BatchHandler = Callable[[list[Event]], None]

#: Readers see only committed transactions' messages (the matcher writes transactionally).
READ_COMMITTED = "read_committed"


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


#: (partitions without a committed offset) -> where each of them starts
StartPositions = Callable[[list[TopicPartition]], Mapping[TopicPartition, int]]


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
        transactions: TransactionalPublisher | None = None,
        start_positions: StartPositions | None = None,
        handle_batch: BatchHandler | None = None,
    ) -> None:
        self.group_id = group_id
        self._handler = handler
        # A burst (a bulk import, a replay) costs one transaction a poll, not one an event.
        self._handle_batch = handle_batch
        self._before_batch = before_batch
        # In a transaction, dead letters are part of it too.
        self._publisher = transactions or publisher
        self._transactions = transactions
        self._options = options or ConsumerOptions()
        topics = list(topics)
        self._consumer = KafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            group_id=group_id,
            client_id=group_id,
            enable_auto_commit=False,
            isolation_level=READ_COMMITTED,
            # With start_positions, a partition the group holds no offset for stops the
            # poll (NoOffsetForPartitionError) and starts where they say, not at one end.
            auto_offset_reset="none" if start_positions else self._options.auto_offset_reset,
            max_poll_records=self._options.max_poll_records,
            max_poll_interval_ms=self._options.max_poll_interval_ms,
            session_timeout_ms=self._options.session_timeout_ms,
            heartbeat_interval_ms=self._options.heartbeat_interval_ms,
            # A topic created after the group formed is noticed within this, not 5 minutes.
            metadata_max_age_ms=30_000,
        )
        self._consumer.subscribe(topics)
        self._start_positions = start_positions
        self._topics = topics
        #: the message being handled (a handler's publisher may name it, shared/work_marks.py)
        self.current: Any = None
        self._stop = threading.Event()
        self._failures = 0  # transient failures in a row
        self.degraded: str | None = None
        self.stalled: dict[TopicPartition, str] = {}

    def run(self, stop: threading.Event) -> None:
        """Consume until `stop` is set, then close (committing nothing unhandled)."""
        self._stop = stop
        self.wait_for_topics()
        log.info("consumer %s started", self.group_id)
        try:
            while not stop.is_set():
                self.poll_once()
        finally:
            self.close()

    def wait_for_topics(self, timeout_s: float = 30.0) -> None:
        """Wait until every topic's partitions are known, so the first assignment has them.

        Joining the group before a just-created topic's metadata arrived would leave this
        member with no partitions of it until the next metadata refresh.
        """
        deadline = time.monotonic() + timeout_s
        for topic in self._topics:
            while not self._consumer.partitions_for_topic(topic):
                if time.monotonic() > deadline or self._stop.is_set():
                    log.warning("%s: no partitions known for %s yet", self.group_id, topic)
                    return
                self._stop.wait(0.1)

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
        try:
            batches = self._consumer.poll(timeout_ms=timeout_ms or self._options.poll_timeout_ms)
        except NoOffsetForPartitionError as exc:
            try:
                self._start_fresh(set(exc.args[0]))
            except Exception as error:
                if not is_transient(error):
                    raise
                # Where to start is read from the broker: when it is away, wait and ask
                # again (the next poll raises the same error for the same partitions).
                self._failures += 1
                self.degraded = f"finding where to start: {type(error).__name__}: {error}"[:500]
                options = self._options
                pause = backoff_s(
                    self._failures, options.transient_backoff_s, options.transient_backoff_cap_s
                )
                self._stop.wait(pause)
            return 0
        if not batches:
            return 0
        done: dict[TopicPartition, OffsetAndMetadata] = {}
        try:
            if self._transactions is not None:
                self._transactions.begin()
            if self._before_batch is not None:
                self._before_batch()
            count = self._handle(batches, done)
            self._commit(done)
        except (CommitFailedError, RebalanceInProgressError) as exc:
            # The group moved the partitions on: their new owner handles the uncommitted
            # messages again (handlers are idempotent), so this member just goes on.
            log.warning("%s: batch not committed, partitions reassigned: %r", self.group_id, exc)
            if self._transactions is not None:
                self._transactions.abort()
            return 0
        except Exception as exc:
            if not is_transient(exc) and not isinstance(exc, _RetryLater):
                raise
            self._retry_later(batches, done, exc)
            return 0
        self._recovered()
        self._record_lag(done)
        return count

    def _start_fresh(self, partitions: set[TopicPartition]) -> None:
        assert self._start_positions is not None
        positions = self._start_positions(sorted(partitions))
        for tp in sorted(partitions):
            if tp in positions:
                log.info(
                    "%s: %s has no committed offset, starts at %d", self.group_id, tp, positions[tp]
                )
                self._consumer.seek(tp, positions[tp])
            else:
                self._consumer.seek_to_beginning(tp)

    def _handle(
        self, batches: Mapping[TopicPartition, list[Any]], done: dict[TopicPartition, Any]
    ) -> int:
        count = 0
        for partition, messages in batches.items():
            if partition not in self.stalled and self._handled_together(partition, messages):
                done[partition] = OffsetAndMetadata(messages[-1].offset + 1, "", -1)
                count += len(messages)
                continue
            for message in messages:
                if partition in self.stalled:
                    break
                self._process(partition, message)
                if partition not in self.stalled:
                    done[partition] = OffsetAndMetadata(message.offset + 1, "", -1)
                    count += 1
        return count

    def _handled_together(self, partition: TopicPartition, messages: list[Any]) -> bool:
        """True if the batch handler took all of `messages` at once.

        False leaves them to the one-at-a-time path, which alone dead-letters or stalls: a
        message that does not decode, or a batch the handler refused for another reason than
        its surroundings (it changed nothing, so each event is simply handled again alone).
        """
        if self._handle_batch is None or len(messages) < 2:
            return False
        try:
            events = [decode_event(m.value) for m in messages if m.value is not None]
        except (EventValidationError, NewerSchemaVersion):
            return False
        self.current = messages[-1]
        started = time.perf_counter()
        try:
            self._handle_batch(events)
        except Exception as exc:
            if is_transient(exc):
                raise _RetryLater(str(exc)) from exc
            log.warning(
                "%s: batch at %s refused, one event at a time: %r", self.group_id, partition, exc
            )
            return False
        each = (time.perf_counter() - started) / len(messages)
        labels = (partition.topic, self.group_id)
        metrics.EVENTS_CONSUMED.labels(*labels).inc(len(messages))
        for _ in events:
            metrics.HANDLER_SECONDS.labels(*labels).observe(each)
        return True

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
                # Revoked meanwhile: its new owner starts from the committed offset.
                with contextlib.suppress(IllegalStateError):
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
        if message.value is None:
            # A tombstone: Kafka forgetting a key of a compacted topic. The event before it
            # (e.g. boucle.organisation.deleted) said what to do; this one is no bad message.
            return
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
        self.current = message
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


# Publishers, topic management and the table reader live beside this module; re-exported
# for callers, who import the Kafka adapter from one place.
from shared.kafka_publish import (  # noqa: E402, F401
    DLQ_ATTEMPTS,
    DLQ_CONSUMER,
    DLQ_ERROR,
    DLQ_OFFSET,
    DLQ_PARTITION,
    DLQ_TOPIC,
    KafkaPublisher,
    ProducerTuning,
    TransactionalPublisher,
    dead_letter,
    dead_letters_to,
)
from shared.table_reader import TableReader  # noqa: E402, F401
from shared.topics import ensure_topics, standard_topics  # noqa: E402, F401
