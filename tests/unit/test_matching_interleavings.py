"""Retractions are right in every interleaving: two matchers, restarts, crashed batches.

An in-process model of the pipeline with Kafka's guarantees and nothing more: a listings
topic of three partitions (per-key order), a consumer group of two matchers that each
rebuild a full replica, batches that commit their output and offsets together or not at
all (a crash throws the batch away), rebalances, and readers that take the partitions of
the matches topic in any interleaving. Whatever hypothesis draws, once everything is
handled, every read model shows exactly the pairs a brute-force oracle finds among the
final listing states. The notifier and the listings read model are among the readers,
on their real tables (SQLite).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from listings.match_projection import MatchProjection
from listings.tables import ListingRow
from matching.handler import MatchingHandler
from matching.index import ListingIndex
from matching.replica import Replica, active_listing_from
from matching.rules import evaluate
from monitor.domain.activity import ActivityProjection
from notifications.handler import MatchAlertHandler
from notifications.outcomes import OutcomeRecorder
from notifications.store import ACTIVE
from notifications.tables import AlertRow
from shared.contracts import ListingChanged
from shared.db import service_database
from shared.events import Event, decode_event, encode_event, typed_data
from shared.taxonomy import Taxonomy
from tests.conftest import random_id

TAXONOMY = Taxonomy.load_default()
NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)
PARTITIONS = 3
PLACES = [(49.6116, 6.1319), (49.4958, 5.9806), (49.1193, 6.1757), (49.2354, 6.9969)]
CATEGORIES = ["ewc-150103", "ewc-1501", "ewc-170201"]
STATUSES = ["published", "reserved", "closed", "withdrawn", "expired"]


def partition_of(key: str) -> int:
    return zlib.crc32(key.encode()) % PARTITIONS


@dataclass
class Matcher:
    """One matcher process: its replica and how far it has read the listings topic."""

    replica: Replica = field(default_factory=lambda: Replica(ListingIndex(TAXONOMY)))
    read: list[int] = field(default_factory=lambda: [0] * PARTITIONS)


class Pipeline:
    """Topics as lists, a group of two matchers, committed offsets."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.listings: list[list[Event]] = [[] for _ in range(PARTITIONS)]
        self.matches: list[list[Event]] = [[] for _ in range(PARTITIONS)]
        # How many listing writes preceded each match event (the listings table is ahead).
        self.writes: list[dict[str, Any]] = []
        self.after_writes: list[list[int]] = [[] for _ in range(PARTITIONS)]
        self.committed = [0] * PARTITIONS
        self.matchers = [Matcher(), Matcher()]
        self.owner = [p % 2 for p in range(PARTITIONS)]
        self.state: dict[str, dict[str, Any]] = {}

    def change(self, slot: int, kind: str, op: tuple[Any, ...]) -> None:
        listing_id = f"{self.prefix}{kind}{slot}"
        old = self.state.get(listing_id)
        if old is not None and old["status"] not in ("published", "reserved"):
            return  # ended listings stay ended, as in the listings service
        body = dict(old) if old else _new_listing(listing_id, kind, slot)
        what, value = op
        if what == "status":
            if old is None or (value == "published" and old["status"] != "reserved"):
                return
            body["status"] = value
        elif what == "move":
            body["location"] = {"lat": PLACES[value][0], "lon": PLACES[value][1]}
        elif what == "radius":
            body["radius_km"] = value if kind == "need" else 0.0
        elif what == "category":
            body["category"] = CATEGORIES[value]
        body["version"] = (old["version"] + 1) if old else 1
        self.state[listing_id] = body
        self.writes.append(body)
        change = "published" if body["version"] == 1 else body["status"]
        change = "updated" if change == "published" else change
        event_type = f"boucle.listing.{change}"
        event = Event(event_type, "/test", listing_id, typed_data(event_type, body))
        self.listings[partition_of(listing_id)].append(decode_event(encode_event(event)))

    def batch(self, which: int, size: int, crash: bool) -> None:
        """Matcher `which` catches up its replica, then handles up to `size` messages."""
        matcher = self.matchers[which]
        self._catch_up(matcher)
        output: list[tuple[Event, str]] = []
        handler = MatchingHandler(
            matcher.replica, lambda e, key: output.append((e, key)), clock=NOW.timestamp
        )
        taken: dict[int, int] = {}
        for p in (p for p in range(PARTITIONS) if self.owner[p] == which):
            pending = self.listings[p][self.committed[p] : self.committed[p] + size]
            for event in pending:
                handler(event)
            taken[p] = self.committed[p] + len(pending)
        if crash:
            return  # the transaction is aborted: no output, no offsets
        for event, key in output:
            self.matches[partition_of(key)].append(decode_event(encode_event(event)))
            self.after_writes[partition_of(key)].append(len(self.writes))
        for p, offset in taken.items():
            self.committed[p] = offset

    def restart(self, which: int) -> None:
        self.matchers[which] = Matcher()

    def rebalance(self) -> None:
        self.owner = [1 - owner for owner in self.owner]

    def drain(self) -> None:
        while any(self.committed[p] < len(self.listings[p]) for p in range(PARTITIONS)):
            self.batch(0, 1000, crash=False)
            self.batch(1, 1000, crash=False)

    def _catch_up(self, matcher: Matcher) -> None:
        for p in range(PARTITIONS):
            for event in self.listings[p][matcher.read[p] :]:
                matcher.replica.apply(event)
            matcher.read[p] = len(self.listings[p])

    def oracle(self) -> set[tuple[str, str]]:
        active = [
            active_listing_from(_typed(body))
            for body in self.state.values()
            if body["status"] == "published"
        ]
        offers = [a for a in active if a.kind == "offer"]
        needs = [a for a in active if a.kind == "need"]
        return {
            (o.id, n.id)
            for o in offers
            for n in needs
            if evaluate(o, n, TAXONOMY, NOW.timestamp()) is not None
        }


def _typed(body: dict[str, Any]) -> ListingChanged:
    data = typed_data("boucle.listing.updated", body)
    assert isinstance(data, ListingChanged)
    return data


def _new_listing(listing_id: str, kind: str, slot: int) -> dict[str, Any]:
    lat, lon = PLACES[slot % len(PLACES)]
    return {
        "id": listing_id,
        "organisation_id": f"org-{listing_id}",
        "kind": kind,
        "status": "published",
        "title": listing_id,
        "category": CATEGORIES[0],
        "quantity": 10.0,
        "unit": "pallets",
        "location": {"lat": lat, "lon": lon},
        "radius_km": 60.0 if kind == "need" else 0.0,
        "version": 1,
        "updated_at": NOW,
    }


def read_in_some_order(streams: list[list[Event]], order: list[int]) -> Iterator[Event]:
    """Every message once, each partition in order, partitions interleaved by `order`."""
    positions = [0] * len(streams)
    for p in order:
        p %= len(streams)
        if positions[p] < len(streams[p]):
            yield streams[p][positions[p]]
            positions[p] += 1
    for p in range(len(streams)):
        yield from streams[p][positions[p] :]


changes = st.tuples(
    st.just("change"),
    st.integers(0, 2),
    st.sampled_from(["offer", "need"]),
    st.one_of(
        st.tuples(st.just("create"), st.just(0)),
        st.tuples(st.just("status"), st.sampled_from(STATUSES)),
        st.tuples(st.just("move"), st.integers(0, len(PLACES) - 1)),
        st.tuples(st.just("radius"), st.sampled_from([5.0, 30.0, 90.0])),
        st.tuples(st.just("category"), st.integers(0, len(CATEGORIES) - 1)),
    ),
)
batches = st.tuples(st.just("batch"), st.integers(0, 1), st.integers(1, 4), st.booleans())
restarts = st.tuples(st.just("restart"), st.integers(0, 1))
rebalances = st.tuples(st.just("rebalance"))
steps = st.lists(
    st.one_of(changes, changes, changes, batches, batches, restarts, rebalances), max_size=50
)

# Reserved then released: the late word of the reservation must not drop the new matches.
LATE_RESERVATION = [
    ("change", 1, "offer", ("status", "reserved")),
    ("change", 1, "offer", ("status", "published")),
]
# An offer edited out of its matches after readers have shown them.
MOVED_AWAY = [("batch", 0, 4, False), ("batch", 1, 4, False), ("change", 0, "offer", ("move", 3))]


# How many events each poll hands over at once (1: one at a time); the rest go one by one.
run_lengths = st.lists(st.integers(1, 12), max_size=20)


def in_runs(items: list[Any], lengths: list[int]) -> Iterator[list[Any]]:
    """`items` cut into consecutive runs of the given lengths, then runs of one."""
    start = 0
    for length in [*lengths, *([1] * len(items))]:
        if start >= len(items):
            return
        yield items[start : start + length]
        start += length


def run(pipeline: Pipeline, plan: list[tuple[Any, ...]]) -> None:
    # Every listing exists from the start, so most plans begin with standing matches.
    for slot in range(3):
        pipeline.change(slot, "offer", ("create", 0))
        pipeline.change(slot, "need", ("create", 0))
    for step in plan:
        if step[0] == "change":
            pipeline.change(step[1], step[2], step[3])
        elif step[0] == "batch":
            pipeline.batch(step[1], step[2], step[3])
        elif step[0] == "restart":
            pipeline.restart(step[1])
        else:
            pipeline.rebalance()
    pipeline.drain()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=steps, order=st.lists(st.integers(0, 2 * PARTITIONS - 1), max_size=120))
@example(plan=LATE_RESERVATION, order=[])
@example(plan=MOVED_AWAY, order=[])
def test_the_monitors_matches_equal_the_oracle_in_every_interleaving(
    plan: list[tuple[Any, ...]], order: list[int]
) -> None:
    pipeline = Pipeline("")
    run(pipeline, plan)
    reader = ActivityProjection()
    # The monitor follows the listings topic too, in any interleaving with the matches.
    for event in read_in_some_order(pipeline.matches + pipeline.listings, order):
        reader.apply(event.type, event.time, event.data)
    standing = {
        (m["offer"]["listing_id"], m["need"]["listing_id"]) for m in reader.matches.values()
    }
    assert standing == pipeline.oracle()


@pytest.fixture(scope="module")
def notifier_sessions(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = Path(tmp_path_factory.mktemp("notifier")) / "notifications.db"
    _, sessions = service_database(f"sqlite:///{path}", "notifications")
    return sessions


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    plan=steps,
    order=st.lists(st.integers(0, 2 * PARTITIONS - 1), max_size=120),
    runs=run_lengths,
)
@example(plan=LATE_RESERVATION, order=[], runs=[])
@example(plan=MOVED_AWAY, order=[], runs=[])
@example(plan=MOVED_AWAY, order=[], runs=[50])
def test_the_notifiers_active_alerts_equal_the_oracle_in_every_interleaving(
    notifier_sessions: Any, plan: list[tuple[Any, ...]], order: list[int], runs: list[int]
) -> None:
    prefix = random_id("x") + "-"
    pipeline = Pipeline(prefix)
    run(pipeline, plan)
    handler = MatchAlertHandler(
        notifier_sessions, OutcomeRecorder("deliveries"), lambda _c: [], UTC, clock=lambda: NOW
    )
    # The notifier follows the listings topic too, in any interleaving with the matches,
    # and takes a poll's events in one transaction (a run); a redelivered run changes nothing.
    events = list(read_in_some_order(pipeline.matches + pipeline.listings, order))
    for run_of_events in in_runs(events, runs):
        handler.handle_many(run_of_events)
        handler.handle_many(run_of_events[-1:] + run_of_events[:1])
    with notifier_sessions() as session:
        rows = session.scalars(
            select(AlertRow).where(
                AlertRow.listing_id.startswith(prefix), AlertRow.status == ACTIVE
            )
        ).all()
    by_match: dict[str, set[str]] = {}
    for row in rows:
        by_match.setdefault(row.match_id, set()).add(row.listing_id)
    standing = set()
    for listing_ids in by_match.values():
        assert len(listing_ids) == 2, "both parties of a standing match have an active alert"
        offer = next(i for i in listing_ids if "offer" in i)
        need = next(i for i in listing_ids if "need" in i)
        standing.add((offer, need))
    assert standing == pipeline.oracle()


@pytest.fixture(scope="module")
def listings_sessions(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = Path(tmp_path_factory.mktemp("listings")) / "listings.db"
    _, sessions = service_database(f"sqlite:///{path}", "listings")
    return sessions


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(plan=steps, order=st.lists(st.integers(0, PARTITIONS - 1), max_size=120), runs=run_lengths)
@example(plan=LATE_RESERVATION, order=[], runs=[])
@example(plan=MOVED_AWAY, order=[], runs=[])
@example(plan=MOVED_AWAY, order=[], runs=[50])
def test_the_listing_pages_matches_equal_the_oracle_in_every_interleaving(
    listings_sessions: Any, plan: list[tuple[Any, ...]], order: list[int], runs: list[int]
) -> None:
    prefix = random_id("x") + "-"
    pipeline = Pipeline(prefix)
    run(pipeline, plan)
    projection = MatchProjection(listings_sessions)
    # The listings table moves on as listings are written, always ahead of the events that
    # their writes caused; the match events arrive in any interleaving of partitions.
    # A poll's events are projected in one transaction (a run), the table already as far
    # ahead as the run's last event needs; a redelivered run changes nothing.
    written = 0
    positions = [0] * PARTITIONS
    reads: list[tuple[int, Event]] = []
    for p in _reads(pipeline, order):
        reads.append((pipeline.after_writes[p][positions[p]], pipeline.matches[p][positions[p]]))
        positions[p] += 1
    for run_of_reads in in_runs(reads, runs):
        needed = max(after for after, _ in run_of_reads)
        if needed > written:
            _write(listings_sessions, pipeline.writes[written:needed])
            written = needed
        run_of_events = [event for _, event in run_of_reads]
        projection.handle_many(run_of_events)
        projection.handle_many(run_of_events)
    _write(listings_sessions, pipeline.writes[written:])
    shown = {
        (listing_id, current.counterpart_id)
        for listing_id in pipeline.state
        for current in projection.current(listing_id)
    }
    oracle = pipeline.oracle()
    assert {(o, n) for o, n in shown if "offer" in o} == oracle, "on each offer's page"
    assert {(o, n) for n, o in shown if "need" in n} == oracle, "on each need's page"


def _reads(pipeline: Pipeline, order: list[int]) -> Iterator[int]:
    """Partitions of `matches` in the order their next message is read (each once)."""
    left = [len(messages) for messages in pipeline.matches]
    for p in [*order, *(q for q in range(PARTITIONS) for _ in range(left[q]))]:
        p %= PARTITIONS
        if left[p]:
            left[p] -= 1
            yield p


def _write(sessions: Any, bodies: list[dict[str, Any]]) -> None:
    with sessions.begin() as session:
        for body in bodies:
            session.merge(_listing_row(body))


def _listing_row(body: dict[str, Any]) -> ListingRow:
    return ListingRow(
        id=body["id"],
        organisation_id=body["organisation_id"],
        kind=body["kind"],
        status=body["status"],
        title=body["title"],
        category=body["category"],
        quantity=body["quantity"],
        unit=body["unit"],
        lat=body["location"]["lat"],
        lon=body["location"]["lon"],
        radius_km=body["radius_km"],
        version=body["version"],
        created_at=NOW,
        updated_at=NOW,
    )
