"""Finding published listings by kind, category (with its sub-categories), words and place.

The database does the work: the filters, the radius test, the order by distance, the page
and the total count, over every row (docs/adr/0008-search.md). Around a place, a row is
within the radius when its geodesic distance is, exactly as in the matcher: the H3 cells
of the disk narrow the rows down through an index, the chord between ECEF points decides,
and the few rows whose chord lies within a centimetre-wide band of the radius are settled
with the geodesic itself. Distances shown are geodesic, computed for the page's rows only.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from geographiclib.geodesic import Geodesic
from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Select,
    String,
    Subquery,
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
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import UnaryExpression
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
        with unit_of_work(self._sessions) as session:
            postgres = session.get_bind().dialect.name == "postgresql"
            if postgres:
                # These plans look costly to the planner (it cannot estimate a join on
                # BETWEEN) and run in milliseconds: compiling them would take longer.
                session.execute(text("SET LOCAL jit = off"))
            # SQLite would walk a category's index and scan the cover for each row: around
            # a place its kind and category are read from the rows the cell ranges give.
            by_column = postgres or query.near is None
            filters = self._filters(query, postgres, by_column)
            if query.near is None:
                total, listings = _recent(session, filters, query)
                hits = [SearchHit(listing, None) for listing in listings]
            else:
                total, hits = _Nearby(session, postgres, filters, query).page()
        return SearchPage(hits, total, query.page, query.page_size)

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
) -> tuple[int, list[Listing]]:
    total = session.scalar(select(func.count()).select_from(ListingRow).where(*filters)) or 0
    statement = (
        select(ListingRow)
        .where(*filters)
        .order_by(ListingRow.updated_at.desc(), ListingRow.id.desc())
        .offset((query.page - 1) * query.page_size)
        .limit(query.page_size)
    )
    return total, SqlAlchemyRepository(session).listings(statement)


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

    def page(self) -> tuple[int, list[SearchHit]]:
        """The total within the radius and the page's hits, nearest first."""
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
        rows = {
            listing.id: listing
            for listing in SqlAlchemyRepository(self._session).listings(
                select(ListingRow).where(ListingRow.id.in_(ids))
            )
        }
        hits = [SearchHit(rows[i], _geodesic_km(self._near, rows[i].lat, rows[i].lon)) for i in ids]
        return total, hits

    def _count(self, disk: spatial.Disk) -> tuple[int, list[str]]:
        """Rows within the radius, and the ids of those the band test put outside."""
        rows = self._rows_within(disk, with_distance=False)
        counted = select(func.count(), func.count().filter(rows.c.sure == false()))
        total, unsure = self._session.execute(counted.select_from(rows)).one()
        if not unsure:
            return total, []
        # A chord within a centimetre of the radius: the geodesic decides.
        band = select(ListingRow.id, ListingRow.lat, ListingRow.lon).where(
            ListingRow.id.in_(select(rows.c.id).where(rows.c.sure == false()))
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
        rows = self._rows_within(disk, with_distance=True)
        statement: Select[tuple[str]] = select(rows.c.id)
        if outside:
            statement = statement.where(rows.c.id.not_in(outside))
        statement = statement.order_by(rows.c.d2, rows.c.id).offset(self._start).limit(self._size)
        return list(self._session.scalars(statement))

    def _rows_within(self, disk: spatial.Disk, with_distance: bool) -> Subquery:
        """(id, sure[, d2]) of the filtered rows that may lie within `disk`: `sure` when
        they certainly do, d2 the squared chord to the centre."""
        cx, cy, cz = disk.centre
        d2 = (
            (ListingRow.ecef_x - cx) * (ListingRow.ecef_x - cx)
            + (ListingRow.ecef_y - cy) * (ListingRow.ecef_y - cy)
            + (ListingRow.ecef_z - cz) * (ListingRow.ecef_z - cz)
        )
        within_in, within_out = d2 <= disk.chord_in**2, d2 <= disk.chord_out**2
        extra = [d2.label("d2")] if with_distance else []
        if not self._by_cells:
            plain = select(ListingRow.id, within_in.label("sure"), *extra)
            return plain.where(*self._filters, within_out).subquery()
        cover = _cover(disk.ranges, self._postgres)
        # In a range wholly inside the radius a row needs no test.
        inner = select(ListingRow.id, or_(cover.c.inside, within_in).label("sure"), *extra).where(
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
