"""Publishing benchmark: the matcher's match events beside kafka-python's raw produce ceiling.

Run: .venv/bin/python -m bench.publish_bench [--active 10000] [--burst 5000] [--scale-out 3]
Starts a local Kafka broker (or uses KAFKA_BOOTSTRAP_SERVERS). Workload: `--active`
listings of bench/workload.py (seed 1) already handled, then a burst of `--burst` new
ones (seed 5) on the listings topic (3 partitions), ~16 matches each.

1. The exact messages the matcher will publish are computed in process first (a replica
   and the handler, no Kafka): that is also the matching and encoding cost alone.
2. Raw ceilings, the same run, the same messages, pre-encoded: kafka-python's producer
   with its defaults (acks=all, idempotent), and with the matcher's own producer settings
   in transactions of the matcher's batch size (100 listings).
3. The matcher itself, in process (services.matcher.build): rebuild, then every batch
   of the burst polled, matched, published and committed; p50/p99 are per batch (one
   transaction: what a listing waits for in a busy matcher).
4. With --scale-out N: the same burst through 1 and then N real matcher processes in one
   group (topics of N partitions), throughput from the record timestamps of the matches.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from bench.e2e_bench import broker, free_port
from bench.matching_bench import percentile
from bench.startup_bench import commit_at_end, wait_healthy
from bench.workload import event_data, generate
from matching.handler import MatchingHandler
from matching.index import ListingIndex
from matching.replica import Replica
from services.matcher import MATCHES_TUNING, build
from shared import metrics
from shared.events import Event, decode_event, encode_event, typed_data
from shared.kafka import ProducerTuning, ensure_topics, standard_topics
from shared.settings import Settings, Topics, TopicSettings
from shared.taxonomy import Taxonomy

BATCH = 100  # listings per poll and per transaction, as the matcher runs
Message = tuple[bytes, bytes]


@dataclass
class Run:
    """One way of publishing the burst's match events."""

    name: str
    seconds: float
    events: int
    listings: int
    batches: list[float]

    def line(self, ceiling: float | None) -> str:
        rate = self.events / self.seconds
        share = f"{rate / ceiling:.0%}" if ceiling else ""
        p50 = f"{percentile(self.batches, 0.5) * 1e3:.0f} ms" if self.batches else ""
        p99 = f"{percentile(self.batches, 0.99) * 1e3:.0f} ms" if self.batches else ""
        return (
            f"| {self.name} | {rate:,.0f} | {self.listings / self.seconds:,.0f} | {p50} | {p99}"
            f" | {share} |"
        )


def listing_messages(count: int, seed: int, now: float, prefix: str = "") -> list[Message]:
    out = []
    for listing in generate(count, seed=seed, now=now):
        data = {**event_data(listing), "id": prefix + listing.id}
        event_type = "boucle.listing.published"
        event = Event(event_type, "/bench", str(data["id"]), typed_data(event_type, data))
        out.append((str(data["id"]).encode(), encode_event(event)))
    return out


def produce(bootstrap: str, topic: str, messages: Sequence[Message]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    for key, value in messages:
        producer.send(topic, key=key, value=value)
    producer.flush()
    producer.close()


def expected(
    listings: Sequence[Message], burst: Sequence[Message]
) -> tuple[Run, list[list[Message]]]:
    """What the matcher will publish for each burst listing, computed without Kafka."""
    replica = Replica(ListingIndex(Taxonomy.load_default()))
    for _, value in [*listings, *burst]:
        replica.apply(decode_event(value))
    per_listing: list[list[Message]] = []
    out: list[Message] = []

    def capture(event: Event, key: str) -> None:
        out.append((key.encode(), encode_event(event)))

    handler = MatchingHandler(replica, capture)
    events = [decode_event(value) for _, value in burst]
    started = time.perf_counter()
    for event in events:
        handler(event)
        per_listing.append(out[:])
        out.clear()
    seconds = time.perf_counter() - started
    total = sum(len(m) for m in per_listing)
    return Run("match + encode in process, no Kafka", seconds, total, len(burst), []), per_listing


def raw_default(bootstrap: str, topic: str, per_listing: list[list[Message]]) -> Run:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    messages = [m for ms in per_listing for m in ms]
    started = time.perf_counter()
    for key, value in messages:
        producer.send(topic, key=key, value=value)
    producer.flush()
    seconds = time.perf_counter() - started
    producer.close()
    return Run("raw kafka-python, its defaults", seconds, len(messages), len(per_listing), [])


def raw_transactional(
    bootstrap: str, topic: str, per_listing: list[list[Message]], tuning: ProducerTuning
) -> Run:
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        transactional_id=f"bench-{uuid.uuid4().hex[:8]}",
        linger_ms=tuning.linger_ms,
        batch_size=tuning.batch_bytes,
        compression_type=tuning.compression,
    )
    producer.init_transactions()
    batches: list[float] = []
    started = time.perf_counter()
    for first in range(0, len(per_listing), BATCH):
        begun = time.perf_counter()
        producer.begin_transaction()
        for messages in per_listing[first : first + BATCH]:
            for key, value in messages:
                producer.send(topic, key=key, value=value)
        producer.commit_transaction()
        batches.append(time.perf_counter() - begun)
    seconds = time.perf_counter() - started
    producer.close()
    events = sum(len(m) for m in per_listing)
    name = f"raw kafka-python, matcher's settings ({_describe(tuning)}), transactions"
    return Run(name, seconds, events, len(per_listing), batches)


def raw_batched(
    bootstrap: str, topic: str, per_listing: list[list[Message]], tuning: ProducerTuning
) -> Run:
    """What one record per listing would allow: its events as one CloudEvents batch (a
    JSON array, `application/cloudevents-batch+json`). Not what readers accept today."""
    records = [
        (messages[0][0], b"[" + b",".join(value for _, value in messages) + b"]")
        for messages in per_listing
    ]
    run = raw_transactional(bootstrap, topic, [[record] for record in records], tuning)
    events = sum(len(m) for m in per_listing)
    name = "raw kafka-python, one record per listing (its events batched), same settings"
    return Run(name, run.seconds, events, len(per_listing), run.batches)


def _describe(tuning: ProducerTuning) -> str:
    return f"{tuning.batch_bytes // 1024} KB batches, {tuning.compression or 'uncompressed'}"


def in_process_matcher(
    bootstrap: str, prefix: str, burst: Sequence[Message], tuning: ProducerTuning
) -> Run:
    env = {"MATCHER_GROUP_ID": f"{prefix}group", "MATCHER_INSTANCE_ID": "bench"}
    settings = Settings.from_env(
        {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "KAFKA_TOPIC_PREFIX": prefix}
    )
    matcher = build(settings, env, tuning)
    matcher.table.catch_up()
    produced = metrics.EVENTS_PRODUCED.labels(settings.topics.matches)
    before = produced._value.get()
    produce(bootstrap, settings.topics.listings, burst)
    matcher.consumer.wait_for_topics()
    handled, batches, started = 0, [], 0.0
    cpu = time.process_time()
    while handled < len(burst):
        begun = time.perf_counter()
        count = matcher.consumer.poll_once(timeout_ms=200)
        if count:  # polls before the group assigned the partitions are not counted
            started = started or begun
            batches.append(time.perf_counter() - begun)
            handled += count
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    events = int(produced._value.get() - before)
    matcher.close()
    name = f"matcher, in process ({_describe(tuning)}; {events / cpu:,.0f} events per CPU-second)"
    return Run(name, seconds, events, handled, batches)


def group_done(bootstrap: str, group: str, ends: dict[TopicPartition, int]) -> bool:
    """Has the group committed every partition up to `ends`?"""
    probe = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        return all((probe.committed(tp) or 0) >= end for tp, end in ends.items())
    finally:
        probe.close()


def matcher_processes(
    bootstrap: str,
    count: int,
    partitions: int,
    listings: Sequence[Message],
    burst: Sequence[Message],
) -> Run:
    """The burst through `count` real matcher processes; rate from record timestamps."""
    prefix = f"pub-{uuid.uuid4().hex[:6]}."
    topic_settings = TopicSettings.from_env({"KAFKA_TOPIC_PARTITIONS": str(partitions)})
    topics = Settings.from_env({"KAFKA_TOPIC_PREFIX": prefix}).topics
    ensure_topics(bootstrap, standard_topics(topics, topic_settings), topic_settings)
    produce(bootstrap, topics.listings, listings)
    group = f"{prefix}group"
    commit_at_end(bootstrap, group, topics.listings)
    with (
        tempfile.TemporaryDirectory() as tmp,
        _processes(bootstrap, prefix, group, count, partitions, tmp) as processes,
    ):
        cpu_before = sum(_cpu_seconds(p.pid) for p in processes)
        produce(bootstrap, topics.listings, burst)
        probe = KafkaConsumer(bootstrap_servers=bootstrap)
        parts = [TopicPartition(topics.listings, p) for p in range(partitions)]
        ends = probe.end_offsets(parts)
        probe.close()
        deadline = time.monotonic() + 600
        while not group_done(bootstrap, group, ends):
            if time.monotonic() > deadline:
                raise TimeoutError("the matchers did not get through the burst in 10 minutes")
            time.sleep(0.5)
        cpu = sum(_cpu_seconds(p.pid) for p in processes) - cpu_before
    first, last, events = _timestamps(bootstrap, topics)
    name = (
        f"{count} matcher process{'es' if count > 1 else ''}, {partitions} partitions "
        f"({events / cpu:,.0f} events per CPU-second)"
    )
    return Run(name, (last - first) / 1000, events, len(burst), [])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def _processes(
    bootstrap: str, prefix: str, group: str, count: int, partitions: int, tmp: str
) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    try:
        ports = []
        for n in range(count):
            port = free_port()
            env = dict(
                os.environ,
                KAFKA_BOOTSTRAP_SERVERS=bootstrap,
                KAFKA_TOPIC_PREFIX=prefix,
                # Topics of the run's partition count: the matcher refuses a mismatch.
                KAFKA_TOPIC_PARTITIONS=str(partitions),
                MATCHER_GROUP_ID=group,
                MATCHER_INSTANCE_ID=f"bench-{n}",
                HEALTH_PORT=str(port),
                BOUCLE_ENV="test",
            )
            log = (Path(tmp) / f"matcher-{n}.log").open("wb")
            command = [sys.executable, "-m", "services.matcher"]
            started.append(subprocess.Popen(command, env=env, stderr=log))
            ports.append(port)
        for port, process in zip(ports, started, strict=True):
            wait_healthy(port, process)
        time.sleep(8)  # let the group settle: every member holds its partitions
        yield started
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(timeout=30)


def _timestamps(bootstrap: str, topics: Topics) -> tuple[int, int, int]:
    consumer = KafkaConsumer(
        topics.matches,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        enable_auto_commit=False,
    )
    stamps: list[int] = []
    quiet = 0
    while quiet < 5:
        batches = consumer.poll(timeout_ms=500, max_records=5000)
        quiet = 0 if batches else quiet + 1
        stamps += [m.timestamp for batch in batches.values() for m in batch]
    consumer.close()
    return min(stamps), max(stamps), len(stamps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--active", type=int, default=10_000)
    parser.add_argument("--burst", type=int, default=5_000)
    parser.add_argument("--scale-out", type=int, default=0, help="matcher processes to compare")
    parser.add_argument("--compression", default=MATCHES_TUNING.compression)
    parser.add_argument("--batch-bytes", type=int, default=MATCHES_TUNING.batch_bytes)
    args = parser.parse_args()
    now = time.time()
    tuning = ProducerTuning(MATCHES_TUNING.linger_ms, args.batch_bytes, args.compression or None)
    listings = listing_messages(args.active, 1, now)
    burst = listing_messages(args.burst, 5, now, prefix="new-")
    with broker() as bootstrap:
        prefix = f"pub-{uuid.uuid4().hex[:6]}."
        topics = Settings.from_env({"KAFKA_TOPIC_PREFIX": prefix}).topics
        ensure_topics(bootstrap, standard_topics(topics))
        produce(bootstrap, topics.listings, listings)
        commit_at_end(bootstrap, f"{prefix}group", topics.listings)
        alone, per_listing = expected(listings, burst)
        target = f"{prefix}raw"
        ensure_topics(bootstrap, {target: {}})
        runs = [
            alone,
            raw_default(bootstrap, target, per_listing),
            raw_transactional(bootstrap, target, per_listing, tuning),
            in_process_matcher(bootstrap, prefix, burst, tuning),
            raw_batched(bootstrap, target, per_listing, tuning),
        ]
        ceiling = runs[2].events / runs[2].seconds
        print(
            f"\n{args.active:,} active listings, a burst of {args.burst:,} new ones, "
            f"{alone.events / alone.listings:.1f} match events each (settlement included)\n"
        )
        print("| publishing | events/s | listings/s | batch p50 | batch p99 | of the ceiling |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for run in runs:
            print(run.line(ceiling if run is not runs[2] else None), flush=True)
        if args.scale_out > 1:
            one = matcher_processes(bootstrap, 1, args.scale_out, listings, burst)
            print(one.line(None), flush=True)
            many = matcher_processes(bootstrap, args.scale_out, args.scale_out, listings, burst)
            gain = (many.events / many.seconds) / (one.events / one.seconds)
            print(many.line(None) + f" {gain:.2f}x one process", flush=True)


if __name__ == "__main__":
    main()
