"""Housekeeping: sent outbox rows and old tracking records are purged, so tables stay bounded,
while unsent rows and records young enough to catch a re-delivery are kept."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from listings.tables import OutboxRow
from notifications.tables import processed_events
from shared.db import service_database, unit_of_work
from shared.housekeeping import Housekeeper
from shared.kafka import KafkaPublisher, ensure_topics
from shared.outbox import OutboxRelay
from shared.tracking import claim_event, purge_processed
from tests.conftest import random_id
from tests.integration.kafka_helpers import read_topic, wait_for

NOW = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)
CONSUMER = "notifier"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on a SQLite file and on the real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'housekeeping.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def listings_sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    """The listings service's migrated database (its real outbox table)."""
    engine, sessions = service_database(database_url, "listings")
    yield sessions
    engine.dispose()


@pytest.fixture
def notifier_sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    """The notifier's migrated database (its real processed_events table)."""
    engine, sessions = service_database(database_url, "notifications")
    yield sessions
    engine.dispose()


class FakeClock:
    """A wall clock the test moves forward, instead of sleeping through a retention."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class IdlePublisher:
    """Stands in for Kafka where the test never has rows to publish."""

    def flush(self, timeout_s: float | None = None) -> None:
        pass

    def reset(self) -> None:
        pass


def outbox_row(topic: str, sent_at: datetime | None, created_at: datetime = NOW) -> dict[str, Any]:
    event_id = str(uuid.uuid4())
    return {
        "topic": topic,
        "key": event_id,
        "event_id": event_id,
        "event_type": "boucle.test.happened",
        "payload": b"{}",
        "headers": None,
        "created_at": created_at,
        "sent_at": sent_at,
    }


def add_outbox_rows(sessions: sessionmaker[Session], rows: list[dict[str, Any]]) -> None:
    with unit_of_work(sessions) as session:
        session.execute(insert(OutboxRow), rows)


def outbox_rows(sessions: sessionmaker[Session]) -> list[tuple[int, datetime | None]]:
    with unit_of_work(sessions) as session:
        rows = session.execute(select(OutboxRow.id, OutboxRow.sent_at)).all()
        return [(row.id, row.sent_at) for row in rows]


def outbox_size(sessions: sessionmaker[Session]) -> int:
    with unit_of_work(sessions) as session:
        return session.scalar(select(func.count()).select_from(OutboxRow)) or 0


def relay_for(sessions: sessionmaker[Session], publisher: Any, **options: Any) -> OutboxRelay:
    return OutboxRelay(sessions, publisher, OutboxRow, **options)


# -- the outbox ----------------------------------------------------------------------------


def test_purge_sent_deletes_only_rows_sent_before_the_retention(
    listings_sessions: sessionmaker[Session],
) -> None:
    old, recent = NOW - timedelta(days=8), NOW - timedelta(hours=1)
    add_outbox_rows(listings_sessions, [outbox_row("t", old) for _ in range(1000)])
    add_outbox_rows(listings_sessions, [outbox_row("t", recent) for _ in range(10)])
    # Unsent rows created long ago: age alone must never get an event purged.
    add_outbox_rows(listings_sessions, [outbox_row("t", None, created_at=old) for _ in range(5)])
    relay = relay_for(listings_sessions, IdlePublisher())

    deleted = relay.purge_sent(timedelta(days=7), now=NOW, batch=300)

    assert deleted == 1000
    left = outbox_rows(listings_sessions)
    assert sorted(sent for _, sent in left if sent is not None) == [recent] * 10
    assert sum(1 for _, sent in left if sent is None) == 5
    assert relay.pending() == 5
    assert relay.purge_sent(timedelta(days=7), now=NOW) == 0, "nothing left to purge"


def test_purge_sent_keeps_a_row_sent_exactly_at_the_cutoff(
    listings_sessions: sessionmaker[Session],
) -> None:
    add_outbox_rows(listings_sessions, [outbox_row("t", NOW - timedelta(days=7))])
    relay = relay_for(listings_sessions, IdlePublisher())
    assert relay.purge_sent(timedelta(days=7), now=NOW) == 0
    assert relay.purge_sent(timedelta(days=7), now=NOW + timedelta(microseconds=1)) == 1


class CountingRelay(OutboxRelay):
    """Counts the relay's rounds and purges; its first `failing` purges raise."""

    def __init__(self, *args: Any, failing: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rounds = self.purges = 0
        self._failing = failing

    def relay_once(self) -> int:
        self.rounds += 1
        return super().relay_once()

    def purge_sent(
        self, older_than: timedelta, now: datetime | None = None, batch: int = 5000
    ) -> int:
        self.purges += 1
        if self.purges <= self._failing:
            raise RuntimeError("database away")
        return super().purge_sent(older_than, now, batch)


def run_in_thread(relay: OutboxRelay, stop: threading.Event) -> threading.Thread:
    worker = threading.Thread(target=relay.run, args=(stop, 0.01), daemon=True)
    worker.start()
    return worker


def test_the_relay_purges_on_start_and_then_at_most_once_per_interval(
    listings_sessions: sessionmaker[Session],
) -> None:
    add_outbox_rows(listings_sessions, [outbox_row("t", NOW - timedelta(days=8))])
    relay = CountingRelay(
        listings_sessions, IdlePublisher(), OutboxRow, purge_interval_s=3600, clock=lambda: NOW
    )
    stop = threading.Event()
    worker = run_in_thread(relay, stop)
    try:
        wait_for(lambda: relay.rounds >= 20, timeout=30, what="20 relay rounds")
    finally:
        stop.set()
        worker.join(timeout=30)
    assert not worker.is_alive()
    assert relay.purges == 1, "one purge per interval, however many rounds"
    assert outbox_size(listings_sessions) == 0


def test_a_failing_purge_is_logged_retried_and_never_stops_the_relay(
    listings_sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    add_outbox_rows(listings_sessions, [outbox_row("t", NOW - timedelta(days=8))])
    relay = CountingRelay(
        listings_sessions,
        IdlePublisher(),
        OutboxRow,
        purge_interval_s=0,
        clock=lambda: NOW,
        failing=2,
    )
    stop = threading.Event()
    caplog.set_level(logging.INFO, logger="shared.outbox")
    worker = run_in_thread(relay, stop)
    try:
        wait_for(lambda: outbox_size(listings_sessions) == 0, timeout=30, what="the retry")
        assert worker.is_alive(), "the relay kept running through the failures"
    finally:
        stop.set()
        worker.join(timeout=30)
    assert relay.purges >= 3
    failures = [r for r in caplog.records if "outbox purge failed" in r.getMessage()]
    assert len(failures) == 2
    assert all(r.exc_info is not None for r in failures), "the cause is logged"
    assert any("1 sent rows" in r.getMessage() for r in caplog.records)


@pytest.mark.kafka
@pytest.mark.postgres
def test_a_relay_publishing_round_after_round_keeps_its_outbox_bounded(
    kafka_bootstrap: str, postgres_url: str
) -> None:
    topic = random_id("housekeeping")
    ensure_topics(kafka_bootstrap, {topic: {}})
    engine, sessions = service_database(postgres_url, "listings")
    publisher = KafkaPublisher(kafka_bootstrap, "housekeeping-test", timeout_ms=5000)
    clock = FakeClock(NOW)
    # Every turn of the loop may purge; rows sent more than 30 (fake) minutes ago go.
    relay = relay_for(
        sessions,
        publisher,
        send_timeout_s=10,
        retention=timedelta(minutes=30),
        purge_interval_s=0,
        clock=clock,
    )
    rounds, per_round, round_length = 20, 10, timedelta(minutes=10)
    # Rows sent at the cutoff itself stay: this round and the three before it.
    bound = 4 * per_round
    stop = threading.Event()
    worker = run_in_thread(relay, stop)
    try:
        for n in range(rounds):
            if n:
                clock.advance(round_length)
            add_outbox_rows(sessions, [outbox_row(topic, None) for _ in range(per_round)])
            wait_for(lambda: relay.pending() == 0, timeout=60, what=f"round {n} published")
            wait_for(lambda: outbox_size(sessions) <= bound, timeout=30, what=f"round {n} purged")
        wait_for(lambda: outbox_size(sessions) == bound, timeout=30, what="the steady state")
    finally:
        stop.set()
        worker.join(timeout=30)
        publisher.close()
        engine.dispose()
    assert not worker.is_alive()
    sent_at = sorted(sent or NOW for _, sent in outbox_rows(sessions))
    assert len(sent_at) == bound
    last_round = NOW + (rounds - 1) * round_length
    assert sent_at[0] == last_round - 3 * round_length, "the oldest rows kept are the cutoff's"
    assert sent_at[-1] == last_round
    # Purging took nothing that had not been published: every event reached Kafka.
    assert len(read_topic(kafka_bootstrap, topic, rounds * per_round)) == rounds * per_round


# -- tracking records ---------------------------------------------------------------------


def add_tracking_records(sessions: sessionmaker[Session], ids: list[str], at: datetime) -> None:
    with unit_of_work(sessions) as session:
        session.execute(
            insert(processed_events),
            [{"consumer": CONSUMER, "event_id": i, "processed_at": at} for i in ids],
        )


def claim(sessions: sessionmaker[Session], event_id: str) -> bool:
    with unit_of_work(sessions) as session:
        return claim_event(session, processed_events, CONSUMER, event_id)


def purge(sessions: sessionmaker[Session], older_than: timedelta, now: datetime) -> int:
    with unit_of_work(sessions) as session:
        return purge_processed(session, processed_events, older_than, now=now)


def test_purge_processed_deletes_old_records_and_recent_redeliveries_stay_duplicates(
    notifier_sessions: sessionmaker[Session],
) -> None:
    now = datetime.now(UTC)
    old = [f"old-{n}" for n in range(50)]
    add_tracking_records(notifier_sessions, old, now - timedelta(days=8))
    assert claim(notifier_sessions, "recent"), "first delivery: handled now"

    assert purge(notifier_sessions, timedelta(days=7), now) == 50

    assert not claim(notifier_sessions, "recent"), "a re-delivery within the retention is a dup"
    # Six days on, still within the retention: still recognised.
    assert purge(notifier_sessions, timedelta(days=7), now + timedelta(days=6)) == 0
    assert not claim(notifier_sessions, "recent")
    # A purged record is forgotten: why the retention must outlast any re-delivery.
    assert claim(notifier_sessions, old[0])


def test_purge_processed_measures_age_in_utc_whatever_the_zone_of_now(
    notifier_sessions: sessionmaker[Session],
) -> None:
    now = datetime.now(UTC)
    add_tracking_records(notifier_sessions, ["an-hour-old"], now - timedelta(hours=1))
    east = now.astimezone(timezone(timedelta(hours=2)))
    assert purge(notifier_sessions, timedelta(minutes=90), east) == 0
    assert purge(notifier_sessions, timedelta(minutes=30), east) == 1


# -- the housekeeper ----------------------------------------------------------------------


def test_the_housekeeper_runs_its_purges_and_survives_one_that_raises(
    notifier_sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    calls = {"processed_events": 0, "broken": 0}

    def purge_tracking() -> int:
        calls["processed_events"] += 1
        return purge(notifier_sessions, timedelta(days=7), datetime.now(UTC))

    def broken() -> int:
        calls["broken"] += 1
        raise RuntimeError("database away")

    add_tracking_records(notifier_sessions, ["old"], datetime.now(UTC) - timedelta(days=8))
    stop = threading.Event()
    caplog.set_level(logging.INFO, logger="shared.housekeeping")
    housekeeper = Housekeeper(
        {"broken": broken, "processed_events": purge_tracking}, stop, interval_s=0.01
    )
    thread = housekeeper.start()
    try:
        assert thread.daemon
        wait_for(lambda: calls["processed_events"] >= 3, timeout=30, what="three turns")
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive(), "stopped by its event"
    assert calls["broken"] >= 3, "the failing purge is tried again on every turn"
    assert claim(notifier_sessions, "old"), "the old record was purged"
    messages = [r.getMessage() for r in caplog.records]
    assert "purge processed_events: 1 rows deleted" in messages
    assert any(m.startswith("purge broken failed") for m in messages)


def test_one_housekeeping_turn_reports_what_each_purge_deleted() -> None:
    def broken() -> int:
        raise RuntimeError("database away")

    housekeeper = Housekeeper({"a": lambda: 3, "broken": broken, "b": lambda: 0}, threading.Event())
    assert housekeeper.run_once() == {"a": 3, "b": 0}
