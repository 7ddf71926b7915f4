"""A burst of listing events through the notifier and the listings read model.

Both follow the topics a bulk import fills: each new listing brings its
`boucle.listing.published` (the notifier keeps every listing's version, to retract alerts
when one leaves) and the matcher's `boucle.match.settled`. This runs their real handlers
on a real PostgreSQL 15, side by side in one run: one transaction per event (how the
consumers worked before) against one transaction per poll (`handle_many`, runs of
`--run` events, the consumer's `max_poll_records`).

    .venv/bin/python -m bench.consumer_bench --listings 20000
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC

from bench.workload import event_data, generate
from listings.match_projection import MatchProjection
from notifications.handler import MatchAlertHandler
from notifications.outcomes import OutcomeRecorder
from services.devtools.postgres import LocalPostgres
from shared.db import service_database
from shared.event_schemas import MATCHES_SETTLED
from shared.events import Event, typed_data

PUBLISHED = "boucle.listing.published"


def burst(count: int, seed: int) -> list[Event]:
    """Each workload listing's published event, then the matcher's settlement of it."""
    events = []
    for listing in generate(count, seed=seed, now=time.time()):
        data = event_data(listing)
        events.append(Event(PUBLISHED, "/bench", listing.id, typed_data(PUBLISHED, data)))
        settled = {
            "listing_id": listing.id,
            "kind": listing.kind,
            "version": listing.version,
            "status": "published",
        }
        events.append(
            Event(MATCHES_SETTLED, "/bench", listing.id, typed_data(MATCHES_SETTLED, settled))
        )
    return events


def runs(events: list[Event], size: int) -> Iterator[list[Event]]:
    for start in range(0, len(events), size):
        yield events[start : start + size]


def rate(name: str, events: list[Event], handle: Callable[[list[Event]], None], size: int) -> float:
    started = time.perf_counter()
    for run in runs(events, size):
        handle(run)
    seconds = time.perf_counter() - started
    per_second = len(events) / seconds
    print(
        f"| {name} | {size} | {len(events):,} | {seconds:.1f} s | {per_second:,.0f} |", flush=True
    )
    return per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=20_000)
    parser.add_argument("--run", type=int, default=500)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with LocalPostgres() as server:
        _, notifier_db = service_database(server.url, "notifications")
        _, listings_db = service_database(server.url, "listings")
        notifier = MatchAlertHandler(notifier_db, OutcomeRecorder("deliveries"), lambda _c: [], UTC)
        projection = MatchProjection(listings_db)
        print("| handler | events a transaction | events | time | events/s |")
        print("| --- | ---: | ---: | ---: | ---: |")
        # Fresh listings for each measure (other seeds), so none is handled twice.
        one = rate("notifier", burst(args.listings, 1), notifier.handle_many, 1)
        many = rate("notifier", burst(args.listings, 2), notifier.handle_many, args.run)
        settled = [e for e in burst(args.listings, 3) if e.type == MATCHES_SETTLED]
        one_rm = rate("listings read model", settled, projection.handle_many, 1)
        settled = [e for e in burst(args.listings, 4) if e.type == MATCHES_SETTLED]
        many_rm = rate("listings read model", settled, projection.handle_many, args.run)
        print(f"\nnotifier: {many / one:.1f}x; listings read model: {many_rm / one_rm:.1f}x")


if __name__ == "__main__":
    main()
