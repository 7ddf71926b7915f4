"""Matching benchmark: one new listing against N active listings, index vs brute force.

Run: .venv/bin/python -m bench.matching_bench [--sizes 1000 10000 100000 1000000]
Prints a Markdown table per size; docs/benchmarks.md records a run.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import time
from collections.abc import Callable, Sequence
from functools import partial

from bench.workload import generate, stream
from matching.bruteforce import brute_force_matches
from matching.domain import ActiveListing
from matching.index import ListingIndex
from shared.taxonomy import Taxonomy

log = logging.getLogger("bench")
NOW = 1_800_000_000.0
QUERIES = 1000


def rss_bytes() -> int:
    """Resident set size of this process (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(call: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def load(size: int) -> tuple[ListingIndex, float, float]:
    """An index of `size` workload listings; (index, seconds, resident bytes per listing)."""
    taxonomy = Taxonomy.load_default()
    gc.collect()
    before = rss_bytes()
    index = ListingIndex(taxonomy)
    start = time.perf_counter()
    for listing in stream(size, seed=1, now=NOW):
        index.put(listing)
    seconds = time.perf_counter() - start
    gc.collect()
    return index, seconds, (rss_bytes() - before) / size


def measure(size: int, brute_sample: int) -> dict[str, float]:
    index, load_s, per_listing = load(size)
    queries = generate(QUERIES, seed=2, now=NOW)
    times: list[float] = []
    candidates: list[float] = []
    matches: list[float] = []
    for listing in queries:
        start = time.perf_counter()
        found = index.find(listing, NOW)
        times.append(time.perf_counter() - start)
        candidates.append(found.candidates)
        matches.append(len(found))
    materialised = [timed(partial(index.find_matches, q, NOW))[0] for q in queries[:200]]
    stream_s = sustained(index, size)
    brute = brute_force(size, queries[:brute_sample])
    return {
        "size": size,
        "p50_ms": percentile(times, 0.5) * 1e3,
        "p99_ms": percentile(times, 0.99) * 1e3,
        "materialised_p50_ms": percentile(materialised, 0.5) * 1e3,
        "materialised_p99_ms": percentile(materialised, 0.99) * 1e3,
        "candidates_p50": percentile(candidates, 0.5),
        "candidates_p99": percentile(candidates, 0.99),
        "matches_p50": percentile(matches, 0.5),
        "matches_p99": percentile(matches, 0.99),
        "listings_per_s": stream_s,
        "bytes_per_listing": per_listing,
        "load_per_s": size / load_s,
        **brute,
    }


def sustained(index: ListingIndex, size: int, count: int = 3000) -> float:
    """New listings per second through put + find (what the handler does before publishing)."""
    arrivals = list(stream(count, seed=3, now=NOW, prefix="new-"))
    start = time.perf_counter()
    for listing in arrivals:
        index.put(listing)
        index.find(listing, NOW)
    rate = count / (time.perf_counter() - start)
    for listing in arrivals:
        index.remove(listing.id)
    return rate


def brute_force(size: int, sample: list[ActiveListing]) -> dict[str, float]:
    """Brute force over min(size, 100k) listings; scaled linearly to `size` beyond that."""
    scanned = min(size, 100_000)
    everything = generate(scanned, seed=1, now=NOW)
    taxonomy = Taxonomy.load_default()
    times = [timed(partial(brute_force_matches, q, everything, taxonomy, NOW))[0] for q in sample]
    scale = size / scanned
    return {
        "brute_p50_ms": percentile(times, 0.5) * 1e3 * scale,
        "brute_p99_ms": percentile(times, 0.99) * 1e3 * scale,
        "brute_extrapolated": float(scale > 1),
    }


def main() -> None:
    """Run the sizes asked for and print one line of figures per size."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--brute-sample", type=int, default=20)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for size in args.sizes:
        figures = measure(size, args.brute_sample)
        log.info(" | ".join(f"{k}={v:,.3f}" for k, v in figures.items()))
        gc.collect()


if __name__ == "__main__":
    main()
