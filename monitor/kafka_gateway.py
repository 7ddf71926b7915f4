"""The monitor's window on the broker: cluster state through the admin client, raw reads.

This is the monitor's only module that speaks kafka-python; it hands plain data
(`TopicState`, `GroupState`, `RawRecord`) to the rest. Publishing (replays) goes through
the shared adapter's `KafkaPublisher`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import OffsetSpec

from monitor.domain.records import RawRecord
from monitor.domain.streams import GroupState, Member, TopicState, partition_lags
from monitor.errors import BrokerUnavailable

log = logging.getLogger(__name__)


class ClusterInspector:
    """Topics, end offsets, groups and committed offsets, one admin request at a time."""

    def __init__(self, bootstrap_servers: str, timeout_ms: int = 10_000) -> None:
        self._bootstrap = bootstrap_servers
        self._timeout_ms = timeout_ms
        self._admin: KafkaAdminClient | None = None
        self._lock = threading.Lock()

    def _client(self) -> KafkaAdminClient:
        # Connected on first use: a monitor must start (and say so) while the broker is down.
        if self._admin is None:
            self._admin = KafkaAdminClient(
                bootstrap_servers=self._bootstrap,
                client_id="boucle-monitor",
                request_timeout_ms=self._timeout_ms,
            )
        return self._admin

    def _call(self, method: str, *args: Any) -> Any:
        with self._lock:
            try:
                return getattr(self._client(), method)(*args)
            except Exception as exc:
                self._reset()
                raise BrokerUnavailable(f"Kafka did not answer {method}: {exc}") from exc

    def _reset(self) -> None:
        if self._admin is not None:
            try:
                self._admin.close()
            finally:
                self._admin = None

    def topics(self, prefix: str = "") -> dict[str, TopicState]:
        """Every non-internal topic (starting with `prefix`) with its first and next offsets."""
        described = self._call("describe_topics")
        partitions = [
            TopicPartition(t["name"], p["partition_index"])
            for t in described
            if not t["is_internal"] and t["name"].startswith(prefix)
            for p in t["partitions"]
        ]
        if not partitions:
            return {}
        ends = self._call("list_partition_offsets", {tp: OffsetSpec.LATEST for tp in partitions})
        starts = self._call(
            "list_partition_offsets", {tp: OffsetSpec.EARLIEST for tp in partitions}
        )
        by_topic: dict[str, tuple[dict[int, int], dict[int, int]]] = {}
        for tp in partitions:
            first, last = by_topic.setdefault(tp.topic, ({}, {}))
            first[tp.partition] = starts[tp].offset
            last[tp.partition] = ends[tp].offset
        return {name: TopicState(name, first, last) for name, (first, last) in by_topic.items()}

    def groups(self, topics: Mapping[str, TopicState]) -> list[GroupState]:
        """Consumer groups that read any of `topics`, with members and lag per partition."""
        ids = [g["group_id"] for g in self._call("list_groups")]
        if not ids:
            return []
        descriptions = self._call("describe_groups", ids)
        offsets = self._call("list_group_offsets", {group_id: None for group_id in ids})
        states = []
        for group_id in sorted(ids):
            description = descriptions.get(group_id, {})
            members = tuple(_member(m) for m in description.get("members", []))
            committed = {
                (tp.topic, tp.partition): (meta.offset if meta.offset >= 0 else None)
                for tp, meta in offsets.get(group_id, {}).items()
            }
            lags = partition_lags(committed, topics, members)
            if lags:
                states.append(
                    GroupState(group_id, description.get("group_state", ""), members, lags)
                )
        return states

    def committed(self, group_id: str, topic: str, partition: int) -> int | None:
        """The group's committed offset on one partition, or None."""
        tp = TopicPartition(topic, partition)
        found = self._call("list_group_offsets", {group_id: [tp]}).get(group_id, {}).get(tp)
        return found.offset if found is not None and found.offset >= 0 else None

    def close(self) -> None:
        """Close the admin connection."""
        with self._lock:
            self._reset()


def _member(raw: Mapping[str, Any]) -> Member:
    assignment = raw.get("member_assignment") or {}
    pairs = tuple(
        (entry["topic"], partition)
        for entry in (
            assignment.get("assigned_partitions", []) if isinstance(assignment, dict) else []
        )
        for partition in entry["partitions"]
    )
    return Member(
        member_id=raw.get("member_id", ""),
        client_id=raw.get("client_id", ""),
        host=raw.get("client_host", ""),
        assignment=pairs,
    )


class TopicFollower:
    """Reads whole topics from their beginning, in no group, and keeps following them."""

    def __init__(
        self, bootstrap_servers: str, topics: Iterable[str], from_now: bool = False
    ) -> None:
        self._topics = list(topics)
        # A live tail needs only what comes next; the monitor's projections need everything.
        self._from_now = from_now
        self._since_ms = int(time.time() * 1000)
        self._consumer = KafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            client_id="boucle-monitor-follower",
            isolation_level="read_committed",
        )
        self._assigned: set[TopicPartition] = set()
        self._refreshed = 0.0

    def _refresh(self) -> None:
        # Topics created after start (a first dead letter) are picked up within seconds.
        self._refreshed = time.monotonic()
        self._consumer.topics()  # refreshes the metadata for partitions_for_topic
        wanted = {
            TopicPartition(topic, p)
            for topic in self._topics
            for p in self._consumer.partitions_for_topic(topic) or ()
        }
        if wanted != self._assigned:
            new = wanted - self._assigned
            tail = bool(new) and self._from_now and not self._assigned
            # Read before assigning: if the broker cannot say yet, nothing is assigned and
            # the next poll asks again (an assigned partition without a position would
            # start wherever the consumer's reset found the end, later).
            starts = self._starts_since_made(new) if tail else {}
            self._consumer.assign(sorted(wanted))
            for tp, offset in starts.items():
                self._consumer.seek(tp, offset)
            if new and not tail:
                self._consumer.seek_to_beginning(*new)  # incl. topics created later
            self._assigned = wanted

    def _starts_since_made(self, partitions: set[TopicPartition]) -> dict[TopicPartition, int]:
        """Each partition's first offset written since the follower was made.

        The ends are read first: a message written after that read lies at or past its
        end, one written before it is found by its time; a lazy seek to the end would
        skip a message written before the seek took effect.
        """
        ends = self._consumer.end_offsets(sorted(partitions))
        found = self._consumer.offsets_for_times({tp: self._since_ms for tp in partitions})
        return {tp: found[tp].offset if found.get(tp) else ends[tp] for tp in partitions}

    def poll(self, timeout_ms: int = 500, refresh_s: float = 5.0) -> list[RawRecord]:
        """The next messages of any followed topic (empty after `timeout_ms` if none)."""
        if time.monotonic() - self._refreshed > refresh_s or not self._assigned:
            self._refresh()
        if not self._assigned:
            time.sleep(timeout_ms / 1000)
            return []
        batches = self._consumer.poll(timeout_ms=timeout_ms, max_records=2000)
        return [_record(m) for messages in batches.values() for m in messages]

    def close(self) -> None:
        """Close the consumer."""
        self._consumer.close(autocommit=False)


def _record(message: Any) -> RawRecord:
    return RawRecord(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        headers=tuple(message.headers or ()),
        timestamp_ms=message.timestamp or 0,
    )
