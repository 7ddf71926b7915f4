"""The monitor's background threads: follow the topics, sample lag, poll /health."""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable

from monitor.domain.records import RawRecord
from monitor.domain.streams import DEAD_LETTER_SUFFIX
from monitor.kafka_gateway import TopicFollower
from monitor.service import MonitorService
from shared import metrics
from shared.events import EventValidationError, NewerSchemaVersion, decode_event

log = logging.getLogger(__name__)


def dispatch(service: MonitorService, record: RawRecord) -> None:
    """Route one message: to the tail, and to the dead letters or the activity projection."""
    service.tail.publish(record)
    if record.topic.endswith(DEAD_LETTER_SUFFIX):
        service.dead_letters.apply(record)
        return
    try:
        event = decode_event(record.value)
    except (EventValidationError, NewerSchemaVersion) as exc:
        # The service's own consumer dead-letters it; the projection leaves it out.
        log.debug("projection skips %s:%s: %s", record.topic, record.offset, exc)
        return
    service.activity.apply(event.type, event.time, event.data)


def check_health(url: str, timeout_s: float) -> tuple[bool, str]:
    """GET `<url>/health`: (True, status) when it answers 200."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout_s) as response:
            body = json.load(response)
            return True, str(body.get("status", "ok"))
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return False, str(exc)


class Workers:
    """Starts and stops the three loops; each survives its own errors and retries."""

    def __init__(
        self,
        service: MonitorService,
        follower_factory: Callable[[], TopicFollower],
        health_interval_s: float,
        sample_interval_s: float,
        health_timeout_s: float = 3.0,
    ) -> None:
        self.service = service
        self._follower_factory = follower_factory
        self._health_interval_s = health_interval_s
        self._sample_interval_s = sample_interval_s
        self._health_timeout_s = health_timeout_s
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the loops as daemon threads."""
        for name, loop in (
            ("follow", self._follow),
            ("sample", self._sample),
            ("health", self._poll_health),
        ):
            thread = threading.Thread(
                target=self._guarded(loop), name=f"monitor-{name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Ask the loops to finish and wait for them."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout_s)

    def _guarded(self, loop: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            while not self._stop.is_set():
                try:
                    loop()
                except Exception:
                    log.exception("monitor loop %s failed; retrying", loop.__name__)
                    self._stop.wait(2.0)

        return run

    def _follow(self) -> None:
        follower = self._follower_factory()
        try:
            while not self._stop.is_set():
                for record in follower.poll(timeout_ms=300):
                    dispatch(self.service, record)
        finally:
            follower.close()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.service.sample()
            self._export()
            self._stop.wait(self._sample_interval_s)

    def _export(self) -> None:
        topics = self.service.topics()
        for group in self.service.groups(topics):
            for row in group.partitions:
                metrics.GROUP_LAG.labels(group.group_id, row.topic, str(row.partition)).set(row.lag)
        counts = self.service.dead_letters.counts()
        for topic in (t.name for t in topics if t.is_dead_letter):
            metrics.OPEN_DEAD_LETTERS.labels(topic).set(counts.get(topic, 0))

    def _poll_health(self) -> None:
        while not self._stop.is_set():
            for health in self.service.health.values():
                ok, detail = check_health(health.url, self._health_timeout_s)
                health.record(ok, detail, self.service.clock())
                metrics.SERVICE_UP.labels(health.name).set(1 if ok else 0)
            self._stop.wait(self._health_interval_s)
