"""A real matcher process against the real broker: matches found, explained and retracted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shared.contracts import MatchFound
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


def standing_about(reader: MatchReader, listing_id: str) -> list[MatchFound]:
    """The matches of the listing a reader shows now (each match once, newest evaluation)."""
    return [m for m in reader.standing().values() if m.side(listing_id) is not None]


def test_a_need_posted_after_the_matcher_started_meets_the_offer_it_rebuilt_from_kafka(
    exchange: Exchange, reader: MatchReader
) -> None:
    exchange.publish(listing_data("need-lux", "need", LUXEMBOURG, category="ewc-1501"))
    exchange.flush()
    [found] = wait_for(lambda: standing_about(reader, "need-lux"), 90, what="the match")
    assert found.offer.listing_id == "offer-metz"
    assert 54 < found.reasons.distance_km < 56
    assert found.reasons.category_relation == "parent"
    assert found.reasons.cross_border is True and found.reasons.countries == ("FR", "LU")
    assert 0 < found.score <= 1
    assert (found.offer.version, found.need.version) == (1, 1)


def test_a_need_moved_out_of_range_loses_its_match(exchange: Exchange, reader: MatchReader) -> None:
    exchange.publish(listing_data("need-thio", "need", THIONVILLE, radius_km=50.0))
    exchange.flush()
    wait_for(lambda: standing_about(reader, "need-thio"), 60, what="the first match")
    exchange.publish(listing_data("need-thio", "need", THIONVILLE, version=2, radius_km=10.0))
    exchange.flush()
    wait_for(lambda: reader.settled("need-thio", 2), 60, what="the settlement of version 2")
    assert standing_about(reader, "need-thio") == []


def test_a_withdrawn_offer_takes_each_of_its_matches_with_it(
    exchange: Exchange, reader: MatchReader
) -> None:
    metals: dict[str, Any] = {"category": "ewc-170405"}
    exchange.publish(listing_data("offer-w", "offer", LUXEMBOURG, **metals))
    for n in range(3):
        exchange.publish(listing_data(f"need-w{n}", "need", METZ, radius_km=60.0 + n, **metals))
    exchange.flush()
    standing = wait_for(
        lambda: len(standing_about(reader, "offer-w")) >= 3 and standing_about(reader, "offer-w"),
        60,
        what="3 matches",
    )
    assert {m.need.listing_id for m in standing} == {"need-w0", "need-w1", "need-w2"}
    exchange.publish(
        listing_data("offer-w", "offer", LUXEMBOURG, version=2, status="withdrawn", **metals)
    )
    exchange.flush()
    wait_for(lambda: reader.settled("offer-w", 2), 60, what="the settlement of the withdrawal")
    assert standing_about(reader, "offer-w") == []
