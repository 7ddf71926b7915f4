"""The matching rules for one offer and one need, and the score that ranks matches."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching.domain import MATCH_NAMESPACE, ActiveListing, Match, match_id
from matching.rules import OUT_OF_RANGE, PRICE_TOO_HIGH, evaluate, rejection
from shared.taxonomy import Taxonomy
from tests.unit.matching_builders import LUXEMBOURG, METZ, listing

TAXONOMY = Taxonomy.load_default()
NOW = 1_800_000_000.0
DAY = 86_400.0
UNICODE = st.characters(exclude_categories=("Cs",))  # no lone surrogates: they cannot be encoded


def check(offer: ActiveListing, need: ActiveListing) -> Match | None:
    return evaluate(offer, need, TAXONOMY, NOW)


def test_a_need_within_its_radius_of_an_offer_matches_it_with_its_reasons() -> None:
    match = check(listing("offer", METZ), listing("need", LUXEMBOURG))
    assert match is not None
    assert 54 < match.distance_km < 56
    assert match.category_relation == "same"
    assert match.quantity_fit == "full"
    assert match.days_left is None
    assert 0 < match.score <= 1


def test_a_need_whose_radius_stops_short_of_the_offer_does_not_match() -> None:
    need = listing("need", LUXEMBOURG, radius_km=40)
    assert check(listing("offer", METZ), need) is None
    assert rejection(listing("offer", METZ), need, TAXONOMY, NOW) == OUT_OF_RANGE


def test_an_offer_delivers_no_further_than_its_delivery_radius() -> None:
    need = listing("need", LUXEMBOURG)
    assert check(listing("offer", METZ, delivery_radius_km=30), need) is None
    assert check(listing("offer", METZ, delivery_radius_km=60), need) is not None


@pytest.mark.parametrize(
    ("need_category", "relation"),
    [("ewc-150103", "same"), ("ewc-1501", "parent"), ("ewc-15", "ancestor")],
)
def test_a_need_for_a_broader_category_matches_and_says_how(
    need_category: str, relation: str
) -> None:
    match = check(listing("offer", METZ), listing("need", LUXEMBOURG, category=need_category))
    assert match is not None and match.category_relation == relation


def test_an_offer_of_a_broader_category_than_the_need_does_not_match() -> None:
    offer = listing("offer", METZ, category="ewc-1501")
    assert check(offer, listing("need", LUXEMBOURG)) is None


def test_listings_of_unrelated_categories_do_not_match() -> None:
    need = listing("need", LUXEMBOURG, category="ewc-170405")
    assert check(listing("offer", METZ), need) is None


def test_an_organisation_is_not_matched_with_itself() -> None:
    offer = listing("offer", METZ)
    need = listing("need", LUXEMBOURG, organisation_id=offer.organisation_id)
    assert check(offer, need) is None


def test_availability_windows_must_overlap() -> None:
    offer = listing("offer", METZ, starts_at=NOW + 10 * DAY, ends_at=NOW + 20 * DAY)
    assert check(offer, listing("need", LUXEMBOURG, ends_at=NOW + 5 * DAY)) is None
    match = check(offer, listing("need", LUXEMBOURG, ends_at=NOW + 15 * DAY))
    assert match is not None and match.days_left == 15


def test_an_expired_listing_does_not_match() -> None:
    offer = listing("offer", METZ, ends_at=NOW - 1)
    assert check(offer, listing("need", LUXEMBOURG)) is None


def test_an_offer_below_the_needs_minimum_does_not_match() -> None:
    need = listing("need", LUXEMBOURG, quantity=20.0, min_quantity=12.0)
    assert check(listing("offer", METZ, quantity=10.0), need) is None


def test_an_offer_between_the_minimum_and_the_need_is_a_partial_fit() -> None:
    need = listing("need", LUXEMBOURG, quantity=20.0, min_quantity=5.0)
    match = check(listing("offer", METZ, quantity=10.0), need)
    assert match is not None and match.quantity_fit == "partial"
    full = check(listing("offer", METZ, quantity=20.0), need)
    assert full is not None and full.quantity_fit == "full" and full.score > match.score


def test_quantities_compare_across_units_of_one_dimension() -> None:
    need = listing("need", LUXEMBOURG, quantity=1.0, unit="t", min_quantity=0.4)
    assert check(listing("offer", METZ, quantity=500.0, unit="kg"), need) is not None
    assert check(listing("offer", METZ, quantity=300.0, unit="kg"), need) is None
    herbs = listing("need", LUXEMBOURG, quantity=2.0, unit="kg", min_quantity=0.5)
    assert check(listing("offer", METZ, quantity=800.0, unit="g"), herbs) is not None
    assert check(listing("offer", METZ, quantity=400.0, unit="g"), herbs) is None


def test_crates_count_as_crates_only() -> None:
    apples = listing("offer", METZ, quantity=12.0, unit="crates")
    need = listing("need", LUXEMBOURG, quantity=10.0, unit="crates", min_quantity=10.0)
    assert check(apples, need) is not None
    assert check(apples, listing("need", LUXEMBOURG, unit="kg", min_quantity=1.0)) is None


def test_units_that_do_not_compare_match_only_a_need_without_a_minimum() -> None:
    offer = listing("offer", METZ, quantity=40.0, unit="pallets")
    free = check(offer, listing("need", LUXEMBOURG, unit="kg"))
    assert free is not None and free.quantity_fit == "partial"
    assert check(offer, listing("need", LUXEMBOURG, unit="kg", min_quantity=100.0)) is None


def test_the_score_follows_the_documented_formula() -> None:
    # 55 km of an 80 km reach, same category, full quantity.
    match = check(listing("offer", METZ), listing("need", LUXEMBOURG))
    assert match is not None
    expected = 0.55 * (1 - match.distance_km / 80) + 0.25 * 1.0 + 0.20 * 1.0
    assert match.score == pytest.approx(expected, abs=1e-4)


def test_a_closer_offer_scores_higher() -> None:
    need = listing("need", LUXEMBOURG)
    near = check(listing("offer", (49.60, 6.13)), need)
    far = check(listing("offer", METZ), need)
    assert near is not None and far is not None and near.score > far.score


def test_a_pair_across_a_border_says_so() -> None:
    match = check(listing("offer", METZ, country="FR"), listing("need", LUXEMBOURG, country="LU"))
    assert match is not None and match.cross_border and match.countries == ("FR", "LU")


def test_the_same_pair_always_gets_the_same_match_id() -> None:
    assert match_id("o1", "n1") == match_id("o1", "n1")
    assert match_id("o1", "n1") != match_id("n1", "o1")
    # Ids published before this issue stay valid.
    assert match_id("o1", "n1") == "76f904e1-3769-5610-bb9f-4f39ba008bdf"


@given(st.text(UNICODE), st.text(UNICODE))
def test_a_match_id_is_the_uuid5_of_the_pair_in_the_match_namespace(offer: str, need: str) -> None:
    assert match_id(offer, need) == str(uuid.uuid5(MATCH_NAMESPACE, f"{offer}|{need}"))


def test_a_need_can_take_free_offers_only_or_up_to_a_price() -> None:
    free_only = listing("need", LUXEMBOURG, max_price=0.0)
    up_to_two = listing("need", LUXEMBOURG, max_price=2.0)
    gift = listing("offer", METZ, price_mode="free")
    cheap = listing("offer", METZ, price_mode="per_unit", price_amount=1.5)
    dear = listing("offer", METZ, price_mode="per_unit", price_amount=3.0)
    to_agree = listing("offer", METZ, price_mode="negotiable")
    assert check(gift, free_only) is not None
    assert rejection(cheap, free_only, TAXONOMY, NOW) == PRICE_TOO_HIGH
    assert rejection(to_agree, free_only, TAXONOMY, NOW) == PRICE_TOO_HIGH
    assert check(cheap, up_to_two) is not None and check(to_agree, up_to_two) is not None
    assert rejection(dear, up_to_two, TAXONOMY, NOW) == PRICE_TOO_HIGH
    assert check(dear, listing("need", LUXEMBOURG)) is not None, "no maximum: any price"
