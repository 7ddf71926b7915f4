"""The spatial index finds what the rules allow, from either side, without scanning all."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from geopy.distance import geodesic

from matching.domain import ActiveListing
from matching.index import ListingIndex
from shared.taxonomy import Taxonomy
from tests.unit.matching_builders import LUXEMBOURG, METZ, listing

TAXONOMY = Taxonomy.load_default()
NOW = 1_800_000_000.0
LIEGE = (50.6326, 5.5797)
KAISERSLAUTERN = (49.4447, 7.7690)


def index_of(*listings: ActiveListing, **kwargs: object) -> ListingIndex:
    index = ListingIndex(TAXONOMY, **kwargs)  # type: ignore[arg-type]
    for item in listings:
        index.put(item)
    return index


def test_the_index_finds_matches_from_either_side_and_best_first() -> None:
    near = listing("offer", (49.60, 6.13), id="near")
    far = listing("offer", METZ, id="far")
    need = listing("need", LUXEMBOURG, id="need")
    index = index_of(near, far, need)
    assert [m.offer.id for m in index.find_matches(need, NOW)] == ["near", "far"]
    assert [m.need.id for m in index.find_matches(near, NOW)] == ["need"]


def test_a_need_with_a_300_km_radius_finds_an_offer_across_the_region() -> None:
    offer = listing("offer", KAISERSLAUTERN, id="o")
    need = listing("need", LIEGE, id="n", radius_km=300)
    index = index_of(offer, need)
    [match] = index.find_matches(need, NOW)
    assert 200 < match.distance_km < 300
    assert [m.need.id for m in index.find_matches(offer, NOW)] == ["n"]


def test_an_offer_finds_needs_of_every_radius_class_and_of_broader_categories() -> None:
    offer = listing("offer", METZ, id="o")
    needs = [
        listing("need", (49.12, 6.18), id="n-1km", radius_km=1.5),
        listing("need", LUXEMBOURG, id="n-60km", radius_km=60, category="ewc-1501"),
        listing("need", LIEGE, id="n-far", radius_km=700, category="materials"),
        listing("need", LIEGE, id="n-short", radius_km=100),
    ]
    index = index_of(offer, *needs)
    found = {m.need.id: m.category_relation for m in index.find_matches(offer, NOW)}
    assert found == {"n-1km": "same", "n-60km": "parent", "n-far": "ancestor"}


def test_a_pair_right_at_the_radius_matches_and_a_metre_beyond_does_not() -> None:
    exact = geodesic(METZ, LUXEMBOURG).km
    offer = listing("offer", METZ, id="o")
    at_edge = listing("need", LUXEMBOURG, id="edge", radius_km=exact)
    beyond = listing("need", LUXEMBOURG, id="beyond", radius_km=exact - 0.001)
    index = index_of(offer, at_edge, beyond)
    assert [m.need.id for m in index.find_matches(offer, NOW)] == ["edge"]


def test_an_older_version_never_overwrites_a_newer_one() -> None:
    index = index_of(listing("need", LUXEMBOURG, id="n", version=2, title="new"))
    assert not index.put(listing("need", LUXEMBOURG, id="n", version=1, title="old"))
    current = index.get("n")
    assert current is not None and current.title == "new"


def test_an_updated_listing_is_found_where_it_now_is() -> None:
    need = listing("need", LUXEMBOURG, id="n", radius_km=10)
    offer = listing("offer", METZ, id="o")
    index = index_of(need, offer)
    assert index.find_matches(offer, NOW) == []
    index.put(replace(need, version=2, radius_km=100))
    assert [m.need.id for m in index.find_matches(offer, NOW)] == ["n"]


def test_a_removed_listing_stops_matching() -> None:
    offer = listing("offer", METZ, id="o")
    index = index_of(offer, listing("need", LUXEMBOURG, id="n"))
    assert index.remove("n") is not None
    assert index.find_matches(offer, NOW) == []
    assert len(index) == 1


def test_an_expired_counterpart_is_not_matched_even_before_its_expiry_event() -> None:
    offer = listing("offer", METZ, id="o", ends_at=NOW - 60)
    need = listing("need", LUXEMBOURG, id="n")
    assert index_of(offer, need).find_matches(need, NOW) == []


def test_rows_freed_by_removals_are_reused_and_listings_survive_growth() -> None:
    index = ListingIndex(TAXONOMY)
    for i in range(3000):
        index.put(listing("offer", (49.0 + i * 1e-4, 6.0), id=f"o{i}"))
    for i in range(0, 3000, 2):
        index.remove(f"o{i}")
    index.put(listing("offer", METZ, id="late"))
    assert len(index) == 1501
    held = index.get("o2999")
    assert held is not None and held.lat == 49.0 + 2999 * 1e-4


def test_missing_countries_come_from_the_resolver_for_the_border_reason() -> None:
    def country_of(lat: float, lon: float) -> str:
        return "LU" if lat > 49.45 else "FR"

    offer = listing("offer", METZ, id="o")
    need = listing("need", LUXEMBOURG, id="n")
    [match] = index_of(offer, need, country_of=country_of).find_matches(need, NOW)
    assert match.cross_border and match.countries == ("FR", "LU")


def test_a_listing_of_an_unknown_category_is_not_indexed() -> None:
    index = index_of(listing("offer", METZ, id="o", category="no-such-thing"))
    assert index.get("o") is None
    assert index.find_matches(listing("need", METZ, category="no-such-thing"), NOW) == []


def test_candidates_come_from_nearby_cells_not_from_every_listing() -> None:
    far_away = [listing("offer", (50.5, 5.5 + i * 1e-3), id=f"far{i}") for i in range(200)]
    near = listing("offer", (49.60, 6.13), id="near")
    need = listing("need", LUXEMBOURG, id="n", radius_km=5)
    found = index_of(*far_away, near, need).find(need, NOW)
    assert len(found) == 1 and found.candidates == 1


def test_listings_read_column_by_column_are_the_listings_stored() -> None:
    stored = [
        listing("offer", METZ, id="bare"),
        listing(
            "need",
            LUXEMBOURG,
            id="full",
            min_quantity=2.5,
            starts_at=NOW - 10,
            ends_at=NOW + 10,
            place="Luxembourg",
            country="LU",
            max_price=0.0,
        ),
        listing(
            "offer",
            LIEGE,
            id="priced",
            delivery_radius_km=30.0,
            price_mode="per_unit",
            price_amount=4.5,
        ),
    ]
    index = index_of(*stored)
    rows = np.array([index.table.row_of[item.id] for item in stored], dtype=np.int64)
    assert index.table.get_many(rows) == stored == [index.table.get(int(r)) for r in rows]
