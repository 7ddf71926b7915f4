"""Reads a whole compacted topic into local state, like a Kafka Streams GlobalKTable.

Not in a consumer group: every process that owns a reader sees every partition, so a
lookup is complete whichever partition the other side of a pair fell in. A bad message
is dead-lettered with the reason and skipped; a transient fault in `apply` leaves the
reader on the message it failed (the caller backs off and catches up again); a message of
a newer schema version stops its partition, as in the consume loop (shared/kafka.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from shared import metrics
from shared.events import Event, EventValidationError, NewerSchemaVersion, decode_event
from shared.faults import is_transient

log = logging.getLogger(__name__)

Apply = Callable[[Event], None]
ApplyMany = Callable[[list[Event]], None]
#: Forgets one key (a tombstone's): the state must hold nothing of it afterwards.
Forget = Callable[[str], None]
#: Writes a dead letter: (message, reason, consumer name).
DeadLetter = Callable[[Any, str, str], None]


class TableReader:
    """Applies every event of a topic, from its beginning, to local state."""

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        apply: Apply,
        dead_letter: DeadLetter | None = None,
        name: str = "table-reader",
        apply_many: ApplyMany | None = None,
        max_records: int = 5000,
        forget: Forget | None = None,
    ) -> None:
        self._topic = topic
        self._apply = apply
        # None: tombstones are skipped (the state already left the key with the event
        # before it, e.g. a withdrawn listing), never dead-lettered.
        self._forget = forget
        self._apply_many = apply_many
        self._dead_letter = dead_letter
        self.name = name
        self._max_records = max_records
        self._consumer = KafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            enable_auto_commit=False,
            group_id=None,
            isolation_level="read_committed",
        )
        self._partitions: list[TopicPartition] = []
        self._start: dict[int, int] = {}  # partition -> offset, for the first assignment
        self.invalid = 0
        self.stalled: dict[TopicPartition, str] = {}

    def health_check(self) -> None:
        """Raise while a partition is stopped at a message this code is too old to read."""
        if self.stalled:
            raise RuntimeError(
                "; ".join(
                    f"{tp.topic}[{tp.partition}] stopped: {w}" for tp, w in self.stalled.items()
                )
            )

    def start_at(self, offsets: Mapping[int, int]) -> None:
        """Read from these offsets (partition -> offset) instead of the beginning: the
        local state already holds everything before them (a snapshot). Call it before
        the first catch_up, after `unusable_start` found nothing wrong with them."""
        self._start = dict(offsets)

    def unusable_start(self, offsets: Mapping[int, int]) -> str | None:
        """Why the topic cannot be read from `offsets` (None: it can)."""
        partitions = self._consumer.partitions_for_topic(self._topic) or set()
        if not partitions:
            return f"{self._topic} has no partitions (yet)"
        if set(offsets) - partitions:
            return f"{self._topic} has fewer partitions than {sorted(offsets)}"
        known = [TopicPartition(self._topic, p) for p in sorted(offsets)]
        firsts = self._consumer.beginning_offsets(known)
        ends = self._consumer.end_offsets(known)
        for tp in known:
            offset = offsets[tp.partition]
            if not firsts[tp] <= offset <= ends[tp]:
                return (
                    f"{self._topic}[{tp.partition}] holds offsets {firsts[tp]}..{ends[tp]}, "
                    f"not {offset}"
                )
        return None

    def positions(self) -> dict[int, int]:
        """partition -> the next offset to read: the state holds every event before them
        (between catch-ups: they move together with the state only in `catch_up`)."""
        return {tp.partition: self._consumer.position(tp) for tp in self._partitions}

    def _assign(self) -> None:
        partitions = self._consumer.partitions_for_topic(self._topic) or set()
        wanted = [TopicPartition(self._topic, p) for p in sorted(partitions)]
        if wanted and wanted != self._partitions:
            self._consumer.assign(wanted)
            start, self._start = self._start, {}
            for tp in wanted:
                if tp.partition in start:
                    self._consumer.seek(tp, start[tp.partition])
                else:
                    self._consumer.seek_to_beginning(tp)
            self._partitions = wanted

    def catch_up(self, timeout_s: float = 60.0) -> int:
        """Apply every event written before this call; returns how many were applied.

        `timeout_s` bounds a wait without progress, not the whole read: a bigger topic
        takes longer to read and must not fail for it (TimeoutError after a stall).
        """
        self._assign()
        if not self._partitions:
            return 0
        targets = self._consumer.end_offsets(self._partitions)
        last_progress, applied = time.monotonic(), 0
        while self._behind(targets):
            if time.monotonic() - last_progress > timeout_s:
                raise TimeoutError(f"no progress reading {self._topic} for {timeout_s}s")
            for partition, messages in self._consumer.poll(
                timeout_ms=200, max_records=self._max_records
            ).items():
                applied += self._apply_batch(partition, messages)
                last_progress = time.monotonic()
        return applied

    def _behind(self, targets: dict[TopicPartition, int]) -> bool:
        return any(
            tp not in self.stalled and self._consumer.position(tp) < end
            for tp, end in targets.items()
        )

    def _apply_batch(self, partition: TopicPartition, messages: list[Any]) -> int:
        # A tombstone is applied in its place: what came before it is applied first.
        applied, start = 0, 0
        for index, message in enumerate(messages):
            if message.value is None:
                applied += self._apply_events(partition, messages[start:index])
                if partition in self.stalled:
                    return applied
                self._forget_key(partition, message)
                start = index + 1
        return applied + self._apply_events(partition, messages[start:])

    def _forget_key(self, partition: TopicPartition, message: Any) -> None:
        if self._forget is None or message.key is None:
            return
        try:
            self._forget(message.key.decode("utf-8", errors="replace"))
        except Exception as exc:
            if is_transient(exc):
                self._consumer.seek(partition, message.offset)
                raise
            # A tombstone is never a dead letter: there is nothing in it to replay.
            log.error("%s could not forget %r: %r", self.name, message.key, exc)

    def _apply_events(self, partition: TopicPartition, messages: list[Any]) -> int:
        events: list[tuple[Any, Event]] = []
        for message in messages:
            event = self._decode(partition, message)
            if partition in self.stalled:
                break
            if event is not None:
                events.append((message, event))
        if self._apply_many is not None and events:
            try:
                self._apply_many([event for _, event in events])
                return len(events)
            except Exception as exc:
                if is_transient(exc):
                    self._consumer.seek(partition, messages[0].offset)
                    raise
                log.warning("%s: batch failed (%r); applying one by one", self.name, exc)
        return sum(self._apply_one(partition, message, event) for message, event in events)

    def _decode(self, partition: TopicPartition, message: Any) -> Event | None:
        try:
            return decode_event(message.value)
        except NewerSchemaVersion as exc:
            log.error("%s stops %s at offset %s: %s", self.name, partition, message.offset, exc)
            self.stalled[partition] = f"offset {message.offset}: {exc}"
            self._consumer.seek(partition, message.offset)
            self._consumer.pause(partition)
        except EventValidationError as exc:
            self._reject(message, f"invalid event: {exc}")
        return None

    def _apply_one(self, partition: TopicPartition, message: Any, event: Event) -> int:
        try:
            self._apply(event)
            return 1
        except Exception as exc:
            if is_transient(exc):
                self._consumer.seek(partition, message.offset)
                raise
            self._reject(message, f"{type(exc).__name__}: {exc}")
            return 0

    def _reject(self, message: Any, reason: str) -> None:
        self.invalid += 1
        metrics.INVALID_EVENTS.labels(message.topic, self.name).inc()
        log.warning("%s skips %s:%s: %s", self.name, message.topic, message.offset, reason)
        if self._dead_letter is not None:
            self._dead_letter(message, reason, self.name)

    def close(self) -> None:
        """Close the underlying consumer."""
        self._consumer.close(autocommit=False)
