"""The in-memory index of active listings: candidates from H3 cells and the category tree.

Offers are filed at every resolution of `geometry.LEVELS`; a need looks in the one that
suits its radius, for its category and the categories below it. Needs are filed once, by
radius class (a need of 18 km sits in the "up to 25 km" class, at the resolution that
suits 25 km); an offer looks in every class, for its category and those above it. Only
those candidates are measured, and the exact geodesic decides at the edge.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache

import numpy as np

from matching import geometry
from matching.domain import NEED, OFFER, SECONDS_PER_DAY, UNITS, ActiveListing, Match, match_id
from matching.spatial import CellIndex
from matching.table import KINDS, Codes, ListingTable, price_code
from matching.vector import RELATIONS, Found, IntArray, Side, evaluate_many
from shared.taxonomy import Taxonomy

log = logging.getLogger(__name__)

#: Upper bounds of the needs' radius classes, km (the event schema allows up to 1000).
RADIUS_CLASSES = (2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 200.0, 400.0, 1000.0)
_CLASS_LEVELS = tuple(geometry.level_for(bound) for bound in RADIUS_CLASSES)

CountryOf = Callable[[float, float], str | None]


class ListingIndex:
    """Active listings, stored by column and filed by cell, category and radius class."""

    def __init__(self, taxonomy: Taxonomy, country_of: CountryOf | None = None) -> None:
        self._taxonomy = taxonomy
        ids = [c.id for c in taxonomy.all()]
        self.table = ListingTable(ids)
        self._offers, self._needs = CellIndex(), CellIndex()
        self._below = {c: [self._code(d) for d in (c, *taxonomy.descendants(c))] for c in ids}
        self._above = {c: [self._code(a) for a in (c, *taxonomy.ancestors(c))] for c in ids}
        self._relation = _relation_matrix(taxonomy, ids)
        self._country_of = lru_cache(maxsize=65_536)(country_of or _no_country)
        self._dimensions = Codes()
        self._unit_cache: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.int64), np.zeros(0))

    def __len__(self) -> int:
        return len(self.table)

    @classmethod
    def restored(
        cls,
        taxonomy: Taxonomy,
        table: ListingTable,
        country_of: CountryOf | None = None,
        cells: np.ndarray | None = None,
    ) -> ListingIndex:
        """An index over a table read back from a snapshot: every row filed again, under
        `cells` (`filing_cells` of the table's rows, in row order) when they were kept."""
        index = cls(taxonomy, country_of)
        if table.categories.values[: len(index._below)] != list(index._below):
            raise ValueError("the table was stored under another taxonomy")
        index.table = table
        c = table.columns
        rows = np.fromiter(table.row_of.values(), dtype=np.int64, count=len(table.row_of))
        if cells is None:
            cells = filing_cells(
                *(c[name][rows].tolist() for name in ("kind", "lat", "lon", "radius"))
            )
        if cells.shape != (len(rows), len(geometry.LEVELS)):
            raise ValueError(f"cells of shape {cells.shape} for {len(rows)} listings")
        # Filed in bulk: one sort, then one list per cell (adding rows one by one is most
        # of a restore's time).
        kind = c["kind"][rows]
        category = c["category"][rows].astype(np.int64)
        offers = np.flatnonzero(kind == KINDS.index(OFFER))
        levels = len(geometry.LEVELS)
        index._offers.add_many(
            np.tile(np.arange(levels), len(offers)),
            np.repeat(category[offers], levels),
            cells[offers].reshape(-1),
            np.repeat(rows[offers], levels),
        )
        needs = np.flatnonzero(kind != KINDS.index(OFFER))
        classes = np.searchsorted(RADIUS_CLASSES, c["radius"][rows][needs], side="left")
        index._needs.add_many(
            np.minimum(classes, len(RADIUS_CLASSES) - 1),
            category[needs],
            cells[needs, 0],
            rows[needs],
        )
        return index

    @property
    def taxonomy(self) -> Taxonomy:
        """The category tree the index relates categories with."""
        return self._taxonomy

    def get(self, listing_id: str) -> ActiveListing | None:
        """The active listing with this id, or None."""
        row = self.table.row_of.get(listing_id)
        return None if row is None else self.table.get(row)

    def version(self, listing_id: str) -> int | None:
        """The version held for this listing, or None."""
        row = self.table.row_of.get(listing_id)
        return None if row is None else int(self.table.column("version")[row])

    def put(self, listing: ActiveListing) -> bool:
        """Add or replace a listing; an older version never replaces a newer one."""
        held = self.version(listing.id)
        if held is not None and held > listing.version:
            return False
        if listing.category not in self._below:
            log.warning("listing %s has unknown category %r", listing.id, listing.category)
            self.remove(listing.id)
            return False
        self.remove(listing.id)
        row = self.table.add(listing)
        self._file(listing, row, self._offers.add, self._needs.add)
        return True

    def remove(self, listing_id: str) -> ActiveListing | None:
        """Forget a listing (withdrawn, closed, expired...); returns what was held."""
        row = self.table.row_of.get(listing_id)
        if row is None:
            return None
        listing = self.table.get(row)
        self._file(listing, row, self._offers.remove, self._needs.remove)
        self.table.remove(listing_id)
        return listing

    def find(self, listing: ActiveListing, now: float) -> Found:
        """The listing's matches among the indexed listings, best first (columnar)."""
        if listing.category not in self._below:
            return Found.empty()
        rows = np.array(self._candidates(listing), dtype=np.int64)
        query = self._query_side(listing)
        candidates = self._side(rows)
        if listing.kind == NEED:
            relation = self._relation[self._code(listing.category), candidates.category]
        else:
            relation = self._relation[candidates.category, self._code(listing.category)]
        return evaluate_many(query, listing.kind == OFFER, candidates, rows, relation, now)

    def find_matches(self, listing: ActiveListing, now: float) -> list[Match]:
        """The listing's matches with their reasons, best first."""
        found = self.find(listing, now)
        if not len(found):
            return []
        mine = self._with_country(listing)
        rows = found.rows.tolist()
        others = self.table.get_many(found.rows)
        ends = self.table.column("ends")[found.rows]
        if mine.ends_at is not None:
            ends = np.minimum(ends, mine.ends_at)
        # Whole days before the pair's window closes (rules.days_left, for every pair).
        days = [
            None if end == math.inf else int((end - now) // SECONDS_PER_DAY)
            for end in ends.tolist()
        ]
        scores = found.score.tolist()
        distances = [round(d, 3) for d in found.distance_km.tolist()]
        relations, fits = found.relation.tolist(), found.full_fit.tolist()
        matches = []
        for i, other in enumerate(others):
            if other.country is None:
                other = self._with_country(other, rows[i])
            offer, need = (mine, other) if listing.kind == OFFER else (other, mine)
            matches.append(
                Match(
                    id=match_id(offer.id, need.id),
                    offer=offer,
                    need=need,
                    score=scores[i],
                    distance_km=distances[i],
                    category_relation=RELATIONS[relations[i]],
                    quantity_fit="full" if fits[i] else "partial",
                    days_left=days[i],
                    cross_border=None not in (offer.country, need.country)
                    and offer.country != need.country,
                    countries=(offer.country, need.country),
                )
            )
        return matches

    def _file(self, listing: ActiveListing, row: int, offers: Filer, needs: Filer) -> None:
        category = self._code(listing.category)
        if listing.kind == OFFER:
            for level, cell in enumerate(geometry.cells_of(listing.lat, listing.lon)):
                offers(level, category, cell, row)
        else:
            klass = _radius_class(listing.radius_km)
            resolution = _CLASS_LEVELS[klass]
            needs(klass, category, geometry.cell_at(listing.lat, listing.lon, resolution), row)

    def _candidates(self, listing: ActiveListing) -> list[int]:
        out: list[int] = []
        if listing.kind == NEED:
            resolution = geometry.level_for(listing.radius_km)
            cells = set(geometry.disk(listing.lat, listing.lon, listing.radius_km, resolution))
            level = geometry.LEVELS.index(resolution)
            for category in self._below.get(listing.category, []):
                self._offers.collect(level, category, cells, out)
            return out
        above = self._above.get(listing.category, [])
        delivery = listing.delivery_radius_km
        cap = delivery if delivery is not None and delivery > 0 else math.inf
        for klass, bound in enumerate(RADIUS_CLASSES):
            if not self._needs.has(klass, above):
                continue
            reach = min(bound, cap)
            cells = set(geometry.disk(listing.lat, listing.lon, reach, _CLASS_LEVELS[klass]))
            for category in above:
                self._needs.collect(klass, category, cells, out)
        return out

    def _side(self, rows: IntArray) -> Side:
        c = self.table.columns
        units = c["unit"][rows]
        dimension, factor = self._unit_tables()
        return Side(
            lat=c["lat"][rows],
            lon=c["lon"][rows],
            organisation=c["organisation"][rows],
            category=c["category"][rows],
            dimension=dimension[units],
            quantity=c["quantity"][rows] * factor[units],
            min_quantity=c["min_quantity"][rows] * factor[units],
            radius=c["radius"][rows],
            delivery=c["delivery"][rows],
            starts=c["starts"][rows],
            ends=c["ends"][rows],
            price_mode=c["price_mode"][rows],
            price_amount=c["price_amount"][rows],
            max_price=c["max_price"][rows],
        )

    def _query_side(self, listing: ActiveListing) -> Side:
        dimension, factor = self._unit(listing.unit)
        minimum = listing.min_quantity
        # 0-d arrays: numpy broadcasts them against the candidates' columns.
        return Side(
            lat=np.array(listing.lat),
            lon=np.array(listing.lon),
            organisation=np.array(self.table.organisations.code(listing.organisation_id)),
            category=np.array(self._code(listing.category)),
            dimension=np.array(dimension),
            quantity=np.array(listing.quantity * factor),
            min_quantity=np.array(math.nan if minimum is None else minimum * factor),
            radius=np.array(listing.radius_km),
            delivery=np.array(_or(listing.delivery_radius_km, math.nan)),
            starts=np.array(_or(listing.starts_at, -math.inf)),
            ends=np.array(_or(listing.ends_at, math.inf)),
            price_mode=np.array(price_code(listing.price_mode)),
            price_amount=np.array(_or(listing.price_amount, math.nan)),
            max_price=np.array(_or(listing.max_price, math.nan)),
        )

    def _unit(self, unit: str) -> tuple[int, float]:
        dimension, factor = UNITS.get(unit, (unit, 1.0))
        return self._dimensions.code(dimension), factor

    def _unit_tables(self) -> tuple[np.ndarray, np.ndarray]:
        if len(self._unit_cache[0]) != len(self.table.units):
            pairs = [self._unit(u) for u in self.table.units.values] or [(0, 1.0)]
            self._unit_cache = (
                np.array([d for d, _ in pairs], dtype=np.int64),
                np.array([f for _, f in pairs]),
            )
        return self._unit_cache

    def _with_country(self, listing: ActiveListing, row: int | None = None) -> ActiveListing:
        if listing.country is not None or (
            row is not None and self.table.column("country")[row] != 0  # known to be unknown
        ):
            return listing
        # Rounded to ~1 km, so neighbours share the (slow) gazetteer lookup; the answer is
        # kept in the row, so a listing is looked up once in its life.
        country = self._country_of(round(listing.lat, 2), round(listing.lon, 2))
        if row is not None:
            self.table.column("country")[row] = self.table.countries.code(country or "?")
        return replace(listing, country=country)

    def _code(self, category: str) -> int:
        return self.table.categories.code(category)


Filer = Callable[[int, int, int, int], None]
#: How listings are filed in cells: stored cells of another scheme are not reused.
FILING = (geometry.LEVELS, RADIUS_CLASSES, _CLASS_LEVELS)


def filing_cells(
    kinds: list[int], lats: list[float], lons: list[float], radii: list[float]
) -> np.ndarray:
    """The cells each listing is filed under (as `_file` files them): an offer's at every
    level, a need's at its radius class's resolution (then zeros). Kinds are table codes."""
    offer = KINDS.index(OFFER)
    padding = (0,) * (len(geometry.LEVELS) - 1)
    rows = [
        geometry.cells_of(lat, lon)
        if kind == offer
        else (geometry.cell_at(lat, lon, _CLASS_LEVELS[_radius_class(radius)]), *padding)
        for kind, lat, lon, radius in zip(kinds, lats, lons, radii, strict=True)
    ]
    return np.array(rows, dtype=np.uint64).reshape(len(rows), len(geometry.LEVELS))


def _radius_class(radius_km: float) -> int:
    for klass, bound in enumerate(RADIUS_CLASSES):
        if radius_km <= bound:
            return klass
    return len(RADIUS_CLASSES) - 1


def _relation_matrix(taxonomy: Taxonomy, ids: list[str]) -> np.ndarray:
    """relation[need category, offer category]: 0 same, 1 parent, 2 ancestor, -1 none."""
    code = {c: i for i, c in enumerate(ids)}
    matrix = np.full((len(ids), len(ids)), -1, dtype=np.int64)
    for offer_category in ids:
        matrix[code[offer_category], code[offer_category]] = 0
        for depth, ancestor in enumerate(taxonomy.ancestors(offer_category)):
            matrix[code[ancestor], code[offer_category]] = min(depth + 1, 2)
    return matrix


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def _no_country(_lat: float, _lon: float) -> str | None:
    return None
