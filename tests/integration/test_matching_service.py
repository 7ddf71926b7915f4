"""A real matcher process against the real broker: matches found, explained and retracted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shared.events import Event
from tests.conftest import random_id
from tests.integration.kafka_helpers import wait_for
from tests.integration.test_matching_support import Exchange, MatchReader, listing_data, stop

pytestmark = pytest.mark.kafka

METZ = (49.1193, 6.1757)
LUXEMBOURG = (49.6116, 6.1319)
THIONVILLE = (49.3579, 6.1683)


@pytest.fixture(scope="module")
def exchange(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exchange]:
    """One matcher process, started after an offer is already on the topic."""
    market = Exchange(kafka_bootstrap, random_id("match") + ".", random_id("matching"))
    market.publish(listing_data("offer-metz", "offer", METZ))
    market.flush()
    matcher = market.start_matcher(tmp_path_factory.mktemp("matcher") / "matcher.log")
    try:
        yield market
    finally:
        stop(matcher)
        market.publisher.close()


@pytest.fixture
def reader(exchange: Exchange) -> Iterator[MatchReader]:
    matches = MatchReader(exchange.bootstrap, exchange.topics)
    yield matches
    matches.close()


def events_about(reader: MatchReader, listing_id: str, kind: str) -> list[Event]:
    """The latest event of each match of the listing, of the given kind (found/retracted).

    A match may be published more than once (each side's event publishes it); the
    deterministic id makes the repeats one.
    """
    latest = {
        e.subject: e
        for e in reader.poll()
        if listing_id in (e.data["offer"]["listing_id"], e.data["need"]["listing_id"])
    }
    return [e for e in latest.values() if e.type.endswith(kind)]


def test_a_need_posted_after_the_matcher_started_meets_the_offer_it_rebuilt_from_kafka(
    exchange: Exchange, reader: MatchReader
) -> None:
    exchange.publish(listing_data("need-lux", "need", LUXEMBOURG, category="ewc-1501"))
    exchange.flush()
    [found] = wait_for(lambda: events_about(reader, "need-lux", "found"), 90, what="the match")
    assert found.data["offer"]["listing_id"] == "offer-metz"
    reasons = found.data["reasons"]
    assert 54 < reasons["distance_km"] < 56
    assert reasons["category_relation"] == "parent"
    assert reasons["cross_border"] is True and reasons["countries"] == ["FR", "LU"]
    assert 0 < found.data["score"] <= 1


def test_a_need_moved_out_of_range_has_its_match_retracted_with_the_reason(
    exchange: Exchange, reader: MatchReader
) -> None:
    exchange.publish(listing_data("need-thio", "need", THIONVILLE, radius_km=50.0))
    exchange.flush()
    wait_for(lambda: events_about(reader, "need-thio", "found"), 60, what="the first match")
    exchange.publish(listing_data("need-thio", "need", THIONVILLE, version=2, radius_km=10.0))
    exchange.flush()
    [retracted] = wait_for(
        lambda: events_about(reader, "need-thio", "retracted"), 60, what="the retraction"
    )
    assert retracted.data["retraction_reason"] == "need updated: out of range"
    assert retracted.data["offer"]["listing_id"] == "offer-metz"


def test_a_withdrawn_offer_has_each_of_its_matches_retracted(
    exchange: Exchange, reader: MatchReader
) -> None:
    metals: dict[str, Any] = {"category": "ewc-170405"}
    exchange.publish(listing_data("offer-w", "offer", LUXEMBOURG, **metals))
    for n in range(3):
        exchange.publish(listing_data(f"need-w{n}", "need", METZ, radius_km=60.0 + n, **metals))
    exchange.flush()
    wait_for(lambda: len(events_about(reader, "offer-w", "found")) >= 3, 60, what="3 matches")
    exchange.publish(
        listing_data("offer-w", "offer", LUXEMBOURG, version=2, status="withdrawn", **metals)
    )
    exchange.flush()
    retracted = wait_for(
        lambda: (
            [e for e in events_about(reader, "offer-w", "retracted")][2:]
            and events_about(reader, "offer-w", "retracted")
        ),
        60,
        what="3 retractions",
    )
    assert {e.data["need"]["listing_id"] for e in retracted} == {"need-w0", "need-w1", "need-w2"}
    assert {e.data["retraction_reason"] for e in retracted} == {"offer withdrawn"}
