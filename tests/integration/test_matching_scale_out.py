"""Two matchers in one group, one killed with SIGKILL mid-stream: no match goes missing.

Each matcher handles the partitions the group gives it, but looks pairs up in a full
replica of the listings, so a pair whose sides fell in different partitions is found by
whichever is handled second. When one matcher dies, its uncommitted work is redelivered to
the survivor; the set of match ids on the topic must equal the expected set exactly.
"""

from __future__ import annotations

import itertools
import signal
import time
from pathlib import Path

import pytest

from bench.workload import event_data, generate
from matching.domain import ActiveListing
from matching.index import ListingIndex
from shared.taxonomy import Taxonomy
from tests.conftest import random_id
from tests.integration.kafka_helpers import wait_for
from tests.integration.test_matching_support import Exchange, MatchReader, stop

pytestmark = pytest.mark.kafka

LISTINGS = 3000


def handled(log: Path) -> int:
    """Listing events the matcher logged as handled."""
    return log.read_text(errors="replace").count('"message": "listing ')


def expected_matches(listings: list[ActiveListing], now: float) -> set[str]:
    """Every pair the rules allow (the index is held equal to the brute-force oracle)."""
    index = ListingIndex(Taxonomy.load_default())
    for listing in listings:
        index.put(listing)
    return {m.id for listing in listings for m in index.find_matches(listing, now)}


def test_a_matcher_killed_mid_stream_loses_no_match(kafka_bootstrap: str, tmp_path: Path) -> None:
    listings = generate(LISTINGS, seed=7, now=time.time(), radius_km=(2.0, 30.0))
    expected = expected_matches(listings, time.time())
    assert len(expected) > 1000
    market = Exchange(kafka_bootstrap, random_id("scale") + ".", random_id("matching"))
    logs = [tmp_path / "matcher-a.log", tmp_path / "matcher-b.log"]
    # A short transaction timeout: the killed one's open transaction would otherwise hold
    # back every read_committed reader of its partitions for a minute.
    doomed, survivor = (
        market.start_matcher(log, MATCHER_TRANSACTION_TIMEOUT_MS="10000") for log in logs
    )
    reader = MatchReader(kafka_bootstrap, market.topics)
    try:
        feed = iter(listings)
        # Trickle listings in until both matchers own partitions and have worked on them
        # (the first to join the group may take every partition until the second arrives).
        deadline = time.monotonic() + 120
        while not all(handled(log) > 0 for log in logs):
            assert time.monotonic() < deadline, "both matchers never got work"
            for listing in itertools.islice(feed, 20):
                market.publish(event_data(listing))
            market.flush()
            time.sleep(0.5)
        rest = list(feed)
        second, third = rest[: len(rest) // 2], rest[len(rest) // 2 :]
        before = handled(logs[0])
        for listing in second:
            market.publish(event_data(listing))
        market.flush()
        wait_for(lambda: handled(logs[0]) > before + 50, 60, what="the doomed one mid-stream")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)
        for listing in third:
            market.publish(event_data(listing))
        market.flush()
        published = wait_for(
            lambda: (found := reader.found_ids()) >= expected and found, 150, what="every match"
        )
        assert published == expected
        assert survivor.poll() is None
        assert handled(logs[0]) < LISTINGS  # the doomed one really left work behind
    finally:
        reader.close()
        stop(doomed)
        stop(survivor)
        market.publisher.close()
