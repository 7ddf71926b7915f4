"""Finding published listings by kind, category (with its sub-categories), words and place.

The database does the work: the filters, the radius test, the order by distance, the page
and the total count, over every row (docs/adr/0008-search.md). Around a place, a row is
within the radius when its geodesic distance is, exactly as in the matcher: the H3 cells
of the disk narrow the rows down through an index, the chord between ECEF points decides,
and the few rows whose chord lies within a centimetre-wide band of the radius are settled
with the geodesic itself. Distances shown are geodesic, computed for the page's rows only.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from geographiclib.geodesic import Geodesic
from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Select,
    String,
    Subquery,
    any_,
    bindparam,
    cast,
    false,
    func,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.operators import custom_op
from sqlalchemy.sql.selectable import NamedFromClause

from listings import fulltext, spatial
from listings.domain import Listing
from listings.repository import SqlAlchemyRepository
from listings.tables import ListingRow
from shared.db import unit_of_work
from shared.taxonomy import Taxonomy

# A page of the nearest rows is first looked for in a smaller disk, sized to hold this many
# times the rows needed if listings were spread evenly; a short page means the whole disk.
_INNER_DISK_SLACK = 1.5


@dataclass(frozen=True)
class SearchQuery:
    """What a visitor looks for; `near` is (lat, lon)."""

    kind: str | None = None
    category: str | None = None
    near: tuple[float, float] | None = None
    radius_km: float = 50.0
    text: str | None = None
    page: int = 1
    page_size: int = 20


class MapPoint(NamedTuple):
    """A listing as a map shows it: where, what, how much."""

    id: str
    kind: str
    title: str
    quantity: float
    unit: str
    lat: float
    lon: float

    @classmethod
    def of(cls, listing: Listing) -> MapPoint:
        """The map's view of a listing already loaded."""
        return cls(*(getattr(listing, name) for name in cls._fields))


@dataclass(frozen=True)
class SearchHit:
    listing: Listing
    distance_km: float | None


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    total: int
    page: int
    page_size: int


class ListingSearch:
    """Published listings matching a query, nearest first when a place is given, else the
    most recently changed first."""

    def __init__(self, sessions: sessionmaker[Session], taxonomy: Taxonomy) -> None:
        self._sessions = sessions
        self._taxonomy = taxonomy

    def search(self, query: SearchQuery) -> SearchPage:
        """One page of results and the total count."""
        with self._page_ids(query) as (session, total, ids):
            listings = _in_order(SqlAlchemyRepository(session).listings(_rows(ids)), ids)
        near = query.near
        # Geodesic distances for the rows shown only.
        hits = [
            SearchHit(item, _geodesic_km(near, item.lat, item.lon) if near else None)
            for item in listings
        ]
        return SearchPage(hits, total, query.page, query.page_size)

    def map_points(self, query: SearchQuery, limit: int) -> list[MapPoint]:
        """The query's first `limit` listings in its order, with only what a map shows.

        The browse map shows up to hundreds: read as plain columns, no listing built and
        no distance computed (measured: 500 full listings cost ~10 ms a page).
        """
        with self._page_ids(replace(query, page=1, page_size=limit)) as (session, _, ids):
            columns = [getattr(ListingRow, name) for name in MapPoint._fields]
            rows = session.execute(select(*columns).where(ListingRow.id.in_(ids)))
            points = {row.id: MapPoint(*row) for row in rows}
        return [points[i] for i in ids if i in points]

    @contextlib.contextmanager
    def _page_ids(self, query: SearchQuery) -> Iterator[tuple[Session, int, list[str]]]:
        """In one transaction: the total and the ids of the query's page, in order."""
        with unit_of_work(self._sessions) as session:
            postgres = session.get_bind().dialect.name == "postgresql"
            if postgres:
                # These plans look costly to the planner (it cannot estimate a join on
                # BETWEEN) and run in milliseconds: compiling them would take longer.
                session.execute(text("SET LOCAL jit = off"))
                # psycopg prepares a statement once run 5 times, and PostgreSQL may then
                # keep a generic plan, blind to the values: one that rebuilds the list of
                # categories for every row read and limits every range scan (measured at
                # 1M rows: a category's count 60 -> 75-110 ms, a search by word 25 -> 50
                # ms). Planning each time costs 0.1-0.3 ms a statement.
                session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
            # SQLite would walk a category's index and scan the cover for each row: around
            # a place its kind and category are read from the rows the cell ranges give.
            by_column = postgres or query.near is None
            filters = self._filters(query, postgres, by_column)
            if query.near is None:
                total, ids = _recent(session, filters, query)
            else:
                total, ids = _Nearby(session, postgres, filters, query).page()
            yield session, total, ids

    def _filters(
        self, query: SearchQuery, postgres: bool, by_column: bool
    ) -> list[ColumnElement[bool]]:
        kind: ColumnElement[str] = ListingRow.kind.expression
        category: ColumnElement[str] = ListingRow.category.expression
        if not by_column:  # SQLite's unary + keeps the planner off a column's index
            kind, category = _unindexed(kind), _unindexed(category)
        filters = [ListingRow.status == "published"]
        if query.kind:
            filters.append(kind == query.kind)
        if query.category:
            wanted = {query.category, *self._taxonomy.descendants(query.category)}
            filters.append(category.in_(sorted(wanted)))
        if query.text and query.text.strip():
            words = query.text.strip()
            filters.append(
                fulltext.postgres_match(words) if postgres else fulltext.fallback_match(words)
            )
        return filters


def _unindexed(column: ColumnElement[str]) -> ColumnElement[str]:
    return UnaryExpression(column, operator=custom_op("+"), type_=String())


def _recent(
    session: Session, filters: list[ColumnElement[bool]], query: SearchQuery
) -> tuple[int, list[str]]:
    total = session.scalar(select(func.count()).select_from(ListingRow).where(*filters)) or 0
    statement = (
        select(ListingRow.id)
        .where(*filters)
        .order_by(ListingRow.updated_at.desc(), ListingRow.id.desc())
        .offset((query.page - 1) * query.page_size)
        .limit(query.page_size)
    )
    return total, list(session.scalars(statement))


def _rows(ids: list[str]) -> Select[ListingRow]:
    return select(ListingRow).where(ListingRow.id.in_(ids))


def _in_order(listings: list[Listing], ids: list[str]) -> list[Listing]:
    by_id = {listing.id: listing for listing in listings}
    return [by_id[i] for i in ids if i in by_id]


class _Nearby:
    """One search around a place, within one transaction."""

    def __init__(
        self,
        session: Session,
        postgres: bool,
        filters: list[ColumnElement[bool]],
        query: SearchQuery,
    ) -> None:
        assert query.near is not None
        self._session = session
        self._postgres = postgres
        self._filters = filters
        self._near = query.near
        self._radius = max(query.radius_km, 0.0)
        self._start = (query.page - 1) * query.page_size
        self._size = query.page_size
        # With words on PostgreSQL the text index is the narrower way in: the rows holding
        # the words, each tested for distance (measured: 40 ms at 1M rows for a word in 9 %
        # of them, against 75-240 ms through the cells). Otherwise the cells of the disk.
        self._by_cells = not (postgres and query.text and query.text.strip())

    def page(self) -> tuple[int, list[str]]:
        """The total within the radius and the page's ids, nearest first."""
        if self._postgres and self._by_cells:
            # Each range is small, but the planner cannot know it (BETWEEN on values of
            # the outer row) and would AND it with a bitmap of the whole category.
            self._session.execute(text("SET LOCAL enable_bitmapscan = off"))
        whole = spatial.disk(*self._near, self._radius)
        total, outside = self._count(whole)
        if self._start >= total:
            return total, []
        ids = self._from_inner_disk(total)
        if ids is None:
            ids = self._nearest(whole, outside)
        return total, ids

    def _count(self, disk: spatial.Disk) -> tuple[int, list[str]]:
        """Rows within the radius, and the ids of those the band test put outside.

        By cell, not id: the index holds the cell, so PostgreSQL counts from the index
        alone; reading the unsure rows' ids back through the cover would visit the table
        for every row of the disk (measured: 1 s at 1M rows, for one unsure row).
        """
        rows = self._rows_within(disk, ListingRow.h3_cell)
        unsure = rows.c.sure == false()
        counted = select(
            func.count(),
            func.count().filter(unsure),
            _joined(rows.c.key, self._postgres).filter(unsure),
        ).select_from(rows)
        total, unsure_total, unsure_cells = self._session.execute(counted).one()
        if not unsure_total:
            return total, []
        # A chord within a centimetre of the radius: the geodesic decides. Every row of
        # those cells lies in a range that is not wholly inside (or, without cells, passes
        # the same filters), so the band test alone picks the unsure rows out again.
        d2 = _squared_chord(disk)
        band = select(ListingRow.id, ListingRow.lat, ListingRow.lon).where(
            *self._filters,
            ListingRow.h3_cell.in_(sorted({int(cell) for cell in unsure_cells.split(",")})),
            d2 > disk.chord_in**2,
            d2 <= disk.chord_out**2,
        )
        outside = [
            row_id
            for row_id, lat, lon in self._session.execute(band)
            if _geodesic_km(self._near, lat, lon) > self._radius
        ]
        return total - len(outside), outside

    def _from_inner_disk(self, total: int) -> list[str] | None:
        """The page read from a smaller disk when one surely holds it, else None.

        A full page from a smaller disk is the right one: every row beyond it is farther
        than all the rows it holds, and all of them are within the radius. The first disk
        is sized from the total as if listings were spread evenly; a short page (a sparse
        centre) doubles it.
        """
        needed = self._start + self._size
        if not self._by_cells or needed >= total:
            return None
        inner = self._radius * min(1.0, _INNER_DISK_SLACK * math.sqrt(needed / total))
        while inner + spatial.band_km(inner) < self._radius - spatial.band_km(self._radius):
            ids = self._nearest(spatial.disk(*self._near, inner), [])
            if len(ids) == self._size:
                return ids
            inner *= 2
        return None

    def _nearest(self, disk: spatial.Disk, outside: list[str]) -> list[str]:
        """Ids of the page's rows within `disk`, nearest first (ties by id)."""
        if self._postgres and self._by_cells:
            rows = self._nearest_by_cells(disk, len(outside))
        else:
            rows = self._rows_within(disk, ListingRow.id)
        statement: Select[tuple[str]] = select(rows.c.key)
        if outside:
            statement = statement.where(rows.c.key.not_in(outside))
        statement = statement.order_by(rows.c.d2, rows.c.key).offset(self._start).limit(self._size)
        return list(self._session.scalars(statement))

    def _nearest_by_cells(self, disk: spatial.Disk, spare: int) -> Subquery:
        """(key: id, d2) of the filtered rows within `disk` up to the page's farthest row
        and `spare` more, read from the cells holding them.

        The index holds the cell and the point but not the id: reading ids through the
        cover makes PostgreSQL visit the table for every row of the disk before it tests
        the filters (measured at 1M rows: 47 ms to visit 21,000 rows and keep 411 of a
        category). So the nearest distances, ties included, come from the index alone,
        and the ids from their few cells.
        """
        rows = self._rows_within(disk, ListingRow.h3_cell)
        wanted = self._start + self._size + spare
        nearest = (
            select(rows.c.key, rows.c.d2)
            .order_by(rows.c.d2)
            .fetch(wanted, with_ties=True)
            .cte("nearest")
        )
        # Up to the farthest of them, every filtered row of these cells is within the disk:
        # a cell's range is wholly inside, or its rows are kept up to the outer chord,
        # which is at least the farthest found. The cells go as one array, so the index is
        # read cell by cell whatever the planner guesses of their number.
        cells = func.array(select(nearest.c.key).scalar_subquery())
        d2 = _squared_chord(disk)
        in_cells = select(ListingRow.id.label("key"), d2.label("d2")).where(
            *self._filters,
            ListingRow.h3_cell == any_(cells),
            d2 <= select(func.max(nearest.c.d2)).scalar_subquery(),
        )
        return in_cells.subquery()

    def _rows_within(self, disk: spatial.Disk, key: InstrumentedAttribute[Any]) -> Subquery:
        """(key, sure, d2) of the filtered rows that may lie within `disk`: `sure` when
        they certainly do, d2 the squared chord to the centre."""
        d2 = _squared_chord(disk)
        within_in, within_out = d2 <= disk.chord_in**2, d2 <= disk.chord_out**2
        if not self._by_cells:
            plain = select(key.label("key"), within_in.label("sure"), d2.label("d2"))
            return plain.where(*self._filters, within_out).subquery()
        cover = _cover(disk.ranges, self._postgres)
        # In a range wholly inside the radius a row needs no test.
        inner = select(
            key.label("key"), or_(cover.c.inside, within_in).label("sure"), d2.label("d2")
        ).where(
            *self._filters,
            ListingRow.h3_cell.between(cover.c.lo, cover.c.hi),
            or_(cover.c.inside, within_out),
        )
        if not self._postgres:
            return inner.subquery()
        # One index range scan per cover range. PostgreSQL cannot estimate a join on
        # BETWEEN and would scan the whole table; LATERAL with OFFSET 0 keeps it per range.
        hit = inner.offset(0).lateral("hit")
        return select(hit).select_from(cover).join(hit, true()).subquery()


def _squared_chord(disk: spatial.Disk) -> ColumnElement[float]:
    """The squared chord between a row's point and the disk's centre."""
    cx, cy, cz = disk.centre
    return (
        (ListingRow.ecef_x - cx) * (ListingRow.ecef_x - cx)
        + (ListingRow.ecef_y - cy) * (ListingRow.ecef_y - cy)
        + (ListingRow.ecef_z - cz) * (ListingRow.ecef_z - cz)
    )


def _joined(cells: ColumnElement[int], postgres: bool) -> FunctionElement[str]:
    """The aggregate of cell numbers as one text "c1,c2,…" (NULL for no row)."""
    as_text = cast(cells, String)
    return func.string_agg(as_text, ",") if postgres else func.group_concat(as_text, ",")


def _cover(ranges: list[tuple[int, int, bool]], postgres: bool) -> NamedFromClause:
    """The ranges as a table (lo, hi, inside), sent as one value per column: hundreds of
    rows of VALUES would cost SQLAlchemy ~40 ms to compile on every search."""
    los, his, insides = ([r[i] for r in ranges] for i in range(3))
    if postgres:
        return (
            func.unnest(
                cast(bindparam("cover_lo", los), ARRAY(BigInteger)),
                cast(bindparam("cover_hi", his), ARRAY(BigInteger)),
                cast(bindparam("cover_inside", insides), ARRAY(Boolean)),
            )
            .table_valued("lo", "hi", "inside")
            .render_derived(name="cover")
        )
    rows = func.json_each(bindparam("cover", json.dumps(ranges))).table_valued("value")
    return (
        select(
            func.json_extract(rows.c.value, "$[0]").label("lo"),
            func.json_extract(rows.c.value, "$[1]").label("hi"),
            func.json_extract(rows.c.value, "$[2]").label("inside"),
        )
        .select_from(rows)
        .cte("cover")
    )


def _geodesic_km(near: tuple[float, float], lat: float, lon: float) -> float:
    """geopy's geodesic (it calls geographiclib the same way), without its 150 µs wrapper."""
    return float(Geodesic.WGS84.Inverse(*near, lat, lon, Geodesic.DISTANCE)["s12"]) / 1000
