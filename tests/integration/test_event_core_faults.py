"""The event core under the faults a pilot meets: a database blip, a frozen broker and a
killed matcher, poison messages, expiry, a match retracted and found again in quiet hours.

Real broker, real PostgreSQL, real SMTP; each fault for as long as the issue says.
"""

from __future__ import annotations

import dataclasses
import shutil
import signal
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from listings.match_projection import MatchProjection
from listings.service import ListingService
from listings.tables import OutboxRow as ListingsOutboxRow
from matching.replica import active_listing_from
from matching.rules import evaluate
from notifications.handler import MatchAlertHandler
from notifications.outcomes import OutcomeRecorder
from notifications.preference_store import save_preferences
from notifications.preferences import CONTACT, Preferences
from notifications.store import ACTIVE, RETRACTED
from notifications.tables import AlertRow
from notifications.worker import DeliveryWorker
from services.devtools.kafka import LocalKafka
from services.devtools.postgres import LocalPostgres
from shared.auth import Principal
from shared.contracts import ListingChanged, MatchesSettled, MatchFound
from shared.db import service_database, unit_of_work
from shared.event_schemas import MATCHES_SETTLED
from shared.events import Event, typed_data
from shared.kafka import KafkaPublisher
from shared.outbox import OutboxRelay
from shared.taxonomy import Taxonomy
from tests.conftest import random_id
from tests.integration.event_core_support import consuming, degraded, message_count
from tests.integration.kafka_helpers import wait_for
from tests.integration.test_matching_support import Exchange, MatchReader, listing_data, stop
from tests.integration.test_notif_support import (
    Notifier,
    SmtpSink,
    build_notifier,
    match_event,
    organisation_event,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]
TAXONOMY = Taxonomy.load_default()
LUXEMBOURG = (49.6116, 6.1319)


def alert_count(notifier: Notifier, status: str | None = None) -> int:
    """Alerts in the notifier's inbox tables (-1 while its database is away)."""
    query = select(func.count()).select_from(AlertRow)
    if status is not None:
        query = query.where(AlertRow.status == status)
    try:
        with unit_of_work(notifier.sessions) as session:
            return int(session.scalar(query) or 0)
    except Exception:
        return -1


# --- a database outage ---------------------------------------------------------------


def test_a_ten_second_database_outage_loses_no_alert_and_dead_letters_nothing(
    kafka_bootstrap: str, smtp_url: str
) -> None:
    # A server of the test's own, in a folder the postgres user can reach, kept across
    # the stop so it comes back with its data.
    folder = Path(tempfile.mkdtemp(prefix="boucle-pg-outage-"))
    database = LocalPostgres(data_dir=folder).start()
    try:
        notifier = build_notifier(database.url, kafka_bootstrap, random_id("pg") + ".", smtp_url)
        topics, publisher = notifier.topics, notifier.publisher
        matches = [
            match_event(random_id("m"), random_id("farm"), random_id("shop")) for _ in range(50)
        ]
        group = random_id("notifier")
        with consuming(
            kafka_bootstrap, group, [topics.matches, topics.listings], notifier.handler, publisher
        ) as consumer:
            for event in matches[:10]:
                publisher.publish(topics.matches, event)
            publisher.flush(30)
            wait_for(lambda: alert_count(notifier) >= 2, 30, what="the first alerts")
            database.stop()
            outage_began = time.monotonic()
            for event in matches[10:]:  # these flow while the database is down
                publisher.publish(topics.matches, event)
            publisher.flush(30)
            why = wait_for(lambda: degraded(consumer), 15, what="/health to say it waits")
            assert "OperationalError" in why
            # The outage itself: ten seconds, whatever the consumer tries meanwhile.
            time.sleep(max(0.0, 10 - (time.monotonic() - outage_began)))
            database.start()
            wait_for(lambda: alert_count(notifier) == 100, 60, what="every alert after the outage")
            wait_for(lambda: degraded(consumer) is None, 15, what="/health to be ok again")
        assert message_count(kafka_bootstrap, f"{topics.matches}.dlq") == 0
        with unit_of_work(notifier.sessions) as session:
            pairs = session.execute(select(AlertRow.match_id, AlertRow.listing_id)).all()
        assert len(pairs) == len(set(pairs)) == 100, "both parties of 50 matches, once each"
        assert {match_id for match_id, _ in pairs} == {e.data.match_id for e in matches}  # type: ignore[union-attr]
    finally:
        database.stop()
        shutil.rmtree(folder, ignore_errors=True)


# --- retracted, then found again, in quiet hours ------------------------------------


def test_a_match_retracted_and_found_again_in_quiet_hours_alerts_each_party_once_after_them(
    postgres_url: str, kafka_bootstrap: str, smtp_url: str, sink: SmtpSink
) -> None:
    zone = ZoneInfo("Europe/Luxembourg")
    clock = {"now": datetime(2027, 1, 10, 23, 30, tzinfo=zone).astimezone(UTC)}
    notifier = build_notifier(postgres_url, kafka_bootstrap, random_id("quiet") + ".", smtp_url)
    seller, buyer = random_id("farm"), random_id("canteen")
    quiet = Preferences(email=True, quiet_start=clock_time(22, 0), quiet_end=clock_time(7, 0))
    for org, address in ((seller, "farm@example.org"), (buyer, "canteen@example.org")):
        notifier.organisations.apply(organisation_event(org, address, "en"))
        with unit_of_work(notifier.sessions) as session:
            save_preferences(session, org, CONTACT, quiet)
    handler = MatchAlertHandler(
        notifier.sessions,
        OutcomeRecorder(notifier.topics.deliveries),
        lambda _category: [],
        zone,
        clock=lambda: clock["now"],
    )
    worker = DeliveryWorker(
        notifier.sessions,
        notifier.worker._senders,
        OutcomeRecorder(notifier.topics.deliveries),
        notifier.worker._policy,
        clock=lambda: clock["now"],
    )
    found = match_event(random_id("m"), seller, buyer)
    assert isinstance(found.data, MatchFound)
    offer = found.data.offer
    handler(found)
    # The offer is edited out of the match, then back into it (version 3).
    settled = MatchesSettled(offer.listing_id, "offer", 2, "published")
    handler(Event(MATCHES_SETTLED, "/boucle/matching", offer.listing_id, settled))
    assert alert_count(notifier, RETRACTED) == 2
    again = dataclasses.replace(found.data, offer=dataclasses.replace(offer, version=3))
    handler(Event(found.type, found.source, found.subject, again))
    assert alert_count(notifier, ACTIVE) == 2

    clock["now"] += timedelta(minutes=15)
    worker.run_once()
    assert sink.received == [], "nothing during quiet hours"
    clock["now"] = datetime(2027, 1, 11, 7, 5, tzinfo=zone).astimezone(UTC)
    wait_for(lambda: worker.run_once() >= 0 and len(sink.received) >= 2, 20, what="the e-mails")
    worker.run_once()
    assert sorted(m["To"] for m in sink.received) == ["canteen@example.org", "farm@example.org"]


# --- poison ------------------------------------------------------------------------------

DEEP = b'{"data":' + b"[" * 100_000 + b"]" * 100_000 + b"}"


def test_a_hundred_thousand_deep_listing_is_dead_lettered_and_the_matcher_keeps_matching(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    exchange = Exchange(kafka_bootstrap, random_id("poison") + ".", random_id("matching"))
    matcher = exchange.start_matcher(tmp_path / "matcher.log")
    reader = MatchReader(kafka_bootstrap, exchange.topics)
    try:
        exchange.publisher.publish_raw(exchange.topics.listings, b"poison", DEEP).get(timeout=30)
        exchange.publish(listing_data("offer-after", "offer", LUXEMBOURG))
        exchange.publish(listing_data("need-after", "need", LUXEMBOURG))
        exchange.flush()
        wait_for(lambda: reader.standing(), 90, what="the pair after the poison")
        assert matcher.poll() is None, "the matcher is still running"
        dlq = f"{exchange.topics.listings}.dlq"
        wait_for(lambda: message_count(kafka_bootstrap, dlq) >= 1, 30, what="the dead letter")
        dead = MatchReader.raw(kafka_bootstrap, dlq)
        assert dead and all(b"nested too deeply" in dict(m.headers)["dlq.error"] for m in dead)
    finally:
        reader.close()
        stop(matcher)
        exchange.publisher.close()


def test_a_hundred_thousand_deep_match_is_dead_lettered_and_the_notifier_carries_on(
    postgres_url: str, kafka_bootstrap: str, smtp_url: str
) -> None:
    notifier = build_notifier(postgres_url, kafka_bootstrap, random_id("poison") + ".", smtp_url)
    topics, publisher = notifier.topics, notifier.publisher
    with consuming(
        kafka_bootstrap, random_id("notifier"), [topics.matches], notifier.handler, publisher
    ) as consumer:
        publisher.publish_raw(topics.matches, b"poison", DEEP).get(timeout=30)
        publisher.publish(topics.matches, match_event(random_id("m"), "farm", "shop"))
        publisher.flush(30)
        wait_for(lambda: alert_count(notifier) == 2, 30, what="the alerts after the poison")
        assert degraded(consumer) is None
    [dead] = MatchReader.raw(kafka_bootstrap, f"{topics.matches}.dlq")
    assert b"nested too deeply" in dict(dead.headers)["dlq.error"]


# --- a frozen broker and a killed matcher ---------------------------------------------------


def test_a_frozen_broker_and_a_killed_matcher_leave_exactly_the_expected_matches(
    tmp_path: Path,
) -> None:
    broker = LocalKafka(data_dir=tmp_path / "kafka").start()
    try:
        exchange = Exchange(broker.bootstrap_servers, random_id("freeze") + ".", random_id("m"))
        listings = _grid_of_listings(150)
        for data in listings:
            exchange.publish(data)
        exchange.flush()
        reader = MatchReader(broker.bootstrap_servers, exchange.topics)
        first = exchange.start_matcher(tmp_path / "first.log", instance="one")
        wait_for(lambda: _settled(reader), 120, what="the first committed batch")
        broker.freeze()
        first.send_signal(signal.SIGKILL)
        first.wait()
        handled_when_killed = len(_settled(reader))
        time.sleep(20)  # the broker stays frozen for 20 s
        broker.thaw()
        second = exchange.start_matcher(tmp_path / "second.log", instance="one")
        try:
            wait_for(lambda: len(_settled(reader)) >= len(listings), 180, what="every listing")
        finally:
            stop(second)
        settled = _settled(reader)
        assert handled_when_killed < len(listings), "the kill landed before the end"
        assert len(settled) == len(set(settled)) == len(listings), "each listing settled once"
        found = [(key, e.data) for key, e in reader.keyed() if isinstance(e.data, MatchFound)]
        assert len(found) == len({(key, m.match_id) for key, m in found}), "no batch twice"
        assert {(m.offer.listing_id, m.need.listing_id) for _, m in found} == _oracle(listings)
        reader.close()
        exchange.publisher.close()
    finally:
        broker.thaw()
        broker.stop()


def _settled(reader: MatchReader) -> list[str]:
    return [e.data.listing_id for e in reader.poll() if isinstance(e.data, MatchesSettled)]


def _grid_of_listings(per_kind: int) -> list[dict[str, Any]]:
    listings = []
    for n in range(per_kind):
        lat, lon = 49.45 + (n % 15) * 0.02, 5.95 + (n // 15) * 0.03
        listings.append(listing_data(f"offer-{n}", "offer", (lat, lon)))
        listings.append(
            listing_data(f"need-{n}", "need", (lat + 0.01, lon + 0.012), radius_km=4.0 + n % 5)
        )
    return listings


def _oracle(listings: list[dict[str, Any]]) -> set[tuple[str, str]]:
    active = []
    for data in listings:
        typed = typed_data("boucle.listing.published", data)
        assert isinstance(typed, ListingChanged)
        active.append(active_listing_from(typed))
    now = datetime.now(UTC).timestamp()
    return {
        (o.id, n.id)
        for o in active
        if o.kind == "offer"
        for n in active
        if n.kind == "need" and evaluate(o, n, TAXONOMY, now) is not None
    }


# --- expiry ----------------------------------------------------------------------------


def test_an_offer_expiring_two_seconds_after_posting_loses_its_matches_everywhere(
    postgres_url: str, kafka_bootstrap: str, smtp_url: str, sink: SmtpSink, tmp_path: Path
) -> None:
    prefix = random_id("expiry") + "."
    exchange = Exchange(kafka_bootstrap, prefix, random_id("matching"))
    topics = exchange.topics
    _, listing_sessions = service_database(postgres_url, "listings")
    service = ListingService(listing_sessions, topics.listings)
    publisher = KafkaPublisher(kafka_bootstrap, "listings-relay-test")
    relay = OutboxRelay(listing_sessions, publisher, ListingsOutboxRow)
    notifier = build_notifier(postgres_url, kafka_bootstrap, prefix, smtp_url)
    farm, canteen = random_id("farm"), random_id("canteen")
    notifier.organisations.apply(organisation_event(farm, "farm@example.org", "en"))
    notifier.organisations.apply(organisation_event(canteen, "canteen@example.org", "en"))
    with unit_of_work(notifier.sessions) as session:
        save_preferences(session, canteen, CONTACT, Preferences(email=True, digest=True))
    projection = MatchProjection(listing_sessions)
    matcher = exchange.start_matcher(tmp_path / "matcher.log")
    reader = MatchReader(kafka_bootstrap, topics)
    try:
        with (
            consuming(
                kafka_bootstrap,
                random_id("notifier"),
                [topics.matches, topics.listings],
                notifier.handler,
                notifier.publisher,
            ),
            consuming(kafka_bootstrap, random_id("lm"), [topics.matches], projection, publisher),
        ):
            # The matcher is up and caught up before the two-second clock starts.
            warm = service.create(
                _fields("need", "Warm-up", category="ewc-170405"), Principal(canteen)
            )
            wait_for(
                lambda: relay.relay_once() >= 0 and reader.settled(warm.id, 1),
                120,
                what="the matcher to be running",
            )
            until = datetime.now(UTC) + timedelta(seconds=2)
            offer = service.create(
                _fields("offer", "Apples, last crates", available_until=until), Principal(farm)
            )
            need = service.create(_fields("need", "Apples for the canteen"), Principal(canteen))
            wait_for(
                lambda: relay.relay_once() >= 0 and projection.current(need.id),
                60,
                what="the match",
            )
            wait_for(lambda: alert_count(notifier, ACTIVE) == 2, 30, what="both alerts")
            assert reader.standing()

            wait_for(lambda: service.expire_due() == 1, 10, what="the offer to expire")
            wait_for(
                lambda: relay.relay_once() >= 0 and alert_count(notifier, RETRACTED) == 2,
                60,
                what="the retractions",
            )
            wait_for(
                lambda: not projection.current(need.id), 30, what="the listing page to drop it"
            )
            wait_for(
                lambda: reader.settled(offer.id, offer.version + 1) and not reader.standing(),
                30,
                what="the monitor's view",
            )
            assert projection.current(offer.id) == []
            notifier.worker.send_digests_now()
            for _ in range(3):
                notifier.deliver_due()
            digests = [m for m in sink.received if m["To"] == "canteen@example.org"]
            assert not any("Apples, last crates" in str(m) for m in digests), (
                "no digest mentions it"
            )
    finally:
        reader.close()
        stop(matcher)
        publisher.close()


def _fields(kind: str, title: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "title": title,
        "category": "ewc-150103",
        "quantity": 20.0,
        "unit": "pallets",
        "location": {
            "lat": LUXEMBOURG[0],
            "lon": LUXEMBOURG[1],
            "place": "Luxembourg",
            "country": "LU",
        },
        "radius_km": 30.0 if kind == "need" else 0.0,
        **extra,
    }
