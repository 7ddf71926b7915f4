"""Composition root of a matcher process: a replica of active listings + a work consumer.

Several matchers may run in one consumer group: they share the partitions of the listings
topic for the work, while each reads the whole topic into its own index for the lookup.
A batch's matches and its consumed offsets are committed in one Kafka transaction.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kafka import TopicPartition

from matching import snapshot
from matching.handler import MatchingHandler
from matching.index import ListingIndex
from matching.replica import Replica
from matching.table import TableState
from services.process import run_until_signalled
from shared import work_marks
from shared.contracts import MatchesSettled
from shared.events import Event
from shared.geo.distance import country_of
from shared.health import serve_health_from_env
from shared.kafka import (
    ConsumerOptions,
    EventConsumer,
    KafkaPublisher,
    ProducerTuning,
    TableReader,
    TransactionalPublisher,
    dead_letters_to,
    ensure_topics,
    standard_topics,
)
from shared.logs import configure_logging
from shared.settings import Settings
from shared.taxonomy import Taxonomy
from shared.topics import topic_id

GROUP_ID = "matching"
log = logging.getLogger(__name__)

#: ~17 events a listing on the benchmark workload: big batches, compressed, so the
#: producer sends a few large requests instead of many small ones (bench/publish_bench.py).
MATCHES_TUNING = ProducerTuning(linger_ms=5, batch_bytes=1_048_576, compression="lz4")


def transactional_id(group_id: str, env: Mapping[str, str] = os.environ) -> str:
    """This instance's transactional id: MATCHER_INSTANCE_ID names a stable instance slot
    (a restart then fences its predecessor at once); by default host and process."""
    instance = env.get("MATCHER_INSTANCE_ID") or f"{socket.gethostname()}-{os.getpid()}"
    return f"{group_id}-{instance}"


class Snapshots:
    """The replica's snapshot (matching/snapshot.py): restored at start, written now and then.

    A copy of the table and the reader's positions is taken in the main thread between
    two catch-ups (so they agree), then written on a thread of its own: the matcher goes
    on working meanwhile. At most one write at a time; a failed write is logged and the
    previous snapshot stays.
    """

    def __init__(
        self,
        directory: Path,
        replica: Replica,
        table: TableReader,
        topic: str,
        topic_id: str | None,
        interval_s: float,
    ) -> None:
        self.directory = directory
        self._replica = replica
        self._table = table
        self._topic = topic
        self._topic_id = topic_id
        self._interval_s = interval_s
        self._last = time.monotonic()
        self._writer: threading.Thread | None = None

    def restore(self) -> bool:
        """Replace the replica's index with the snapshot's and read only the tail after it."""
        taxonomy = self._replica.index.taxonomy
        loaded = snapshot.load(self.directory, self._topic, taxonomy, country_of)
        if loaded is None:
            return False
        index, positions = loaded
        why = None
        if positions.topic_id != self._topic_id:
            why = f"topic id {positions.topic_id}, the topic now has {self._topic_id}"
        why = why or self._table.unusable_start(positions.offsets)
        if why:
            log.warning("replica snapshot ignored (%s): full rebuild", why)
            return False
        self._replica.index = index
        self._table.start_at(positions.offsets)
        log.info("replica restored from its snapshot: %d active listings", len(index))
        return True

    def maybe_save(self) -> None:
        """Write a snapshot if the last is older than the interval (between catch-ups)."""
        if time.monotonic() - self._last >= self._interval_s:
            self.save(wait=False)

    def save(self, wait: bool = True) -> None:
        """Copy the replica and its positions now; write them (in the background unless
        `wait`). Must be called between catch-ups, from the thread that runs them."""
        if self._writer is not None and self._writer.is_alive():
            if not wait:
                return
            self._writer.join()
        self._last = time.monotonic()
        state = self._replica.index.table.export()
        positions = snapshot.Positions(self._topic, self._topic_id, self._table.positions())
        taxonomy = self._replica.index.taxonomy
        self._writer = threading.Thread(
            target=self._write, args=(state, positions, taxonomy), name="replica-snapshot"
        )
        self._writer.start()
        if wait:
            self._writer.join()

    def _write(self, state: TableState, positions: snapshot.Positions, taxonomy: Taxonomy) -> None:
        started = time.perf_counter()
        try:
            path = snapshot.save(self.directory, state, positions, taxonomy)
        except Exception:
            log.exception("could not write the replica snapshot: the previous one stays")
            return
        log.info(
            "replica snapshot written: %d listings in %.1f s to %s",
            len(state.ids),
            time.perf_counter() - started,
            path,
        )


@dataclass
class Matcher:
    """The parts of one matcher, wired; `main` runs them, benchmarks drive them directly."""

    replica: Replica
    table: TableReader
    transactions: TransactionalPublisher
    consumer: EventConsumer
    dead_letters: KafkaPublisher
    snapshots: Snapshots | None = None

    def start(self) -> int:
        """Restore the snapshot if there is a usable one, then read the rest of the topic;
        returns how many listing events were read."""
        if self.snapshots is not None:
            self.snapshots.restore()
        loaded = self.table.catch_up()
        if self.snapshots is not None:
            self.snapshots.save(wait=False)  # a restart soon after reads little
        return loaded

    def catch_up(self) -> None:
        """Before each batch: the replica holds everything written before it."""
        self.table.catch_up()
        if self.snapshots is not None:
            self.snapshots.maybe_save()

    def close(self) -> None:
        """Close every client (the consumer leaves its group); the last snapshot waits."""
        if self.snapshots is not None:
            self.snapshots.save(wait=True)
        self.consumer.close()
        self.table.close()
        self.transactions.close()
        self.dead_letters.close()


def build(
    settings: Settings,
    env: Mapping[str, str] = os.environ,
    tuning: ProducerTuning = MATCHES_TUNING,
) -> Matcher:
    """A matcher, wired; `start()` restores its snapshot (if any) and catches up."""
    bootstrap = settings.kafka_bootstrap_servers
    group_id = env.get("MATCHER_GROUP_ID", GROUP_ID)
    timeout_ms = settings.kafka_request_timeout_ms
    dead_letters = KafkaPublisher(bootstrap, "matcher-replica", timeout_ms)
    replica = Replica(ListingIndex(Taxonomy.load_default(), country_of))
    table = TableReader(
        bootstrap,
        settings.topics.listings,
        replica.apply,
        dead_letter=dead_letters_to(dead_letters),
        name=f"{group_id}-replica",
    )
    # A crashed instance's open transaction holds back read_committed readers until this
    # passes (unless a restart with the same MATCHER_INSTANCE_ID fences it first); a batch
    # must commit within it too.
    transaction_timeout_ms = int(env.get("MATCHER_TRANSACTION_TIMEOUT_MS", "60000"))
    transactions = TransactionalPublisher(
        bootstrap,
        transactional_id(group_id, env),
        timeout_ms,
        transaction_timeout_ms,
        tuning,
    )

    listings_id = topic_id(bootstrap, settings.topics.listings, timeout_ms)

    def publish(event: Event, key: str) -> None:
        # A settlement is the last event for its listing: it marks the listing event
        # handled, so a group that lost its offsets resumes after it (shared/work_marks.py).
        headers = None
        if isinstance(event.data, MatchesSettled) and consumer.current is not None:
            headers = [work_marks.mark(listings_id, consumer.current)]
        transactions.publish(settings.topics.matches, event, key, headers)

    def resume(fresh: list[TopicPartition]) -> dict[TopicPartition, int]:
        marked = work_marks.resume_points(bootstrap, settings.topics.matches, listings_id)
        return {tp: marked[tp.partition] for tp in fresh if tp.partition in marked}

    def before_batch() -> None:
        matcher.catch_up()

    consumer = EventConsumer(
        bootstrap,
        group_id,
        [settings.topics.listings],
        MatchingHandler(replica, publish),
        transactions,
        # A busy listing publishes hundreds of matches: smaller batches stay well inside
        # the poll interval at a million listings.
        ConsumerOptions(max_poll_records=100),
        # The replica must hold everything written before this batch, so a pair whose two
        # sides sit in different partitions is seen by whichever side comes second.
        before_batch=before_batch,
        transactions=transactions,
        start_positions=resume,
    )
    matcher = Matcher(replica, table, transactions, consumer, dead_letters)
    directory = env.get("MATCHER_SNAPSHOT_DIR")
    if directory:
        matcher.snapshots = Snapshots(
            Path(directory),
            replica,
            table,
            settings.topics.listings,
            listings_id,
            float(env.get("MATCHER_SNAPSHOT_INTERVAL_S", "300")),
        )
    return matcher


def main() -> None:
    """Match listings until SIGTERM or Ctrl-C."""
    configure_logging("matcher")
    settings = Settings.from_env()
    ensure_topics(settings.kafka_bootstrap_servers, standard_topics(settings.topics))
    matcher = build(settings)
    replica = matcher.replica
    loaded = matcher.start()
    log.info("replica caught up from %d listing events: %d active", loaded, len(replica))
    server = serve_health_from_env(
        "matcher",
        8003,
        {
            "index": lambda: len(replica),
            "consumer": matcher.consumer.health_check,
            "replica": matcher.table.health_check,
        },
    )
    try:
        run_until_signalled(matcher.consumer.run)
    finally:
        server.shutdown()
        matcher.close()


if __name__ == "__main__":
    main()
