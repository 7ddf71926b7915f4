"""The cells of a search disk hold every point within the radius, and the chord test agrees
with the geodesic: checked against geographiclib on random places across the globe."""

from __future__ import annotations

import bisect
import math
import random

import h3.api.basic_int as h3
import pytest
from geographiclib.geodesic import Geodesic

from listings import spatial

WGS84 = Geodesic.WGS84


def _in_ranges(cell: int, ranges: list[tuple[int, int, bool]]) -> tuple[int, int, bool] | None:
    at = bisect.bisect_right(ranges, (cell, math.inf, True)) - 1
    if at >= 0 and ranges[at][0] <= cell <= ranges[at][1]:
        return ranges[at]
    return None


@pytest.mark.parametrize("seed", range(4))
def test_every_point_within_the_radius_is_in_the_cover_and_inside_ranges_hold_no_other(seed):
    rng = random.Random(seed)
    for _ in range(25):
        lat, lon = rng.uniform(-70, 70), rng.uniform(-180, 180)
        radius = math.exp(rng.uniform(math.log(0.3), math.log(500)))
        disk = spatial.disk(lat, lon, radius)
        assert disk.ranges == sorted(disk.ranges)
        for _ in range(200):
            # Points clustered around the circle, where mistakes would be.
            distance = radius * rng.uniform(0.0, 1.3) ** 0.5
            moved = WGS84.Direct(lat, lon, rng.uniform(0, 360), distance * 1000)
            point = (moved["lat2"], moved["lon2"])
            geodesic = WGS84.Inverse(lat, lon, *point)["s12"] / 1000
            found = _in_ranges(spatial.stored_cell(*point), disk.ranges)
            if geodesic <= radius:
                assert found is not None, (lat, lon, radius, point)
            if found is not None and found[2]:
                assert geodesic <= radius, (lat, lon, radius, point)
            chord = math.dist(disk.centre, spatial.ecef_km(*point))
            if chord <= disk.chord_in:
                assert geodesic <= radius
            if chord > disk.chord_out:
                assert geodesic > radius


def test_a_cells_range_holds_its_descendants_and_no_neighbours():
    cell = h3.latlng_to_cell(49.61, 6.13, 6)
    lo, hi = spatial.cell_range(cell, 6)
    for child in h3.cell_to_children(cell, spatial.STORED_RESOLUTION):
        assert lo <= child <= hi
    for neighbour in h3.grid_ring(cell, 1):
        for child in h3.cell_to_children(neighbour, spatial.STORED_RESOLUTION):
            assert not lo <= child <= hi


def test_descendants_stay_within_the_reach_the_cover_assumes():
    rng = random.Random(7)
    for res in range(3, 9):
        reach = spatial.REACH * h3.average_hexagon_edge_length(res, "km")
        for _ in range(12):
            cell = h3.latlng_to_cell(rng.uniform(-70, 70), rng.uniform(-180, 180), res)
            centre = h3.cell_to_latlng(cell)
            farthest = max(
                WGS84.Inverse(*centre, *vertex)["s12"] / 1000
                for child in h3.cell_to_children(cell, res + 2)
                for vertex in h3.cell_to_boundary(child)
            )
            # The bound holds with room to spare (measured: at most 1.16x the average edge).
            assert farthest <= reach / 1.2


def test_the_chord_of_a_geodesic_is_within_the_band():
    rng = random.Random(3)
    for _ in range(2000):
        lat, lon = rng.uniform(-80, 80), rng.uniform(-180, 180)
        distance = rng.uniform(0.01, 700)
        moved = WGS84.Direct(lat, lon, rng.uniform(0, 360), distance * 1000)
        chord = math.dist(spatial.ecef_km(lat, lon), spatial.ecef_km(moved["lat2"], moved["lon2"]))
        assert spatial.chord_km(distance - spatial.band_km(distance)) <= chord
        assert chord <= spatial.chord_km(distance + spatial.band_km(distance))
