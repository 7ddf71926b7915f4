"""Where a listing is, in the two forms the database searches by, and the cells of a disk.

Each listing row carries its H3 cell at `STORED_RESOLUTION` as a 64-bit integer and its
point on the WGS-84 ellipsoid in Earth-centred Cartesian coordinates (ECEF, km). A search
around a place turns into:

- a *cover*: ranges of cell numbers that hold every point within the radius. An H3 cell's
  descendants at the stored resolution are one contiguous run of integers (the index
  spells a cell's ancestry digit by digit, coarse to fine), so a coarse cell is one index
  range. Ranges wholly inside the radius are marked `inside`: their rows need no test;
- an exact test for the rest: the straight-line (chord) distance between two ECEF points
  is plain arithmetic on both databases, and it fixes the geodesic distance to within
  1.3e-11 km * d^3 (1.2 cm at 100 km, measured against geographiclib across the globe).
  A row whose chord falls in that thin band around the radius is settled with the
  geodesic itself, so the radius test is exactly the geodesic one, as in the matcher.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import h3.api.basic_int as h3
import numpy as np
import numpy.typing as npt

#: Resolution of the stored cell (average edge 66 m): the finest a cover may go.
STORED_RESOLUTION = 10

WGS84_A_KM = 6378.137
WGS84_F = 1 / 298.257223563
_E2 = WGS84_F * (2 - WGS84_F)
MEAN_RADIUS_KM = 6371.0088

_EDGE_KM = tuple(h3.average_hexagon_edge_length(res, "km") for res in range(16))
# Every point of a cell's descendants lies within REACH x the average edge of its centre:
# 1.16x at most, measured over cells between 70 S and 70 N (centre-to-vertex <= 1.10x the
# average edge, descendants bulging <= 1.06x beyond their ancestor);
# tests/unit/test_search_cover.py checks it. The margin only costs a few more rows read.
REACH = 1.5
# Shortest edge >= 0.745x the average (measured over the globe): bounds the rings needed.
_SHORT_EDGE = 0.7
# The cover starts with cells of an edge at most radius / _COARSE, refined _DEPTH levels
# where they straddle the circle.
_COARSE = 2
_DEPTH = 2
_RES_SHIFT = 52
_RES_MASK = 0xF << _RES_SHIFT


def ecef_km(lat: float, lon: float) -> tuple[float, float, float]:
    """The point on the WGS-84 ellipsoid in Earth-centred Cartesian coordinates, in km."""
    phi, lam = math.radians(lat), math.radians(lon)
    n = WGS84_A_KM / math.sqrt(1 - _E2 * math.sin(phi) ** 2)
    return (
        n * math.cos(phi) * math.cos(lam),
        n * math.cos(phi) * math.sin(lam),
        n * (1 - _E2) * math.sin(phi),
    )


def stored_cell(lat: float, lon: float) -> int:
    """The point's H3 cell at the stored resolution (fits a signed 64-bit column)."""
    return int(h3.latlng_to_cell(lat, lon, STORED_RESOLUTION))


def chord_km(geodesic_km: float) -> float:
    """The straight-line length of a geodesic of this length (inverse of `geodesic_of`)."""
    chord = geodesic_km
    for _ in range(3):  # converges to 1e-15 relative in three steps below 1,000 km
        chord = geodesic_km - chord**3 / (24 * MEAN_RADIUS_KM**2)
    return max(chord, 0.0)


def band_km(radius_km: float) -> float:
    """Half-width of the band where the chord alone cannot decide against the geodesic."""
    return 1e-5 + 3e-11 * radius_km**3


@dataclass(frozen=True)
class Disk:
    """A search circle: its centre in ECEF, the chords bounding the uncertain band, and
    the cell ranges (lo, hi, inside) that hold every stored point within the radius."""

    centre: tuple[float, float, float]
    chord_in: float
    chord_out: float
    ranges: list[tuple[int, int, bool]]


def disk(lat: float, lon: float, radius_km: float) -> Disk:
    """The cover of the points within `radius_km` (geodesic) of (lat, lon)."""
    centre = ecef_km(lat, lon)
    band = band_km(radius_km)
    chord_in, chord_out = chord_km(max(radius_km - band, 0.0)), chord_km(radius_km + band)
    coarse = next(
        (res for res in range(STORED_RESOLUTION) if _EDGE_KM[res] <= radius_km / _COARSE),
        STORED_RESOLUTION,
    )
    edge = _EDGE_KM[coarse]
    rings = math.ceil((radius_km + 2 * REACH * edge) / (1.5 * _SHORT_EDGE * edge)) + 1
    cells = np.array(h3.grid_disk(h3.latlng_to_cell(lat, lon, coarse), rings), dtype=np.int64)
    finest = min(coarse + _DEPTH, STORED_RESOLUTION)
    found: list[tuple[int, int, bool]] = []
    res = coarse
    while cells.size:
        reach = REACH * _EDGE_KM[res]
        points = np.array([h3.cell_to_latlng(int(cell)) for cell in cells])
        gap = np.linalg.norm(_ecef_array(points[:, 0], points[:, 1]) - centre, axis=1)
        near = gap - reach <= chord_out
        inside = near & (gap + reach <= chord_in)
        straddling = near & ~inside
        found += _ranges(cells[inside], res, True)
        if res < finest:
            cells = _children(cells[straddling], res)
        else:
            found += _ranges(cells[straddling], res, False)
            cells = cells[:0]
        res += 1
    return Disk(centre, chord_in, chord_out, _merged(found))


def cell_range(cell: int, res: int) -> tuple[int, int]:
    """The stored cell numbers of `cell`'s descendants: digits below `res` all 0 .. all 7."""
    [(lo, hi, _)] = _ranges(np.array([cell], dtype=np.int64), res, False)
    return lo, hi


def _ranges(cells: npt.NDArray[np.int64], res: int, inside: bool) -> list[tuple[int, int, bool]]:
    stored = (cells & ~_RES_MASK) | (STORED_RESOLUTION << _RES_SHIFT)
    below = (1 << 3 * (15 - res)) - 1
    return [
        (int(lo), int(hi), inside) for lo, hi in zip(stored & ~below, stored | below, strict=True)
    ]


def _children(cells: npt.NDArray[np.int64], res: int) -> npt.NDArray[np.int64]:
    """Every child one resolution finer, by spelling its digit (h3 for the 12 pentagons,
    which lack one child)."""
    pentagon = np.array([h3.is_pentagon(int(cell)) for cell in cells], dtype=bool)
    shift = 3 * (15 - (res + 1))
    parents = (cells[~pentagon] & ~_RES_MASK & ~(7 << shift)) | ((res + 1) << _RES_SHIFT)
    children = (parents[:, None] | (np.arange(7, dtype=np.int64) << shift)[None, :]).ravel()
    odd = [child for cell in cells[pentagon] for child in h3.cell_to_children(int(cell), res + 1)]
    return np.concatenate([children, np.array(odd, dtype=np.int64)])


def _ecef_array(
    lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    phi, lam = np.radians(lat), np.radians(lon)
    n = WGS84_A_KM / np.sqrt(1 - _E2 * np.sin(phi) ** 2)
    return np.stack(
        [n * np.cos(phi) * np.cos(lam), n * np.cos(phi) * np.sin(lam), n * (1 - _E2) * np.sin(phi)],
        axis=1,
    )


def _merged(ranges: list[tuple[int, int, bool]]) -> list[tuple[int, int, bool]]:
    """Adjacent ranges of the same kind joined (siblings are adjacent: digit 7 is unused)."""
    merged: list[tuple[int, int, bool]] = []
    for lo, hi, inside in sorted(ranges):
        if merged and merged[-1][1] + 1 == lo and merged[-1][2] == inside:
            merged[-1] = (merged[-1][0], hi, inside)
        else:
            merged.append((lo, hi, inside))
    return merged
