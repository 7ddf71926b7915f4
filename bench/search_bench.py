"""Search benchmark: the query set against N listings in PostgreSQL, each figure next to
the old search and an exact numpy scan measured in the same run.

Run: .venv/bin/python -m bench.search_bench [--sizes 100000 1000000] [--repeats 20]
Uses DATABASE_URL when set, else starts a local PostgreSQL (services/devtools/postgres.py).

- Data: N listings of the workload (bench/workload.py, seed 7), published, each with a
  description in English, French or German (the category's label in that language), loaded
  with COPY into the migrated listings table, then VACUUM ANALYZE.
- Query set: 3 cities x 10/50/100 km x no filter / a category with its sub-categories
  ("reuse-pallets") / a word ("palette"), page 1 of 20, through `ListingSearch.search`
  (the whole call: SQL, building the listings, geodesic distances of the page).
- Baselines, same data, same run: the old search (kept below as `old_search`: the 5,000
  most recently changed rows in the box, geodesic in Python, ILIKE on the title) and an
  exact numpy scan of columns held in memory (matching/geometry.py's geodesic-exact test).
- Exactness: every query's total and page-1 ids are compared with the numpy scan.
- Python's full garbage collections that land in a timed search are listed with their
  length after the per-query table (each adds ~90 ms to the search it lands in).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import math
import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
from geopy.distance import geodesic
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bench.workload import stream
from listings.domain import Listing
from listings.repository import SqlAlchemyRepository
from listings.search import ListingSearch, SearchPage, SearchQuery
from listings.spatial import ecef_km, stored_cell
from listings.tables import ListingRow
from matching.geometry import within_reach
from services.devtools.postgres import LocalPostgres
from shared.db import service_database, unit_of_work
from shared.taxonomy import Taxonomy

log = logging.getLogger("bench")
CITIES = {"Luxembourg": (49.61, 6.13), "Metz": (49.12, 6.18), "Saarbrücken": (49.23, 7.00)}
RADII = (10.0, 50.0, 100.0)
CATEGORY = "reuse-pallets"
WORD = "palette"
LANGUAGES = ("en", "fr", "de")
COLUMNS = (
    "id",
    "organisation_id",
    "kind",
    "status",
    "title",
    "description",
    "category",
    "quantity",
    "unit",
    "lat",
    "lon",
    "radius_km",
    "version",
    "created_at",
    "updated_at",
    "h3_cell",
    "ecef_x",
    "ecef_y",
    "ecef_z",
)


@dataclass
class Columns:
    """What the numpy scan holds in memory."""

    ids: npt.NDArray[np.str_]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    category: npt.NDArray[np.bool_]
    word: npt.NDArray[np.bool_]


def queries() -> list[SearchQuery]:
    return [
        SearchQuery(
            near=point,
            radius_km=radius,
            category=CATEGORY if what == "category" else None,
            text=WORD if what == "word" else None,
        )
        for point in CITIES.values()
        for radius in RADII
        for what in ("none", "category", "word")
    ]


def label(query: SearchQuery) -> str:
    city = next(name for name, point in CITIES.items() if point == query.near)
    what = "category" if query.category else "word" if query.text else "none"
    return f"{city} {query.radius_km:g} km {what}"


def load(engine: Engine, size: int) -> Columns:
    """COPY `size` workload listings into the listings table; their columns for numpy."""
    taxonomy = Taxonomy.load_default()
    wanted = {CATEGORY, *taxonomy.descendants(CATEGORY)}
    now = datetime(2027, 1, 1, tzinfo=UTC)
    ids, lats, lons, in_category = [], [], [], []
    start = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY listings ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for i, listing in enumerate(stream(size, seed=7)):
                changed = now - timedelta(seconds=i)
                copy.write_row(
                    (
                        listing.id,
                        listing.organisation_id,
                        listing.kind,
                        "published",
                        listing.title,
                        taxonomy.label(listing.category, LANGUAGES[i % 3]),
                        listing.category,
                        listing.quantity,
                        listing.unit,
                        listing.lat,
                        listing.lon,
                        listing.radius_km,
                        1,
                        changed,
                        changed,
                        stored_cell(listing.lat, listing.lon),
                        *ecef_km(listing.lat, listing.lon),
                    )
                )
                ids.append(listing.id)
                lats.append(listing.lat)
                lons.append(listing.lon)
                in_category.append(listing.category in wanted)
        raw.commit()
    finally:
        raw.close()
    log.info("loaded %d listings in %.1f s", size, time.perf_counter() - start)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # Counting from the index alone needs the visibility map, which a VACUUM right
        # after the load does not always set (measured: 0 pages of 5,032): until it is.
        for _ in range(30):
            connection.execute(text("VACUUM ANALYZE listings"))
            visible, pages = connection.execute(
                text("SELECT relallvisible, relpages FROM pg_class WHERE relname = 'listings'")
            ).one()
            if visible >= pages:
                break
            time.sleep(2)
        log.info("visibility map: %d of %d pages all-visible", visible, pages)
        matching = set(
            connection.scalars(
                select(ListingRow.id).where(
                    text(
                        "search_vector @@ (websearch_to_tsquery('english', :w) || "
                        "websearch_to_tsquery('french', :w) || websearch_to_tsquery('german', :w))"
                    ).bindparams(w=WORD)
                )
            )
        )
    log.info("loaded, vacuumed and analysed in %.1f s", time.perf_counter() - start)
    return Columns(
        np.array(ids),
        np.array(lats),
        np.array(lons),
        np.array(in_category),
        np.array([i in matching for i in ids]),
    )


def numpy_scan(columns: Columns, query: SearchQuery) -> tuple[int, list[str]]:
    """Exact total and page-1 ids from columns in memory (the floor)."""
    assert query.near is not None
    mask = np.ones(len(columns.ids), dtype=bool)
    if query.category:
        mask &= columns.category
    if query.text:
        mask &= columns.word
    rows = np.flatnonzero(mask)
    reach = np.full(len(rows), query.radius_km)
    inside, distance = within_reach(query.near, columns.lat[rows], columns.lon[rows], reach)
    found, km = rows[inside], distance[inside]
    first = np.argsort(km, kind="stable")[: query.page_size]
    return len(found), [str(columns.ids[found[i]]) for i in first]


def old_search(sessions: sessionmaker[Session], taxonomy: Taxonomy, query: SearchQuery) -> int:
    """The search before ADR 0008 (git history: listings/search.py), for the same data."""
    assert query.near is not None
    statement = select(ListingRow).where(ListingRow.status == "published")
    if query.category:
        wanted = {query.category, *taxonomy.descendants(query.category)}
        statement = statement.where(ListingRow.category.in_(wanted))
    if query.text:
        statement = statement.where(ListingRow.title.ilike(f"%{query.text}%"))
    lat, lon = query.near
    dlat = query.radius_km / 111.0
    dlon = query.radius_km / (111.0 * max(math.cos(math.radians(lat)), 0.01))
    statement = statement.where(
        ListingRow.lat.between(lat - dlat, lat + dlat),
        ListingRow.lon.between(lon - dlon, lon + dlon),
    )
    statement = statement.order_by(ListingRow.updated_at.desc()).limit(5000)
    with unit_of_work(sessions) as session:
        listings: list[Listing] = SqlAlchemyRepository(session).listings(statement)
    distances = [round(geodesic(query.near, (x.lat, x.lon)).km, 1) for x in listings]
    return sum(1 for d in distances if d <= query.radius_km)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class FullCollections:
    """Python's full garbage collections (generation 2), timed as they happen.

    One walks every object of the process (measured: ~90 ms here, about one per 270
    searches) and is charged to whichever call it lands in: printed, not hidden, so a
    query's p99 can be told from its own cost.
    """

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self._start = 0.0
        gc.callbacks.append(self._note)

    def _note(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds.append(time.perf_counter() - self._start)


COLLECTIONS = FullCollections()


def timings(
    call: Callable[[SearchQuery], object],
    query_set: list[SearchQuery],
    repeats: int,
    collided: list[str] | None = None,
) -> dict[str, list[float]]:
    """Seconds per call, per query, the set shuffled on each round; a full garbage
    collection during a call is noted in `collided` ("91 ms in <query>")."""
    rng = random.Random(1)
    found: dict[str, list[float]] = {label(q): [] for q in query_set}
    for _ in range(repeats):
        for query in rng.sample(query_set, len(query_set)):
            before = len(COLLECTIONS.seconds)
            start = time.perf_counter()
            call(query)
            found[label(query)].append(time.perf_counter() - start)
            if collided is not None:
                pauses = COLLECTIONS.seconds[before:]
                collided += [f"{pause * 1000:.0f} ms in {label(query)}" for pause in pauses]
    return found


def throughput(
    call: Callable[[SearchQuery], object], query_set: list[SearchQuery], clients: int
) -> float:
    """Searches per second with `clients` threads each running the set twice."""
    work = query_set * 2

    def client() -> None:
        for query in work:
            call(query)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return clients * len(work) / (time.perf_counter() - start)


def summary(name: str, found: dict[str, list[float]]) -> str:
    every = [t for values in found.values() for t in values]
    worst = max(found, key=lambda key: percentile(found[key], 0.99))
    return (
        f"| {name} | {percentile(every, 0.5) * 1000:.1f} ms"
        f" | {percentile(every, 0.99) * 1000:.1f} ms"
        f" | {percentile(found[worst], 0.99) * 1000:.1f} ms ({worst}) | {len(every)} |"
    )


def measure(url: str, size: int, repeats: int, old_repeats: int) -> None:
    engine, sessions = service_database(url, "listings")
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE listings"))
    columns = load(engine, size)
    taxonomy = Taxonomy.load_default()
    search = ListingSearch(sessions, taxonomy)
    query_set = queries()

    exact, lines = 0, []
    for query in query_set:
        page: SearchPage = search.search(query)
        total, first = numpy_scan(columns, query)
        old_total = old_search(sessions, taxonomy, query)
        same = page.total == total and [h.listing.id for h in page.hits] == first
        exact += same
        lines.append(f"| {label(query)} | {page.total:,} | {total:,} | {old_total:,} | {same} |")
    print(f"\n## {size:,} listings\n")
    print("| query | search total | numpy total | old total | total and page 1 equal |")
    print("| --- | ---: | ---: | ---: | --- |")
    print("\n".join(lines))
    print(f"\nexact: {exact}/{len(query_set)}\n")

    collided: list[str] = []
    new = timings(search.search, query_set, repeats, collided)
    scan = timings(lambda q: numpy_scan(columns, q), query_set, repeats)
    old = timings(lambda q: old_search(sessions, taxonomy, q), query_set, old_repeats)
    print("| approach | p50 | p99 | worst query's p99 | calls |")
    print("| --- | ---: | ---: | --- | ---: |")
    print(summary("search (database)", new))
    print(summary("old search (git history)", old))
    print(summary("numpy scan in memory", scan))
    print("\n| query | search p50 | search p99 |")
    print("| --- | ---: | ---: |")
    for key, values in new.items():
        p50, p99 = percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000
        print(f"| {key} | {p50:.1f} ms | {p99:.1f} ms |")
    print(f"\nfull garbage collections during the timed searches: {len(collided)}", end="")
    print(f" ({', '.join(collided)})" if collided else "")
    print()
    for clients in (1, 2):
        rate = throughput(search.search, query_set, clients)
        print(f"throughput, {clients} client(s): {rate:.0f} searches/s")
    old_rate = throughput(lambda q: old_search(sessions, taxonomy, q), query_set[:9], 1)
    print(f"old search throughput, 1 client: {old_rate:.1f} searches/s")
    engine.dispose()


@contextlib.contextmanager
def database() -> Iterator[str]:
    """A database of the benchmark's own: on DATABASE_URL's server, else a local one."""
    given = os.environ.get("DATABASE_URL")
    if not given:
        with LocalPostgres() as server:
            yield server.url
        return
    name = f"search_bench_{os.getpid()}"
    admin = create_engine(make_url(given), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(given).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--old-repeats", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    with database() as url:
        for size in args.sizes:
            measure(url, size, args.repeats, args.old_repeats)


if __name__ == "__main__":
    main()
