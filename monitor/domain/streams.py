"""Topics, consumer groups and their lag, as plain data; trends from periodic samples."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

DEAD_LETTER_SUFFIX = ".dlq"


@dataclass(frozen=True)
class TopicState:
    """One topic: its partitions' first and next offsets, and how fast it grows."""

    name: str
    start_offsets: Mapping[int, int]
    end_offsets: Mapping[int, int]
    per_minute: float | None = None

    @property
    def partitions(self) -> list[int]:
        """Partition numbers, in order."""
        return sorted(self.end_offsets)

    @property
    def messages(self) -> int:
        """Messages currently kept (compaction and retention may have removed older ones)."""
        return sum(self.end_offsets[p] - self.start_offsets.get(p, 0) for p in self.end_offsets)

    @property
    def total_written(self) -> int:
        """Sum of the end offsets: every message ever written to the topic."""
        return sum(self.end_offsets.values())

    @property
    def is_dead_letter(self) -> bool:
        """True for a `<topic>.dlq` topic."""
        return self.name.endswith(DEAD_LETTER_SUFFIX)


@dataclass(frozen=True)
class PartitionLag:
    """How far one group is behind on one partition."""

    topic: str
    partition: int
    committed: int | None
    end: int
    lag: int
    member: str | None = None


@dataclass(frozen=True)
class Member:
    """A consumer in a group and the partitions it was given."""

    member_id: str
    client_id: str
    host: str
    assignment: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class GroupState:
    """A consumer group: its state, its members and its lag per partition."""

    group_id: str
    state: str
    members: tuple[Member, ...]
    partitions: tuple[PartitionLag, ...]
    lag_trend: str = "steady"
    lag_history: tuple[int, ...] = ()

    @property
    def total_lag(self) -> int:
        """Messages the group has yet to consume, over all its partitions."""
        return sum(p.lag for p in self.partitions)

    @property
    def topics(self) -> list[str]:
        """Topics the group reads or has committed offsets on."""
        return sorted({p.topic for p in self.partitions})


def lag_of(committed: int | None, start: int, end: int) -> int:
    """Messages between a committed offset (or the log start, if none) and the end."""
    position = committed if committed is not None and committed >= 0 else start
    return max(0, end - max(position, start))


def partition_lags(
    committed: Mapping[tuple[str, int], int | None],
    topics: Mapping[str, TopicState],
    members: Iterable[Member],
) -> tuple[PartitionLag, ...]:
    """Lag on every partition of each topic the group committed on or was assigned.

    A partition without a committed offset counts from the log start: our consumers start
    there (auto_offset_reset=earliest), so that is what a stopped group has yet to read.
    """
    owner = {tp: m.client_id or m.member_id for m in members for tp in m.assignment}
    read = {topic for topic, _ in (*committed, *owner) if topic in topics}
    every = {(topic, p) for topic in read for p in topics[topic].end_offsets}
    rows = []
    for topic, partition in sorted(set(committed) | set(owner) | every):
        state = topics.get(topic)
        if state is None:
            continue
        end = state.end_offsets.get(partition, 0)
        start = state.start_offsets.get(partition, 0)
        offset = committed.get((topic, partition))
        rows.append(
            PartitionLag(
                topic,
                partition,
                offset,
                end,
                lag_of(offset, start, end),
                owner.get((topic, partition)),
            )
        )
    return tuple(rows)


@dataclass
class Series:
    """The last samples of one quantity (a topic's end offsets, a group's lag)."""

    maxlen: int = 240
    samples: deque[tuple[datetime, float]] = field(default_factory=deque)

    def add(self, when: datetime, value: float) -> None:
        """Append a sample, dropping the oldest beyond `maxlen`."""
        self.samples.append((when, value))
        while len(self.samples) > self.maxlen:
            self.samples.popleft()

    def per_minute(self, window_s: float = 300.0) -> float | None:
        """Growth per minute over the last `window_s` seconds, None with fewer than 2 samples."""
        if len(self.samples) < 2:
            return None
        last_time, last_value = self.samples[-1]
        first_time, first_value = next(
            ((t, v) for t, v in self.samples if (last_time - t).total_seconds() <= window_s),
            self.samples[-1],
        )
        elapsed = (last_time - first_time).total_seconds()
        if elapsed <= 0:
            return None
        return (last_value - first_value) * 60.0 / elapsed

    def trend(self, points: int = 4) -> str:
        """'rising', 'falling' or 'steady' over the last `points` samples."""
        recent = [v for _, v in list(self.samples)[-points:]]
        if len(recent) < 2 or recent[-1] == recent[0]:
            return "steady"
        return "rising" if recent[-1] > recent[0] else "falling"

    def values(self, points: int = 40) -> tuple[int, ...]:
        """The last `points` values, oldest first (for a sparkline)."""
        return tuple(int(v) for _, v in list(self.samples)[-points:])
