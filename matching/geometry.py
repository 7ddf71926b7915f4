"""Distances for many pairs at once, exact where it matters, and H3 disk sizes.

`geopy.distance.geodesic` costs ~60 µs a pair. Andoyer-Lambert (the sphere, corrected to
first order in the WGS-84 flattening) costs well under a microsecond a pair with numpy and
stays within a metre of the geodesic across the Greater Region. So every candidate is
measured with it, and only a pair within `edge_margin_km` of its radius, where a metre
could flip the answer, is settled with geopy's geodesic: the result equals the geodesic
rule exactly.
"""

from __future__ import annotations

import math

import h3.api.basic_int as h3
import numpy as np
import numpy.typing as npt

from shared.geo.distance import geodesic_km

FloatArray = npt.NDArray[np.float64]

WGS84_A_KM = 6378.137
WGS84_F = 1 / 298.257223563

#: Resolutions offers are indexed at (average hexagon edge: 26, 9.9, 3.7, 1.4 km).
LEVELS = (4, 5, 6, 7)
MAX_K = 6  # grid_disk(k) holds 3k(k+1)+1 cells: 127 at k=6
# Within the Greater Region, measured: shortest edge >= 0.87x the average, centre-to-vertex
# <= 1.02x; these bounds keep a margin for the rest of Europe.
_SHORT_EDGE, _CIRCUMRADIUS = 0.85, 1.05


def andoyer_lambert_km(
    lat1: float | FloatArray, lon1: float | FloatArray, lat2: FloatArray, lon2: FloatArray
) -> FloatArray:
    """Ellipsoidal distance in km (error < 1 m over a few hundred km), vectorised."""
    beta1 = np.arctan((1 - WGS84_F) * np.tan(np.radians(lat1)))
    beta2 = np.arctan((1 - WGS84_F) * np.tan(np.radians(lat2)))
    half_dlon = np.radians(lon2 - lon1) / 2
    hav = np.sin((beta2 - beta1) / 2) ** 2 + np.cos(beta1) * np.cos(beta2) * np.sin(half_dlon) ** 2
    sigma = 2 * np.arcsin(np.sqrt(np.clip(hav, 0.0, 1.0)))
    p, q = (beta1 + beta2) / 2, (beta2 - beta1) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        x = (sigma - np.sin(sigma)) * np.sin(p) ** 2 * np.cos(q) ** 2 / np.cos(sigma / 2) ** 2
        y = (sigma + np.sin(sigma)) * np.cos(p) ** 2 * np.sin(q) ** 2 / np.sin(sigma / 2) ** 2
        distance = WGS84_A_KM * (sigma - WGS84_F / 2 * (x + y))
    return np.where(sigma == 0, 0.0, distance)


def edge_margin_km(distance_km: FloatArray) -> FloatArray:
    """Band around a radius where the approximation defers to the exact geodesic."""
    return 0.005 + 2e-5 * distance_km


def within_reach(
    origin: tuple[float, float], lats: FloatArray, lons: FloatArray, reach: FloatArray
) -> tuple[npt.NDArray[np.bool_], FloatArray]:
    """(inside, distance_km) for each point: inside means geodesic distance <= reach."""
    distance = andoyer_lambert_km(origin[0], origin[1], lats, lons)
    near_edge = np.abs(distance - reach) <= edge_margin_km(distance)
    for i in np.flatnonzero(near_edge):
        distance[i] = geodesic_km(origin, (float(lats[i]), float(lons[i])))
    return distance <= reach, distance


def disk_k(radius_km: float, resolution: int) -> int:
    """Smallest k such that grid_disk(cell of p, k) holds every cell within radius of p."""
    edge = h3.average_hexagon_edge_length(resolution, "km")
    # A point lies within one circumradius of its cell's centre; cells k+1 steps away have
    # centres at least 1.5 * k+1 * shortest edge away.
    return max(0, math.floor((radius_km + 2 * _CIRCUMRADIUS * edge) / (1.5 * _SHORT_EDGE * edge)))


def level_for(radius_km: float) -> int:
    """The finest indexed resolution whose disk for `radius_km` stays small."""
    for resolution in reversed(LEVELS):
        if disk_k(radius_km, resolution) <= MAX_K:
            return resolution
    return LEVELS[0]


def cells_of(lat: float, lon: float) -> tuple[int, ...]:
    """The point's cell at each indexed level (coarse to fine)."""
    # Not cell_to_parent: H3 parents only roughly contain their children, and the disk
    # bound holds for the cell that geometrically contains the point.
    return tuple(h3.latlng_to_cell(lat, lon, res) for res in LEVELS)


def cell_at(lat: float, lon: float, resolution: int) -> int:
    """The cell holding the point at `resolution`."""
    return int(h3.latlng_to_cell(lat, lon, resolution))


def disk(lat: float, lon: float, radius_km: float, resolution: int) -> list[int]:
    """Cells at `resolution` that may hold a point within `radius_km` of (lat, lon)."""
    centre = h3.latlng_to_cell(lat, lon, resolution)
    return list(h3.grid_disk(centre, disk_k(radius_km, resolution)))
