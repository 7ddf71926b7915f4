"""Real matcher processes restarting against the real broker: from a snapshot they read only
the tail and end with the matches a cold start gives; a damaged snapshot means a full
rebuild; a consumer group without offsets publishes no match a second time."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from matching.index import ListingIndex
from matching.replica import active_listing_from
from matching.snapshot import FILE_NAME
from shared.contracts import ListingChanged, MatchesSettled, MatchFound
from shared.events import typed_data
from shared.taxonomy import Taxonomy
from tests.conftest import random_id
from tests.integration.kafka_helpers import wait_for
from tests.integration.test_matching_support import Exchange, MatchReader, listing_data, stop

pytestmark = pytest.mark.kafka

LUXEMBOURG = (49.6116, 6.1319)
ESCH = (49.4958, 5.9806)
METZ = (49.1193, 6.1757)
THIONVILLE = (49.3579, 6.1683)
SAARBRUCKEN = (49.2354, 6.9969)


def first_listings() -> list[dict[str, Any]]:
    return [
        listing_data("offer-lux", "offer", LUXEMBOURG),
        listing_data("offer-metz", "offer", METZ),
        listing_data("offer-saar", "offer", SAARBRUCKEN, category="ewc-170201"),
        listing_data("need-esch", "need", ESCH, radius_km=40.0),
        listing_data("need-thio", "need", THIONVILLE, radius_km=60.0),
        listing_data("need-saar", "need", SAARBRUCKEN, category="ewc-1702", radius_km=20.0),
    ]


def tail_listings() -> list[dict[str, Any]]:
    """Written while no matcher runs: new ones, an edit out of range, a withdrawal."""
    return [
        listing_data("need-new", "need", METZ, radius_km=30.0),
        listing_data("offer-new", "offer", THIONVILLE),
        listing_data("need-esch", "need", ESCH, version=2, radius_km=5.0),
        listing_data("offer-metz", "offer", METZ, version=2, status="withdrawn"),
    ]


def messages(log: Path) -> list[str]:
    lines = log.read_text(errors="replace").splitlines()
    return [json.loads(line)["message"] for line in lines if line.startswith("{")]


def events_read_at_start(log: Path) -> int:
    for message in messages(log):
        found = re.match(r"replica caught up from (\d+) listing events", message)
        if found:
            return int(found.group(1))
    raise AssertionError(f"the matcher did not log its start: {messages(log)[-5:]}")


def cold_start_pairs(states: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """The pairs a matcher rebuilt from the whole topic finds: every final state indexed."""
    final: dict[str, ListingChanged] = {}
    for data in states:
        listing = typed_data("boucle.listing.updated", data)
        assert isinstance(listing, ListingChanged)
        final[listing.id] = listing
    index = ListingIndex(Taxonomy.load_default())
    for listing in final.values():
        if listing.is_published:
            index.put(active_listing_from(listing))
    now = listing_data("x", "need", METZ)["updated_at"].timestamp()
    return {
        (match.offer.id, match.need.id)
        for listing in final.values()
        if (held := index.get(listing.id)) is not None
        for match in index.find_matches(held, now)
    }


def standing_pairs(reader: MatchReader) -> set[tuple[str, str]]:
    return {(m.offer.listing_id, m.need.listing_id) for m in reader.standing().values()}


@pytest.fixture
def market(kafka_bootstrap: str) -> Iterator[Exchange]:
    exchange = Exchange(kafka_bootstrap, random_id("restart") + ".", random_id("matching"))
    yield exchange
    exchange.publisher.close()


@pytest.fixture
def reader(market: Exchange) -> Iterator[MatchReader]:
    matches = MatchReader(market.bootstrap, market.topics)
    yield matches
    matches.close()


def run_until_settled(
    market: Exchange, reader: MatchReader, log: Path, states: list[dict[str, Any]], **env: str
) -> subprocess.Popen[bytes]:
    matcher = market.start_matcher(log, instance="restart", **env)
    for data in states:
        wait_for(
            lambda d=data: reader.settled(d["id"], d["version"]),  # type: ignore[misc]
            90,
            what=f"the settlement of {data['id']} v{data['version']}",
        )
    return matcher


def test_a_restart_from_a_snapshot_reads_only_the_tail_and_ends_as_a_cold_start_would(
    market: Exchange, reader: MatchReader, tmp_path: Path
) -> None:
    snapshots = tmp_path / "snapshots"
    first, tail = first_listings(), tail_listings()
    for data in first:
        market.publish(data)
    market.flush()
    before = run_until_settled(
        market, reader, tmp_path / "a.log", first, MATCHER_SNAPSHOT_DIR=str(snapshots)
    )
    stop(before)  # SIGTERM: the last snapshot is written on the way out
    assert (snapshots / FILE_NAME).exists()
    for data in tail:
        market.publish(data)
    market.flush()
    after = run_until_settled(
        market, reader, tmp_path / "b.log", tail, MATCHER_SNAPSHOT_DIR=str(snapshots)
    )
    try:
        assert any("restored from its snapshot" in m for m in messages(tmp_path / "b.log"))
        assert events_read_at_start(tmp_path / "b.log") == len(tail)
        assert standing_pairs(reader) == cold_start_pairs(first + tail)
        assert ("offer-new", "need-new") in standing_pairs(reader)
        assert not any("offer-metz" in pair for pair in standing_pairs(reader))
    finally:
        stop(after)


def test_a_damaged_snapshot_means_a_full_rebuild_that_still_finds_the_old_listings(
    market: Exchange, reader: MatchReader, tmp_path: Path
) -> None:
    snapshots = tmp_path / "snapshots"
    first = first_listings()
    for data in first:
        market.publish(data)
    market.flush()
    stop(
        run_until_settled(
            market, reader, tmp_path / "a.log", first, MATCHER_SNAPSHOT_DIR=str(snapshots)
        )
    )
    path = snapshots / FILE_NAME
    damaged = bytearray(path.read_bytes())
    damaged[len(damaged) // 3] ^= 0xFF
    path.write_bytes(bytes(damaged))
    newcomer = listing_data("need-new", "need", METZ, radius_km=30.0)
    market.publish(newcomer)
    market.flush()
    after = run_until_settled(
        market, reader, tmp_path / "b.log", [newcomer], MATCHER_SNAPSHOT_DIR=str(snapshots)
    )
    try:
        logged = messages(tmp_path / "b.log")
        assert any("unreadable" in m and "full rebuild" in m for m in logged)
        assert events_read_at_start(tmp_path / "b.log") == len(first) + 1
        assert standing_pairs(reader) == cold_start_pairs([*first, newcomer])
    finally:
        stop(after)


def test_a_group_without_offsets_resumes_after_the_last_handled_listing(
    market: Exchange, reader: MatchReader, tmp_path: Path
) -> None:
    first = first_listings()
    for data in first:
        market.publish(data)
    market.flush()
    stop(run_until_settled(market, reader, tmp_path / "a.log", first))
    published_before = len(reader.poll())
    # A renamed group (or one whose offsets expired): nothing committed under this name.
    market.group = random_id("renamed")
    newcomer = listing_data("need-new", "need", METZ, radius_km=30.0)
    market.publish(newcomer)
    market.flush()
    after = run_until_settled(market, reader, tmp_path / "b.log", [newcomer])
    try:
        later = reader.events[published_before:]
        settled = [e.data.listing_id for e in later if isinstance(e.data, MatchesSettled)]
        assert settled == ["need-new"], "only the new listing was handled"
        found = [e.data for e in later if isinstance(e.data, MatchFound)]
        assert {m.offer.listing_id for m in found} == {"offer-metz"}
        assert {m.need.listing_id for m in found} == {"need-new"}
    finally:
        stop(after)
