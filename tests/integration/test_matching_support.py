"""Helpers (no tests) for the matcher's integration tests: processes, events, matches."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer

from monitor.domain.activity import ActivityProjection
from shared.contracts import MatchesSettled, MatchFound
from shared.events import Event, decode_event, typed_data
from shared.kafka import KafkaPublisher, ensure_topics, standard_topics
from shared.settings import Settings, Topics
from tests.conftest import random_id
from tests.integration.kafka_helpers import read_all

NOW = datetime.now(UTC)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listing_data(
    listing_id: str, kind: str, where: tuple[float, float], version: int = 1, **extra: Any
) -> dict[str, Any]:
    """A listing's full state as the listings service publishes it."""
    return {
        "id": listing_id,
        "organisation_id": extra.pop("organisation_id", f"org-{listing_id}"),
        "kind": kind,
        "status": extra.pop("status", "published"),
        "title": f"{kind} {listing_id}",
        "category": extra.pop("category", "ewc-150103"),
        "quantity": extra.pop("quantity", 10.0),
        "unit": extra.pop("unit", "pallets"),
        "location": {"lat": where[0], "lon": where[1]},
        "radius_km": 80.0 if kind == "need" else 0.0,
        "version": version,
        "updated_at": NOW,
        **extra,
    }


@dataclass
class Exchange:
    """The topics of one test (own prefix) and a publisher of listing events."""

    bootstrap: str
    prefix: str
    group: str
    publisher: KafkaPublisher = field(init=False)

    def __post_init__(self) -> None:
        self.topics = Settings.from_env({"KAFKA_TOPIC_PREFIX": self.prefix}).topics
        ensure_topics(self.bootstrap, standard_topics(self.topics))
        self.publisher = KafkaPublisher(self.bootstrap, "matching-test")

    def publish(self, data: dict[str, Any]) -> None:
        status, version = data["status"], data["version"]
        change = "published" if version == 1 else ("updated" if status == "published" else status)
        event_type = f"boucle.listing.{change}"
        event = Event(event_type, "/test", data["id"], typed_data(event_type, data))
        self.publisher.publish(self.topics.listings, event)

    def flush(self) -> None:
        self.publisher.flush(timeout_s=30)

    def start_matcher(
        self, log_path: Path, instance: str = "", **extra_env: str
    ) -> subprocess.Popen[bytes]:
        env = dict(
            os.environ,
            KAFKA_BOOTSTRAP_SERVERS=self.bootstrap,
            KAFKA_TOPIC_PREFIX=self.prefix,
            MATCHER_GROUP_ID=self.group,
            HEALTH_PORT=str(free_port()),
            BOUCLE_ENV="test",
            LOG_LEVEL="INFO",
            # The same instance id after a crash fences the dead one's open transaction.
            MATCHER_INSTANCE_ID=instance or random_id("instance"),
            **extra_env,
        )
        with log_path.open("wb") as log:
            return subprocess.Popen([sys.executable, "-m", "services.matcher"], env=env, stderr=log)


class MatchReader:
    """Reads the matches topic from the beginning, keeping every event seen."""

    def __init__(self, bootstrap: str, topics: Topics) -> None:
        self.events: list[Event] = []
        self.keys: list[str] = []
        self._consumer = KafkaConsumer(
            topics.matches,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
            isolation_level="read_committed",
        )

    def poll(self) -> list[Event]:
        """Everything seen so far, after reading what has arrived."""
        for batch in self._consumer.poll(timeout_ms=200).values():
            self.events.extend(decode_event(m.value) for m in batch)
            self.keys.extend(m.key.decode() for m in batch)
        return self.events

    def keyed(self) -> list[tuple[str, Event]]:
        """(key, event) of everything seen so far."""
        self.poll()
        return list(zip(self.keys, self.events, strict=True))

    @staticmethod
    def raw(bootstrap: str, topic: str, timeout: float = 5.0) -> list[Any]:
        """Every committed message of `topic` as it is (e.g. a dead-letter topic)."""
        return read_all(bootstrap, topic, timeout)

    def found_ids(self) -> set[str]:
        return {e.data.match_id for e in self.poll() if isinstance(e.data, MatchFound)}

    def standing(self) -> dict[str, MatchFound]:
        """The matches a reader shows after everything read so far (the monitor's rules)."""
        projection = ActivityProjection()
        for event in self.poll():
            projection.apply(event.type, event.time, event.data)
        found = {e.data.match_id: e.data for e in self.events if isinstance(e.data, MatchFound)}
        return {match_id: found[match_id] for match_id in projection.matches}

    def settled(self, listing_id: str, version: int) -> bool:
        """True once the matcher has settled the listing's matches at `version`."""
        return any(
            isinstance(e.data, MatchesSettled)
            and e.data.listing_id == listing_id
            and e.data.version >= version
            for e in self.poll()
        )

    def close(self) -> None:
        self._consumer.close()


def stop(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM, then SIGKILL if it does not stop in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
