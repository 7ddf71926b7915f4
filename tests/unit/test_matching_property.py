"""The indexed matcher finds exactly what the brute-force oracle (all pairs, geodesic) finds.

Random listings across the Greater Region and the whole category tree, radii from 1 to
300 km, offers placed right at a need's radius (on either side of it by a few
millimetres) and points around the borders.
"""

from __future__ import annotations

from geopy.distance import geodesic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.bruteforce import brute_force_matches
from matching.domain import ActiveListing
from matching.index import ListingIndex
from shared.taxonomy import Taxonomy

TAXONOMY = Taxonomy.load_default()
CATEGORIES = [c.id for c in TAXONOMY.all()]
NOW = 1_800_000_000.0
DAY = 86_400.0
# Where three countries meet: Schengen (LU/FR/DE) and Longwy-Athus (BE/LU/FR).
BORDER_POINTS = [(49.4697, 6.3672), (49.5463, 5.8184), (49.1155, 6.9856)]

latitudes = st.floats(48.3, 50.9)
longitudes = st.floats(4.3, 8.5)
near_border = st.builds(
    lambda p, dlat, dlon: (p[0] + dlat, p[1] + dlon),
    st.sampled_from(BORDER_POINTS),
    st.floats(-0.05, 0.05),
    st.floats(-0.05, 0.05),
)
points = st.one_of(st.tuples(latitudes, longitudes), near_border)
windows = st.one_of(
    st.just((None, None)),
    st.tuples(st.integers(-20, 20), st.integers(-5, 40)).map(
        lambda w: (NOW + w[0] * DAY, NOW + (w[0] + abs(w[1]) + 0.5) * DAY)
    ),
)


@st.composite
def listings(draw: st.DrawFn, kind: str, index: int) -> ActiveListing:
    lat, lon = draw(points)
    starts, ends = draw(windows)
    unit = draw(st.sampled_from(["kg", "g", "t", "pallets", "crates"]))
    quantity = draw(st.sampled_from([0.5, 1.0, 10.0, 500.0]))
    return ActiveListing(
        id=f"{kind}{index}",
        organisation_id=draw(st.sampled_from(["org-a", "org-b", "org-c", f"org-{kind}{index}"])),
        kind=kind,
        category=draw(st.sampled_from(CATEGORIES)),
        lat=lat,
        lon=lon,
        quantity=quantity,
        unit=unit,
        title=f"{kind} {index}",
        version=1,
        radius_km=draw(st.floats(1.0, 300.0)) if kind == "need" else 0.0,
        delivery_radius_km=draw(st.one_of(st.none(), st.floats(1.0, 300.0)))
        if kind == "offer"
        else None,
        min_quantity=draw(st.one_of(st.none(), st.sampled_from([0.2, 1.0, 50.0])))
        if kind == "need"
        else None,
        starts_at=starts,
        ends_at=ends,
        price_mode=draw(st.sampled_from(["free", "per_unit", "negotiable"]))
        if kind == "offer"
        else "free",
        price_amount=draw(st.one_of(st.none(), st.sampled_from([0.5, 2.0, 10.0])))
        if kind == "offer"
        else None,
        max_price=draw(st.one_of(st.none(), st.sampled_from([0.0, 1.0, 2.0, 50.0])))
        if kind == "need"
        else None,
    )


@st.composite
def offers_at_the_edge(draw: st.DrawFn, need: ActiveListing, index: int) -> ActiveListing:
    """An offer of the need's category exactly at, or a hair either side of, its radius."""
    offset_km = draw(st.sampled_from([0.0, -1e-6, 1e-6, -2e-3, 2e-3]))
    bearing = draw(st.floats(0, 360))
    where = geodesic(kilometers=need.radius_km + offset_km).destination(
        (need.lat, need.lon), bearing
    )
    return ActiveListing(
        id=f"edge{index}",
        organisation_id=f"org-edge{index}",
        kind="offer",
        category=need.category,
        lat=where.latitude,
        lon=where.longitude,
        quantity=need.quantity,
        unit=need.unit,
        title="at the edge",
        version=1,
        # Priced, so a need's maximum price decides some of the pairs that otherwise fit.
        price_mode=draw(st.sampled_from(["free", "per_unit", "negotiable"])),
        price_amount=draw(st.sampled_from([None, 0.5, 2.0, 10.0])),
    )


@st.composite
def markets(draw: st.DrawFn) -> list[ActiveListing]:
    offers = [draw(listings("offer", i)) for i in range(draw(st.integers(1, 25)))]
    needs = [draw(listings("need", i)) for i in range(draw(st.integers(1, 15)))]
    edge = [draw(offers_at_the_edge(n, i)) for i, n in enumerate(needs[:4])]
    return offers + needs + edge


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markets())
def test_the_index_finds_exactly_the_matches_of_the_brute_force_oracle(
    market: list[ActiveListing],
) -> None:
    index = ListingIndex(TAXONOMY)
    for item in market:
        index.put(item)
    for item in market:
        indexed = {m.id: m for m in index.find_matches(item, NOW)}
        oracle = {m.id: m for m in brute_force_matches(item, market, TAXONOMY, NOW)}
        assert set(indexed) == set(oracle), item
        for match_id, expected in oracle.items():
            got = indexed[match_id]
            assert abs(got.distance_km - expected.distance_km) <= 0.002
            assert abs(got.score - expected.score) <= 2e-4
            assert (got.category_relation, got.quantity_fit, got.days_left) == (
                expected.category_relation,
                expected.quantity_fit,
                expected.days_left,
            )
