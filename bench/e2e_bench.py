"""End-to-end benchmark through the real broker: a listing event in, its match out.

Run: .venv/bin/python -m bench.e2e_bench [--active 10000] [--probes 300]
Starts a local Kafka broker (or uses KAFKA_BOOTSTRAP_SERVERS) and one real matcher
process; loads `--active` workload listings; then, one at a time, publishes a need beside
a known offer and times until its match is on the matches topic. Also: the same round
trip for a raw message with no matching (the broker's floor), and the rate at which the
matcher works through a burst of listings.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from bench.matching_bench import percentile
from bench.workload import event_data, generate
from shared.contracts import MatchFound
from shared.events import Event, decode_event, typed_data
from shared.kafka import KafkaPublisher, ensure_topics, standard_topics
from shared.settings import Settings

log = logging.getLogger("bench")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def broker() -> Iterator[str]:
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield given
        return
    from services.devtools.kafka import LocalKafka

    kafka = LocalKafka()
    kafka.start()
    try:
        yield kafka.bootstrap_servers
    finally:
        kafka.stop()


def publish_listing(publisher: KafkaPublisher, topic: str, data: dict) -> None:
    event_type = "boucle.listing.published"
    publisher.publish(topic, Event(event_type, "/bench", data["id"], typed_data(event_type, data)))


def consumer_at_end(bootstrap: str, topic: str) -> KafkaConsumer:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="latest",
        isolation_level="read_committed",
    )
    while not consumer.assignment():
        consumer.poll(timeout_ms=100)
    consumer.seek_to_end()
    for partition in consumer.assignment():
        consumer.position(partition)
    return consumer


def wait_for_need(consumer: KafkaConsumer, need_id: str, timeout: float = 30) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=50).values():
            for message in batch:
                found = decode_event(message.value).data
                if isinstance(found, MatchFound) and found.need.listing_id == need_id:
                    return time.perf_counter()
    raise TimeoutError(f"no match for {need_id}")


def wait_until_caught_up(
    bootstrap: str,
    group: str,
    topic: str,
    timeout: float = 900,
    transactional: bool = False,
    interval: float = 0.5,
) -> float:
    """Wait until the group has committed every event of `topic`; returns the seconds waited.

    `transactional`: the topic's writer commits transactions, so each partition ends with a
    commit marker, which consumers skip and never commit past: caught up is one short of
    the end offset.
    """
    probe = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    partitions = [TopicPartition(topic, p) for p in sorted(probe.partitions_for_topic(topic))]
    marker = 1 if transactional else 0
    start = time.monotonic()
    try:
        while time.monotonic() - start < timeout:
            ends = probe.end_offsets(partitions)
            if all((probe.committed(tp) or 0) >= ends[tp] - marker for tp in partitions):
                return time.monotonic() - start
            time.sleep(interval)
    finally:
        probe.close()
    raise TimeoutError(f"{group} did not catch up with {topic} in {timeout} s")


def raw_round_trips(bootstrap: str, count: int) -> list[float]:
    """Produce one ~1 KB message and consume it, `count` times: the floor of a round trip."""
    topic = f"bench-raw-{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap, {topic: {}})
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    consumer = consumer_at_end(bootstrap, topic)
    times = []
    for i in range(count):
        start = time.perf_counter()
        producer.send(topic, key=str(i).encode(), value=b"x" * 1000)
        producer.flush()
        got = False
        while not got:
            got = bool(consumer.poll(timeout_ms=50))
        times.append(time.perf_counter() - start)
    producer.close()
    consumer.close()
    return times


def run(bootstrap: str, active: int, probes: int, burst: int) -> None:
    prefix = f"bench-{uuid.uuid4().hex[:8]}."
    topics = Settings.from_env({"KAFKA_TOPIC_PREFIX": prefix}).topics
    ensure_topics(bootstrap, standard_topics(topics))
    publisher = KafkaPublisher(bootstrap, "bench")
    now = time.time()
    listings = generate(active, seed=1, now=now)
    for listing in listings:
        publish_listing(publisher, topics.listings, event_data(listing))
    publisher.flush(timeout_s=120)
    group = f"bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "matcher.log"
        env = dict(
            os.environ,
            KAFKA_BOOTSTRAP_SERVERS=bootstrap,
            KAFKA_TOPIC_PREFIX=prefix,
            MATCHER_GROUP_ID=group,
            HEALTH_PORT=str(free_port()),
            LOG_LEVEL="WARNING",
        )
        with log_path.open("wb") as out:
            matcher = subprocess.Popen(
                [sys.executable, "-m", "services.matcher"], env=env, stderr=out
            )
        try:
            waited = wait_until_caught_up(bootstrap, group, topics.listings)
            log.info("start-up: replica + %d listings handled in %.1fs", active, waited)
            matches = consumer_at_end(bootstrap, topics.matches)
            offers = [
                x for x in listings if x.kind == "offer" and (x.ends_at or now + 1) > now + 86_400
            ]
            latencies = []
            started = time.monotonic()
            for i in range(probes):
                offer = offers[i % len(offers)]
                need = replace(
                    offer,
                    id=f"probe-{i}",
                    kind="need",
                    organisation_id=f"probe-org-{i}",
                    radius_km=10.0,
                    delivery_radius_km=None,
                    min_quantity=None,
                )
                start = time.perf_counter()
                publish_listing(publisher, topics.listings, event_data(need))
                publisher.flush()
                latencies.append(wait_for_need(matches, need.id) - start)
            log.info("probes done in %.1fs", time.monotonic() - started)
            report("listing event -> match event", latencies)
            report("raw Kafka round trip", raw_round_trips(bootstrap, probes))
            burst_rate(publisher, topics, bootstrap, matches, burst, now)
        finally:
            matcher.send_signal(signal.SIGTERM)
            matcher.wait(timeout=30)
            publisher.close()


def burst_rate(publisher, topics, bootstrap, matches, count, now) -> None:
    """Publish `count` listings at once; time until the matcher published the last one's match."""
    burst = generate(count, seed=9, now=now)
    start = time.perf_counter()
    for listing in burst:
        publish_listing(
            publisher, topics.listings, event_data(replace(listing, id=f"burst-{listing.id}"))
        )
    marker = replace(
        burst[0],
        id="burst-marker",
        kind="need",
        organisation_id="m",
        radius_km=10.0,
        delivery_radius_km=None,
        min_quantity=None,
    )
    offer = next(x for x in burst if x.kind == "offer")
    marker = replace(
        marker,
        lat=offer.lat,
        lon=offer.lon,
        category=offer.category,
        unit=offer.unit,
        quantity=offer.quantity,
        starts_at=offer.starts_at,
        ends_at=offer.ends_at,
    )
    publish_listing(publisher, topics.listings, event_data(marker))
    publisher.flush()
    wait_for_need(matches, "burst-marker", timeout=600)
    seconds = time.perf_counter() - start
    log.info(
        "burst of %d listings handled in %.1fs: %.0f listings/s (matches published included)",
        count + 1,
        seconds,
        (count + 1) / seconds,
    )


def report(what: str, seconds: list[float]) -> None:
    log.info(
        "%s: n=%d p50=%.1fms p99=%.1fms",
        what,
        len(seconds),
        percentile(seconds, 0.5) * 1e3,
        percentile(seconds, 0.99) * 1e3,
    )


def main() -> None:
    """Run the end-to-end measures and log them."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--active", type=int, default=10_000)
    parser.add_argument("--probes", type=int, default=300)
    parser.add_argument("--burst", type=int, default=5000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with broker() as bootstrap:
        run(bootstrap, args.active, args.probes, args.burst)


if __name__ == "__main__":
    main()
