"""The matcher's replica on disk, with the topic positions it reflects.

A restart reads the snapshot and then only the tail of the listings topic after the
recorded positions, instead of the whole topic. The rules that keep that safe:

- consistent: the table and the positions are copied together, between two catch-ups,
  when the replica holds exactly the events before those positions;
- atomic: written to a temporary file in the same directory, flushed to disk, then
  renamed over the previous snapshot; a crash leaves the old one or the new one whole;
- versioned: `FORMAT`, the table's column layout, the H3 filing scheme (the cells are
  stored too) and the taxonomy make a fingerprint; a snapshot of another one is ignored
  (a new release rebuilds once, then writes its own);
- checked: a truncated or damaged file fails the zip CRC-32 of its members or the reading
  of its parts and is ignored; so is one of another topic (name or Kafka topic id) or
  whose positions the topic no longer has (services/matcher.py asks the broker).

Ignored means a full rebuild from the topic, as without a snapshot: never a wrong replica.
The file is an uncompressed .npz (numpy arrays, no pickle), read with allow_pickle=False.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from matching.index import FILING, CountryOf, ListingIndex, filing_cells
from matching.table import LAYOUT, ListingTable, TableState
from shared.taxonomy import Taxonomy

log = logging.getLogger(__name__)

#: Bump when the file's structure changes: older snapshots are then ignored.
FORMAT = 1
FILE_NAME = "replica.npz"


@dataclass(frozen=True)
class Positions:
    """Where the replica stands in its topic: partition -> the next offset to read."""

    topic: str
    topic_id: str | None
    offsets: dict[int, int] = field(default_factory=dict)


def fingerprint(taxonomy: Taxonomy) -> str:
    """What a stored table must have been written under to be read by this code."""
    parts = [str(FORMAT), repr(LAYOUT), repr(FILING)]
    parts += [category.id for category in taxonomy.all()]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def save(directory: Path, state: TableState, positions: Positions, taxonomy: Taxonomy) -> Path:
    """Write the snapshot atomically; returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    meta = {
        "format": FORMAT,
        "fingerprint": fingerprint(taxonomy),
        "topic": positions.topic,
        "topic_id": positions.topic_id,
        "offsets": {str(p): o for p, o in positions.offsets.items()},
        "listings": len(state.ids),
    }
    strings = {"ids": state.ids, "titles": state.titles, "places": state.places, **state.codes}
    arrays: dict[str, Any] = {f"column_{name}": column for name, column in state.columns.items()}
    arrays["meta"] = np.frombuffer(orjson.dumps(meta), dtype=np.uint8)
    arrays["strings"] = np.frombuffer(orjson.dumps(strings), dtype=np.uint8)
    # The H3 cells too (computed here, on the writer's thread): a restore then files rows
    # without asking H3 again, which is most of its time.
    c = state.columns
    arrays["cells"] = filing_cells(
        c["kind"].tolist(), c["lat"].tolist(), c["lon"].tolist(), c["radius"].tolist()
    )
    target = directory / FILE_NAME
    handle, temporary = tempfile.mkstemp(prefix=".replica-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **arrays)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_directory(directory)
    return target


def load(
    directory: Path, topic: str, taxonomy: Taxonomy, country_of: CountryOf | None = None
) -> tuple[ListingIndex, Positions] | None:
    """The index and positions of the snapshot in `directory`, or None (and why, logged)."""
    path = directory / FILE_NAME
    if not path.exists():
        log.info("no replica snapshot at %s: full rebuild", path)
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            meta = orjson.loads(stored["meta"].tobytes())
            why = _incompatible(meta, topic, taxonomy)
            if why:
                log.warning("replica snapshot %s ignored (%s): full rebuild", path, why)
                return None
            strings = orjson.loads(stored["strings"].tobytes())
            columns = {name: stored[f"column_{name}"] for name, _ in LAYOUT}
            cells = stored["cells"]
        state = TableState(
            columns=columns,
            ids=strings["ids"],
            titles=strings["titles"],
            places=strings["places"],
            codes={k: strings[k] for k in ("categories", "organisations", "units", "countries")},
        )
        if len(state.ids) != meta["listings"]:
            raise ValueError(f"{len(state.ids)} listings where {meta['listings']} were written")
        index = ListingIndex.restored(taxonomy, ListingTable.restore(state), country_of, cells)
        offsets = {int(p): int(o) for p, o in meta["offsets"].items()}
    except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        log.warning("replica snapshot %s unreadable (%r): full rebuild", path, exc)
        return None
    return index, Positions(meta["topic"], meta["topic_id"], offsets)


def _incompatible(meta: dict[str, Any], topic: str, taxonomy: Taxonomy) -> str | None:
    if meta.get("format") != FORMAT:
        return f"format {meta.get('format')}, this code reads {FORMAT}"
    if meta.get("fingerprint") != fingerprint(taxonomy):
        return "written by a release with another table layout or taxonomy"
    if meta.get("topic") != topic:
        return f"of topic {meta.get('topic')}, not {topic}"
    return None


def _sync_directory(directory: Path) -> None:
    # The rename itself must reach the disk, or a power cut could bring back the old file.
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
