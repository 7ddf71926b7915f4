"""The replica's snapshot: read back it finds what the replica found; anything doubtful is
ignored (a full rebuild follows), never read into a wrong replica."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.workload import stream
from matching import snapshot
from matching.index import ListingIndex
from matching.snapshot import Positions
from shared.taxonomy import Taxonomy

TAXONOMY = Taxonomy.load_default()
NOW = 1_800_000_000.0
TOPIC = "listings"
POSITIONS = Positions(TOPIC, "a-topic-id", {0: 120, 1: 0, 2: 77})


@pytest.fixture(scope="module")
def index() -> ListingIndex:
    """3,000 workload listings, a third of the first 900 removed again (rows reused)."""
    built = ListingIndex(TAXONOMY)
    listings = list(stream(3000, seed=1, now=NOW))
    for listing in listings:
        built.put(listing)
    for listing in listings[:900:3]:
        built.remove(listing.id)
    for listing in stream(200, seed=4, now=NOW, prefix="late-"):
        built.put(listing)
    return built


def saved(index: ListingIndex, directory: Path) -> Path:
    return snapshot.save(directory, index.table.export(), POSITIONS, TAXONOMY)


def test_a_restored_replica_finds_every_match_the_live_one_finds(
    index: ListingIndex, tmp_path: Path
) -> None:
    saved(index, tmp_path)
    loaded = snapshot.load(tmp_path, TOPIC, TAXONOMY)
    assert loaded is not None
    restored, positions = loaded
    assert positions == POSITIONS
    assert len(restored) == len(index)
    for query in stream(300, seed=2, now=NOW):
        assert restored.find_matches(query, NOW) == index.find_matches(query, NOW)
    # It goes on like any replica: listings come, change and go.
    newcomer = next(iter(stream(1, seed=9, now=NOW, prefix="new-")))
    restored.put(newcomer)
    assert restored.get(newcomer.id) == newcomer
    some = next(iter(index.table.row_of))
    assert restored.remove(some) == index.get(some)


def test_writing_replaces_the_previous_snapshot_whole_and_leaves_no_temporary_file(
    index: ListingIndex, tmp_path: Path
) -> None:
    empty = ListingIndex(TAXONOMY)
    saved(empty, tmp_path)
    saved(index, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [snapshot.FILE_NAME]
    loaded = snapshot.load(tmp_path, TOPIC, TAXONOMY)
    assert loaded is not None and len(loaded[0]) == len(index)


def test_no_snapshot_means_a_full_rebuild(tmp_path: Path) -> None:
    assert snapshot.load(tmp_path / "never-written", TOPIC, TAXONOMY) is None


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: data[:-40], id="end-cut"),
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: b"not a snapshot at all" * 100, id="garbage"),
        pytest.param(
            lambda data: (
                data[: len(data) // 3]
                + bytes([data[len(data) // 3] ^ 0xFF])
                + data[len(data) // 3 + 1 :]
            ),
            id="one-byte-flipped",
        ),
    ],
)
def test_a_damaged_snapshot_is_ignored(
    index: ListingIndex, tmp_path: Path, damage: object, caplog: pytest.LogCaptureFixture
) -> None:
    path = saved(index, tmp_path)
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    assert snapshot.load(tmp_path, TOPIC, TAXONOMY) is None
    assert "full rebuild" in caplog.text


def test_a_snapshot_of_another_topic_is_ignored(index: ListingIndex, tmp_path: Path) -> None:
    saved(index, tmp_path)
    assert snapshot.load(tmp_path, "other.listings", TAXONOMY) is None


def test_a_snapshot_of_another_format_or_layout_is_ignored(
    index: ListingIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved(index, tmp_path)
    monkeypatch.setattr(snapshot, "FORMAT", snapshot.FORMAT + 1)
    assert snapshot.load(tmp_path, TOPIC, TAXONOMY) is None
    monkeypatch.undo()
    monkeypatch.setattr(snapshot, "LAYOUT", (*snapshot.LAYOUT, ("co2", np.dtype("f8").str)))
    assert snapshot.load(tmp_path, TOPIC, TAXONOMY) is None
    monkeypatch.undo()
    levels, classes, class_levels = snapshot.FILING
    monkeypatch.setattr(snapshot, "FILING", ((*levels, 8), classes, class_levels))
    assert snapshot.load(tmp_path, TOPIC, TAXONOMY) is None


def test_a_snapshot_written_under_another_taxonomy_is_ignored(
    index: ListingIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved(index, tmp_path)
    before = snapshot.fingerprint(TAXONOMY)
    one_less = list(TAXONOMY.all())[:-1]
    monkeypatch.setattr(TAXONOMY, "all", lambda: iter(one_less))
    assert snapshot.fingerprint(TAXONOMY) != before
    assert snapshot.load(tmp_path, TOPIC, TAXONOMY) is None
