"""Active listings stored column by column, so memory stays small and filters vectorise.

One row per listing: numbers in numpy arrays, repeated strings (organisations, units,
countries, categories) as small integer codes, ids and titles in plain lists. A removed
listing's row goes on a free list and is reused by the next one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching.domain import NEED, OFFER, ActiveListing
from shared.contracts import PRICE_MODES

IntArray = npt.NDArray[np.int64]
KINDS = (OFFER, NEED)

# name -> (dtype, value of an empty cell)
_COLUMNS: dict[str, tuple[type, float]] = {
    "kind": (np.int8, -1),
    "category": (np.int16, -1),
    "organisation": (np.int32, -1),
    "unit": (np.int8, -1),
    "country": (np.int8, 0),
    "version": (np.int64, 0),
    "lat": (np.float64, math.nan),
    "lon": (np.float64, math.nan),
    "radius": (np.float64, math.nan),
    "delivery": (np.float64, math.nan),
    "quantity": (np.float64, math.nan),
    "min_quantity": (np.float64, math.nan),
    "starts": (np.float64, -math.inf),
    "ends": (np.float64, math.inf),
    "price_mode": (np.int8, 0),
    "price_amount": (np.float64, math.nan),
    "max_price": (np.float64, math.nan),
}


def price_code(mode: str) -> int:
    """The stored code of a price mode (an unknown one counts as free, the default)."""
    return PRICE_MODES.index(mode) if mode in PRICE_MODES else 0


class Codes:
    """Strings interned as small integers, both ways."""

    def __init__(self, values: tuple[str, ...] | list[str] = ()) -> None:
        self.values: list[str] = []
        self._codes: dict[str, int] = {}
        for value in values:
            self.code(value)

    def code(self, value: str) -> int:
        """The value's code, assigning the next one on first sight."""
        found = self._codes.get(value)
        if found is None:
            found = self._codes[value] = len(self.values)
            self.values.append(value)
        return found

    def __len__(self) -> int:
        return len(self.values)


@dataclass
class TableState:
    """Everything a table holds, rows 0..n-1: what a snapshot of the replica stores."""

    columns: dict[str, np.ndarray]
    ids: list[str]
    titles: list[str]
    places: list[str | None]
    #: the interned strings the integer columns point into, in code order
    codes: dict[str, list[str]]


#: What a stored table's layout depends on: a snapshot of another layout is not read.
LAYOUT = tuple((name, np.dtype(dtype).str) for name, (dtype, _) in _COLUMNS.items())


class ListingTable:
    """The columns of the active listings; `row_of` finds a listing's row by id."""

    def __init__(self, categories: list[str], capacity: int = 1024) -> None:
        self.categories = Codes(categories)
        self.organisations = Codes()
        self.units = Codes()
        self.countries = Codes(["", "?"])  # 0: not resolved yet, 1: outside coverage
        self.row_of: dict[str, int] = {}
        self.ids: list[str | None] = [None] * capacity
        self.titles: list[str] = [""] * capacity
        self.places: list[str | None] = [None] * capacity
        self._free: list[int] = list(range(capacity - 1, -1, -1))
        self.columns: dict[str, np.ndarray] = {
            name: np.full(capacity, empty, dtype) for name, (dtype, empty) in _COLUMNS.items()
        }

    def __len__(self) -> int:
        return len(self.row_of)

    def column(self, name: str) -> np.ndarray:
        """The whole column (index it with rows)."""
        return self.columns[name]

    def add(self, listing: ActiveListing) -> int:
        """Store `listing` (not yet present) in a free row; returns the row."""
        if not self._free:
            self._grow()
        row = self._free.pop()
        self.row_of[listing.id] = row
        self.ids[row] = listing.id
        self.titles[row] = listing.title
        self.places[row] = listing.place
        for name, value in self._encode(listing).items():
            self.columns[name][row] = value
        return row

    def remove(self, listing_id: str) -> int | None:
        """Free the listing's row; returns it, or None when the listing is absent."""
        row = self.row_of.pop(listing_id, None)
        if row is None:
            return None
        self.ids[row] = None
        self.titles[row] = ""
        self.places[row] = None
        for name, (_, empty) in _COLUMNS.items():
            self.columns[name][row] = empty
        self._free.append(row)
        return row

    def get(self, row: int) -> ActiveListing:
        """The listing stored in `row`."""
        c = self.columns
        listing_id = self.ids[row]
        assert listing_id is not None, f"row {row} is free"
        country = int(c["country"][row])
        return ActiveListing(
            id=listing_id,
            organisation_id=self.organisations.values[int(c["organisation"][row])],
            kind=KINDS[int(c["kind"][row])],
            category=self.categories.values[int(c["category"][row])],
            lat=float(c["lat"][row]),
            lon=float(c["lon"][row]),
            quantity=float(c["quantity"][row]),
            unit=self.units.values[int(c["unit"][row])],
            title=self.titles[row],
            version=int(c["version"][row]),
            radius_km=float(c["radius"][row]),
            delivery_radius_km=_none_if(c["delivery"][row], math.nan),
            min_quantity=_none_if(c["min_quantity"][row], math.nan),
            starts_at=_none_if(c["starts"][row], -math.inf),
            ends_at=_none_if(c["ends"][row], math.inf),
            place=self.places[row],
            country=self.countries.values[country] if country > 1 else None,
            price_mode=PRICE_MODES[int(c["price_mode"][row])],
            price_amount=_none_if(c["price_amount"][row], math.nan),
            max_price=_none_if(c["max_price"][row], math.nan),
        )

    def get_many(self, rows: IntArray) -> list[ActiveListing]:
        """The listings stored in `rows`, reading each column once (a listing's matches)."""
        c = {name: self.columns[name][rows].tolist() for name in _COLUMNS}
        organisations, categories = self.organisations.values, self.categories.values
        units, countries = self.units.values, self.countries.values
        return [
            ActiveListing(
                id=self.ids[row],
                organisation_id=organisations[c["organisation"][i]],
                kind=KINDS[c["kind"][i]],
                category=categories[c["category"][i]],
                lat=c["lat"][i],
                lon=c["lon"][i],
                quantity=c["quantity"][i],
                unit=units[c["unit"][i]],
                title=self.titles[row],
                version=c["version"][i],
                radius_km=c["radius"][i],
                delivery_radius_km=_none_if_nan(c["delivery"][i]),
                min_quantity=_none_if_nan(c["min_quantity"][i]),
                starts_at=None if c["starts"][i] == -math.inf else c["starts"][i],
                ends_at=None if c["ends"][i] == math.inf else c["ends"][i],
                place=self.places[row],
                country=countries[c["country"][i]] if c["country"][i] > 1 else None,
                price_mode=PRICE_MODES[c["price_mode"][i]],
                price_amount=_none_if_nan(c["price_amount"][i]),
                max_price=_none_if_nan(c["max_price"][i]),
            )
            for i, row in enumerate(rows.tolist())
        ]

    def export(self) -> TableState:
        """A compact copy of every stored listing (rows renumbered from 0), for a snapshot."""
        rows = np.fromiter(self.row_of.values(), dtype=np.int64, count=len(self.row_of))
        taken = rows.tolist()
        return TableState(
            columns={name: column[rows] for name, column in self.columns.items()},
            ids=[self.ids[row] or "" for row in taken],
            titles=[self.titles[row] for row in taken],
            places=[self.places[row] for row in taken],
            codes={
                "categories": list(self.categories.values),
                "organisations": list(self.organisations.values),
                "units": list(self.units.values),
                "countries": list(self.countries.values),
            },
        )

    @classmethod
    def restore(cls, state: TableState) -> ListingTable:
        """The table `export` copied (every listing in rows 0..n-1, room to grow)."""
        count = len(state.ids)
        table = cls(state.codes["categories"], capacity=max(1024, count))
        for name, (dtype, _) in _COLUMNS.items():
            column = state.columns[name]
            if column.dtype != dtype or len(column) != count:
                raise ValueError(f"column {name}: {column.dtype} x {len(column)}")
            table.columns[name][:count] = column
        table.ids[:count] = state.ids
        table.titles[:count] = state.titles
        table.places[:count] = state.places
        table.organisations = Codes(state.codes["organisations"])
        table.units = Codes(state.codes["units"])
        table.countries = Codes(state.codes["countries"])
        table.row_of = dict(zip(state.ids, range(count), strict=True))
        if len(table.row_of) != count:
            raise ValueError("a listing id appears twice")
        table._free = list(range(len(table.ids) - 1, count - 1, -1))
        return table

    def _encode(self, listing: ActiveListing) -> dict[str, float | int]:
        return {
            "kind": KINDS.index(listing.kind),
            "category": self.categories.code(listing.category),
            "organisation": self.organisations.code(listing.organisation_id),
            "unit": self.units.code(listing.unit),
            "country": self.countries.code(listing.country) if listing.country else 0,
            "version": listing.version,
            "lat": listing.lat,
            "lon": listing.lon,
            "radius": listing.radius_km,
            "delivery": _nan_if_none(listing.delivery_radius_km, math.nan),
            "quantity": listing.quantity,
            "min_quantity": _nan_if_none(listing.min_quantity, math.nan),
            "starts": _nan_if_none(listing.starts_at, -math.inf),
            "ends": _nan_if_none(listing.ends_at, math.inf),
            "price_mode": price_code(listing.price_mode),
            "price_amount": _nan_if_none(listing.price_amount, math.nan),
            "max_price": _nan_if_none(listing.max_price, math.nan),
        }

    def _grow(self) -> None:
        old = len(self.ids)
        new = max(1024, old * 2)
        for name, (_, empty) in _COLUMNS.items():
            grown = np.full(new, empty, self.columns[name].dtype)
            grown[:old] = self.columns[name]
            self.columns[name] = grown
        self.ids.extend([None] * (new - old))
        self.titles.extend([""] * (new - old))
        self.places.extend([None] * (new - old))
        self._free.extend(range(new - 1, old - 1, -1))


def _nan_if_none(value: float | None, empty: float) -> float:
    return empty if value is None else value


def _none_if(value: np.floating, empty: float) -> float | None:
    number = float(value)
    if math.isnan(empty):
        return None if math.isnan(number) else number
    return None if number == empty else number


def _none_if_nan(number: float) -> float | None:
    return None if number != number else number  # NaN is the only value unequal to itself
