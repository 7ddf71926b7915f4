"""What the pages and the API ask of the monitor: state, trends, replays, impact."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from monitor.domain.activity import ActivityProjection
from monitor.domain.dead_letters import (
    DeadLetter,
    DeadLetterLog,
    Replay,
    marker_headers,
    replay_headers,
    replay_status,
)
from monitor.domain.health import HealthView, ServiceHealth, health_view
from monitor.domain.pace import Pace, consumed_total, pace_of
from monitor.domain.streams import GroupState, Series, TopicState
from monitor.domain.tail import TailHub
from monitor.errors import BrokerUnavailable, ReplayError
from shared.impact.summary import ImpactRow, Lineage, impact_summary, transfers

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


class Inspector(Protocol):
    """The cluster queries the monitor needs (ClusterInspector, or a fake in unit tests)."""

    def topics(self, prefix: str = "") -> dict[str, TopicState]: ...
    def groups(self, topics: dict[str, TopicState]) -> list[GroupState]: ...
    def committed(self, group_id: str, topic: str, partition: int) -> int | None: ...


class RawPublisher(Protocol):
    """Sends bytes as they are; `publish_raw(...).get(timeout)` gives the record's metadata."""

    def publish_raw(
        self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> Any: ...


@dataclass(frozen=True)
class ReplayRow:
    """A replay and what became of it."""

    replay: Replay
    status: str
    consumer: str
    failure: DeadLetter | None


class MonitorService:
    """The monitor's state (fed by the workers) and the operations on it."""

    def __init__(
        self,
        inspector: Inspector,
        publisher: RawPublisher,
        lineage: Lineage,
        services: dict[str, str],
        topic_prefix: str = "",
        watched_topics: tuple[str, ...] = (),
        down_after_s: float = 30.0,
        long_chain_km: float = 500.0,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self.inspector, self.publisher, self.lineage = inspector, publisher, lineage
        self.topic_prefix, self.down_after_s, self.long_chain_km = (
            topic_prefix,
            down_after_s,
            long_chain_km,
        )
        self.clock = clock
        self.watched_topics = watched_topics
        self.dead_letters = DeadLetterLog()
        self.tail = TailHub()
        self.activity = ActivityProjection()
        self.health = {name: ServiceHealth(name, url) for name, url in services.items()}
        self.topic_series: dict[str, Series] = {}
        self.lag_series: dict[str, Series] = {}
        self.consumed_series: dict[str, Series] = {}

    def topics(self) -> list[TopicState]:
        """Every topic with its growth per minute (from the sampler's history)."""
        found = self.inspector.topics(self.topic_prefix)
        return [
            replace(state, per_minute=self._rate(name)) for name, state in sorted(found.items())
        ]

    def _rate(self, topic: str) -> float | None:
        series = self.topic_series.get(topic)
        return series.per_minute() if series is not None else None

    def groups(self, topics: list[TopicState] | None = None) -> list[GroupState]:
        """Every group reading our topics, with lag per partition and its trend."""
        by_name = {t.name: t for t in (topics if topics is not None else self.topics())}
        groups = self.inspector.groups(by_name)
        return [self._with_trend(group) for group in groups]

    def _with_trend(self, group: GroupState) -> GroupState:
        series = self.lag_series.get(group.group_id)
        if series is None:
            return group
        return replace(group, lag_trend=series.trend(), lag_history=series.values())

    def sample(self) -> None:
        """Record end offsets and lag now (called every few seconds by the sampler)."""
        now = self.clock()
        topics = self.inspector.topics(self.topic_prefix)
        for name, state in topics.items():
            self.topic_series.setdefault(name, Series()).add(now, state.total_written)
        for group in self.inspector.groups(topics):
            self.lag_series.setdefault(group.group_id, Series()).add(now, group.total_lag)
            consumed = self.consumed_series.setdefault(group.group_id, Series())
            consumed.add(now, consumed_total(group))

    def paces(self, groups: list[GroupState]) -> dict[str, Pace]:
        """Whether each group keeps up, from the sampler's history of it."""
        now = self.clock()
        return {
            group.group_id: pace_of(
                group,
                self.consumed_series.get(group.group_id),
                self.lag_series.get(group.group_id),
                now,
            )
            for group in groups
        }

    def services(self) -> list[HealthView]:
        """Each service's health as last polled."""
        now = self.clock()
        return [health_view(s, now, self.down_after_s) for s in self.health.values()]

    def replay(self, letter_id: str, by: str) -> Replay:
        """Re-publish one dead letter to its source topic and close it in its `.dlq` topic."""
        letter = self.dead_letters.get(letter_id)
        if letter is None:
            raise ReplayError(f"no dead letter {letter_id}")
        if self.dead_letters.replay_of(letter_id) is not None:
            raise ReplayError(f"dead letter {letter_id} was already replayed")
        if letter.source_topic is None:
            raise ReplayError(f"dead letter {letter_id} does not say which topic it came from")
        record = letter.record
        try:
            sent = self.publisher.publish_raw(
                letter.source_topic, record.key, record.value, replay_headers(letter)
            ).get(timeout=30)
            target = (sent.topic, sent.partition, sent.offset)
            # The marker follows the replay: were it lost, the letter would show as open and
            # a second replay would be a duplicate, which the idempotent consumers absorb.
            self.publisher.publish_raw(
                record.topic, record.key, None, marker_headers(letter, target, by)
            ).get(timeout=30)
        except Exception as exc:
            raise BrokerUnavailable(
                f"the replay of {letter_id} was not acknowledged: {exc}"
            ) from exc
        replay = Replay(letter_id, *target, by=by, at=self.clock())
        self.dead_letters.record_replay(replay)
        event_id = (record.document() or {}).get("id")
        log.info("replayed %s to %s", letter_id, target, extra={"event_id": event_id})
        return replay

    def replay_all(self, by: str, topic: str | None = None) -> list[Replay]:
        """Replay every open letter that says where it came from (of one `.dlq` topic, or all).

        The notifier's given-up deliveries name no position to go back to: they stay listed
        with what they concern and are left out here rather than stopping the others."""
        letters = self.dead_letters.open_letters(topic)
        return [self.replay(letter.id, by) for letter in letters if letter.source is not None]

    def replay_rows(self, limit: int = 50) -> list[ReplayRow]:
        """Recent replays with their status: pending, handled or dead-lettered again."""
        rows = []
        for replay in self.dead_letters.replays()[:limit]:
            letter = self.dead_letters.get(replay.dead_letter_id)
            consumer = letter.consumer if letter is not None else ""
            failure = self.dead_letters.failure_of(replay)
            committed = (
                self.inspector.committed(consumer, replay.topic, replay.partition)
                if consumer and failure is None
                else None
            )
            status = replay_status(replay, committed, failure is not None)
            rows.append(ReplayRow(replay, status, consumer, failure))
        return rows

    def impact(self) -> tuple[list[ImpactRow], ImpactRow]:
        """The impact summary by material class, and its total."""
        listings, exchanges, organisations = self.activity.exchange_snapshot()
        moved = transfers(listings, exchanges, organisations, self.lineage)
        return impact_summary(moved, self.lineage, self.long_chain_km)
