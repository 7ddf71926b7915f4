"""Dead letters and their replays, rebuilt from the `.dlq` topics alone.

A replay re-publishes the dead letter's key, value and headers to its source topic with a
`monitor.replay-of` header, then appends a marker (null value, `monitor.replayed-to`
header) to the dead-letter topic. Reading a `.dlq` topic from the start therefore tells
which letters are still open and where each replay went, with no database of our own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.domain.records import RawRecord, coordinates, parse_coordinates

# The Kafka adapter's header names (shared/kafka.py); a unit test keeps them in step.
DLQ_ERROR, DLQ_ATTEMPTS, DLQ_CONSUMER = "dlq.error", "dlq.attempts", "dlq.consumer"
DLQ_TOPIC, DLQ_PARTITION, DLQ_OFFSET = "dlq.topic", "dlq.partition", "dlq.offset"
REPLAY_OF, REPLAYED_TO, REPLAYED_BY = (
    "monitor.replay-of",
    "monitor.replayed-to",
    "monitor.replayed-by",
)

PENDING, HANDLED, FAILED_AGAIN = "pending", "handled", "dead-lettered again"


@dataclass(frozen=True)
class DeadLetter:
    """A message a consumer gave up on, with why, who and how many attempts."""

    record: RawRecord
    error: str
    attempts: int
    consumer: str
    source: tuple[str, int, int] | None
    replay_of: str | None

    @property
    def id(self) -> str:
        """`<dlq topic>:<partition>:<offset>`."""
        return coordinates(self.record.topic, self.record.partition, self.record.offset)

    @property
    def source_topic(self) -> str | None:
        """The topic the message failed on (where a replay goes)."""
        return self.source[0] if self.source else None

    @property
    def failed_at(self) -> datetime:
        """When it was dead-lettered."""
        return self.record.timestamp


@dataclass(frozen=True)
class Replay:
    """Where a dead letter was re-published, by whom and when."""

    dead_letter_id: str
    topic: str
    partition: int
    offset: int
    by: str
    at: datetime


def dead_letter_from(record: RawRecord) -> DeadLetter:
    """Read the adapter's headers of a dead-lettered message."""
    attempts = record.header(DLQ_ATTEMPTS) or "0"
    partition, offset = record.header(DLQ_PARTITION), record.header(DLQ_OFFSET)
    topic = record.header(DLQ_TOPIC)
    source = None
    if topic and partition and offset and partition.isdigit() and offset.isdigit():
        source = (topic, int(partition), int(offset))
    return DeadLetter(
        record=record,
        error=record.header(DLQ_ERROR) or "",
        attempts=int(attempts) if attempts.isdigit() else 0,
        consumer=record.header(DLQ_CONSUMER) or "",
        source=source,
        replay_of=record.header(REPLAY_OF),
    )


def replay_headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
    """Headers of the re-published message: the original ones, and which letter it replays."""
    kept = [
        (k, v)
        for k, v in letter.record.headers
        if not k.startswith("dlq.") and not k.startswith("monitor.")
    ]
    return [*kept, (REPLAY_OF, letter.id.encode())]


def marker_headers(
    letter: DeadLetter, target: tuple[str, int, int], by: str
) -> list[tuple[str, bytes]]:
    """Headers of the marker that closes a letter in its `.dlq` topic."""
    return [
        (REPLAY_OF, letter.id.encode()),
        (REPLAYED_TO, coordinates(*target).encode()),
        (REPLAYED_BY, by.encode()),
    ]


class DeadLetterLog:
    """Every dead letter seen and every replay marker, in the order they were read."""

    def __init__(self) -> None:
        self._letters: dict[str, DeadLetter] = {}
        self._replays: dict[str, Replay] = {}
        # replayed message coordinates -> the letter it produced when it failed again
        self._by_source: dict[tuple[str, int, int], DeadLetter] = {}

    def apply(self, record: RawRecord) -> None:
        """Take one message of a `.dlq` topic into account (a letter or a marker)."""
        target = parse_coordinates(record.header(REPLAYED_TO))
        replay_of = record.header(REPLAY_OF)
        if record.value is None and target is not None and replay_of:
            self.record_replay(
                Replay(replay_of, *target, by=record.header(REPLAYED_BY) or "", at=record.timestamp)
            )
            return
        letter = dead_letter_from(record)
        self._letters[letter.id] = letter
        if letter.source is not None:
            self._by_source[letter.source] = letter

    def record_replay(self, replay: Replay) -> None:
        """Remember a replay (read back from its marker, or just made)."""
        self._replays[replay.dead_letter_id] = replay

    def get(self, letter_id: str) -> DeadLetter | None:
        """One letter by its id."""
        return self._letters.get(letter_id)

    def replay_of(self, letter_id: str) -> Replay | None:
        """The replay of a letter, if it was replayed."""
        return self._replays.get(letter_id)

    def open_letters(self, topic: str | None = None) -> list[DeadLetter]:
        """Letters not replayed yet, newest first (optionally of one `.dlq` topic)."""
        return sorted(
            (
                letter
                for letter in self._letters.values()
                if letter.id not in self._replays
                and (topic is None or letter.record.topic == topic)
            ),
            key=lambda letter: (letter.record.timestamp_ms, letter.id),
            reverse=True,
        )

    def replays(self) -> list[Replay]:
        """Replays, newest first."""
        return sorted(self._replays.values(), key=lambda r: r.at, reverse=True)

    def failure_of(self, replay: Replay) -> DeadLetter | None:
        """The letter a replayed message became when it failed again, if it did."""
        return self._by_source.get((replay.topic, replay.partition, replay.offset))

    def counts(self) -> dict[str, int]:
        """Open letters per `.dlq` topic."""
        counts: dict[str, int] = {}
        for letter in self.open_letters():
            counts[letter.record.topic] = counts.get(letter.record.topic, 0) + 1
        return counts


def replay_status(replay: Replay, committed: int | None, failed_again: bool) -> str:
    """pending until the failed consumer's group commits past the replayed message."""
    if failed_again:
        return FAILED_AGAIN
    if committed is not None and committed > replay.offset:
        return HANDLED
    return PENDING
