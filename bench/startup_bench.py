"""Start-up at scale: a matcher restarting beside N active listings, a notifier beside M
organisations, each next to its floor measured in the same run.

Run: .venv/bin/python -m bench.startup_bench [--listings 100000] [--organisations 10000]
Starts a local Kafka broker (or uses KAFKA_BOOTSTRAP_SERVERS) and, for the notifier part,
a local PostgreSQL (or DATABASE_URL).

- Matcher: the listings topic holds N workload listings, all already handled by the group
  (its offsets committed at the end, as after a previous run). A real matcher process is
  started four times: cold (no snapshot yet: the whole topic), again from the snapshot it
  wrote after `--tail` listings were written meanwhile (only they are read), under a
  renamed group (no committed offsets: it must resume after the last handled listing),
  and without MATCHER_SNAPSHOT_DIR. "Ready" is its /health answering 200 (the replica
  caught up), "first match" the settlement of one new need published then. Listings
  handled again must be 0 in every run. Floor: reading the same topic raw.
- Notifier: the organisations topic holds M organisations; the projection is rebuilt into
  PostgreSQL in batches (one transaction per poll) and, as the baseline, one transaction
  per event (how it worked before).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from bench.e2e_bench import broker, free_port
from bench.workload import event_data, generate, stream
from notifications.organisations import OrganisationStore
from notifications.tables import OrganisationRow, OrganisationTokenRow
from shared import work_marks
from shared.contracts import ListingChanged, Location, MatchesSettled
from shared.db import service_database
from shared.events import (
    Event,
    _decode,  # the marshmallow path, as the baseline
    decode_event,
    encode_event,
    typed_data,
)
from shared.kafka import TableReader, ensure_topics, standard_topics
from shared.settings import Settings, Topics


def produce_raw(bootstrap: str, topic: str, messages: Iterator[tuple[str, bytes]]) -> int:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    count = 0
    for key, value in messages:
        producer.send(topic, key=key.encode(), value=value)
        count += 1
    producer.flush()
    producer.close()
    return count


def listing_messages(count: int, seed: int = 7, prefix: str = "") -> Iterator[tuple[str, bytes]]:
    """The workload's listings as listing events (built typed: a million load in seconds)."""
    event_type, now = "boucle.listing.published", datetime.now(UTC)
    for listing in stream(count, seed=seed, now=time.time(), prefix=prefix):
        data = ListingChanged(
            id=listing.id,
            organisation_id=listing.organisation_id,
            kind=listing.kind,
            status="published",
            title=listing.title,
            category=listing.category,
            quantity=listing.quantity,
            unit=listing.unit,
            location=Location(listing.lat, listing.lon, country=listing.country),
            radius_km=listing.radius_km,
            version=listing.version,
            updated_at=now,
            min_quantity=listing.min_quantity,
            delivery_radius_km=listing.delivery_radius_km,
            available_from=_moment(listing.starts_at),
            available_until=_moment(listing.ends_at),
        )
        yield listing.id, encode_event(Event(event_type, "/bench", listing.id, data))


def _moment(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)


def commit_at_end(bootstrap: str, group: str, topic: str) -> None:
    """The group has handled every listing already (a previous run did)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    ends = consumer.end_offsets(partitions)
    consumer.commit({tp: OffsetAndMetadata(end, "", -1) for tp, end in ends.items()})
    consumer.close()


def raw_read_s(bootstrap: str, topic: str, expected: int) -> float:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    start, seen = time.perf_counter(), 0
    while seen < expected:
        for batch in consumer.poll(timeout_ms=500, max_records=5000).values():
            seen += len(batch)
    consumer.close()
    return time.perf_counter() - start


def wait_healthy(port: int, process: subprocess.Popen[bytes]) -> None:
    while True:
        if process.poll() is not None:
            raise RuntimeError("the matcher exited during start-up")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer,
        ):
            if answer.status == 200:
                return
        time.sleep(0.2)


def settlements(
    bootstrap: str, topics: Topics, want: str, timeout_s: float
) -> tuple[list[str], float]:
    """Listing ids of every settlement on the matches topic, once `want`'s has arrived,
    and when the matcher wrote `want`'s (its record timestamp, epoch seconds)."""
    consumer = KafkaConsumer(
        topics.matches,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        enable_auto_commit=False,
    )
    seen: list[str] = []
    written = 0.0
    deadline = time.monotonic() + timeout_s
    while not written and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=200, max_records=5000).values():
            for message in batch:
                # Only settlements carry the handled mark: the found events are not read.
                if not any(name == work_marks.HEADER for name, _ in message.headers or ()):
                    continue
                data = decode_event(message.value).data
                if isinstance(data, MatchesSettled):
                    seen.append(data.listing_id)
                    if data.listing_id == want:
                        written = message.timestamp / 1000
    consumer.close()
    return seen, written


def matcher_restart(bootstrap: str, count: int, tail: int) -> None:
    topics = Settings.from_env({"KAFKA_TOPIC_PREFIX": f"start-{uuid.uuid4().hex[:6]}."}).topics
    ensure_topics(bootstrap, standard_topics(topics))
    started = time.perf_counter()
    produced = produce_raw(bootstrap, topics.listings, listing_messages(count))
    print(f"loaded {produced} listing events in {time.perf_counter() - started:.1f} s")
    group = f"start-{uuid.uuid4().hex[:6]}"
    commit_at_end(bootstrap, group, topics.listings)
    floor = raw_read_s(bootstrap, topics.listings, produced)
    print(f"| raw read of the listings topic (the floor) | {floor:.1f} s |")
    sample = [value for _, value in listing_messages(5000, seed=9)]
    for name, decode in (("decode_event", decode_event), ("marshmallow alone", _decode)):
        started = time.perf_counter()
        for value in sample:
            decode(value)
        each = (time.perf_counter() - started) / len(sample) * 1e6
        print(f"| decoding a listing event, {name} | {each:.0f} µs |")
    with tempfile.TemporaryDirectory() as tmp:
        snapshots = str(Path(tmp) / "snapshots")
        seen: set[str] = set()
        for phase, extra in (
            ("cold start: no snapshot, the whole topic read", {}),
            (f"restart from the snapshot, {tail:,} listings written meanwhile", {"tail": tail}),
            ("a renamed consumer group (no offsets), from the snapshot", {"group": "renamed"}),
            ("the same group, no snapshot (MATCHER_SNAPSHOT_DIR unset)", {"no_snapshot": 1}),
        ):
            if "tail" in extra:
                messages = list(listing_messages(tail, seed=8, prefix="tail-"))
                produce_raw(bootstrap, topics.listings, iter(messages))
            env = dict(
                os.environ,
                KAFKA_BOOTSTRAP_SERVERS=bootstrap,
                KAFKA_TOPIC_PREFIX=topics.listings.removesuffix("listings"),
                MATCHER_GROUP_ID=group + ("-renamed" if "group" in extra else ""),
                MATCHER_INSTANCE_ID="bench",
                HEALTH_PORT=str(free_port()),
                BOUCLE_ENV="test",
            )
            if "no_snapshot" not in extra:
                env["MATCHER_SNAPSHOT_DIR"] = snapshots
            log_path = Path(tmp) / f"matcher-{len(seen)}.log"
            ready, first, settled = _start_matcher(bootstrap, topics, env, log_path)
            handled = [listing for listing in settled if listing not in seen]
            seen.update(settled)
            again = [x for x in handled if not x.startswith("probe-") and "-tail-" not in x]
            print(
                f"| matcher, {count:,} active listings, {phase} | ready **{ready:.1f} s** "
                f"| first new match settled {first:.1f} s | {_read_at_start(log_path)} "
                f"| listings handled again: {len(again)} |",
                flush=True,
            )


def _start_matcher(
    bootstrap: str, topics: Topics, env: dict[str, str], log_path: Path
) -> tuple[float, float, list[str]]:
    """(ready s, first new match settled s, listing ids of every settlement so far)."""
    with log_path.open("wb") as log:
        started, epoch = time.perf_counter(), time.time()
        command = [sys.executable, "-m", "services.matcher"]
        process = subprocess.Popen(command, env=env, stderr=log)
        try:
            wait_healthy(int(env["HEALTH_PORT"]), process)
            ready = time.perf_counter() - started
            probe = next(iter(generate(1, seed=99, now=time.time())))
            new_id = f"probe-{uuid.uuid4().hex[:6]}"
            raw = event_data(probe)
            raw.update(id=new_id, kind="need", radius_km=50.0, delivery_radius_km=None)
            produce_raw(bootstrap, topics.listings, iter([(new_id, _encoded(raw))]))
            settled, written = settlements(bootstrap, topics, new_id, timeout_s=600)
            first = written - epoch
        finally:
            process.terminate()  # SIGTERM: the matcher writes its snapshot on the way out
            process.wait(timeout=120)
    return ready, first, settled


def _read_at_start(log_path: Path) -> str:
    for line in log_path.read_text(errors="replace").splitlines():
        if "replica caught up from" in line:
            return str(json.loads(line)["message"]).removeprefix("replica ")
    return "?"


def _encoded(data: dict[str, object]) -> bytes:
    event_type = "boucle.listing.published"
    typed = typed_data(event_type, data)
    return encode_event(Event(event_type, "/bench", str(data["id"]), typed))


def organisation_messages(count: int) -> Iterator[tuple[str, bytes]]:
    event_type = "boucle.organisation.registered"
    for n in range(count):
        org_id = f"org-{n:06d}"
        data = {
            "id": org_id,
            "name": f"Organisation {n}",
            "kind": "association",
            "country": "LU",
            "contact_email": f"contact-{n}@example.org",
            "language": "fr",
            "members": [{"id": f"m-{n}", "email": f"m-{n}@example.org", "role": "member"}],
            "api_token_hashes": [uuid.uuid4().hex * 2],
            "version": 1,
            "updated_at": datetime.now(UTC),
        }
        typed = typed_data(event_type, data)
        yield org_id, encode_event(Event(event_type, "/bench", org_id, typed))


def notifier_projection(bootstrap: str, database_url: str, count: int) -> None:
    topic = f"start-{uuid.uuid4().hex[:6]}.organisations"
    ensure_topics(bootstrap, {topic: {"cleanup.policy": "compact"}})
    produce_raw(bootstrap, topic, organisation_messages(count))
    floor = raw_read_s(bootstrap, topic, count)
    results = {}
    for mode in ("batched", "one transaction per event"):
        _, sessions = service_database(database_url, "notifications")
        with sessions() as session:  # a fresh projection for each run
            session.query(OrganisationTokenRow).delete()
            session.query(OrganisationRow).delete()
            session.commit()
        store = OrganisationStore(sessions)
        many = store.apply_many if mode == "batched" else None
        reader = TableReader(bootstrap, topic, store.apply, apply_many=many)
        started = time.perf_counter()
        applied = reader.catch_up()
        results[mode] = time.perf_counter() - started
        reader.close()
        assert applied == count, (applied, count)
    batched, single = results["batched"], results["one transaction per event"]
    print(
        f"| notifier, {count:,} organisations | ready {batched:.1f} s | baseline (one "
        f"transaction per event) {single:.1f} s ({single / batched:.1f}x slower) | raw read "
        f"{floor:.1f} s |"
    )


@contextlib.contextmanager
def database() -> Iterator[str]:
    given = os.environ.get("DATABASE_URL")
    if given:
        yield given
        return
    from services.devtools.postgres import LocalPostgres

    with LocalPostgres() as server:
        yield server.url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--organisations", type=int, default=10_000)
    parser.add_argument("--tail", type=int, default=1000, help="listings written while down")
    parser.add_argument("--matcher-only", action="store_true")
    args = parser.parse_args()
    with broker() as bootstrap:
        matcher_restart(bootstrap, args.listings, args.tail)
        if not args.matcher_only:
            with database() as url:
                notifier_projection(bootstrap, url, args.organisations)


if __name__ == "__main__":
    main()
