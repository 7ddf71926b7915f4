"""The thin matching rules: same category, opposite kinds, other organisation, within radius."""

from __future__ import annotations

from dataclasses import replace

from matching.domain import ActiveListing, ListingIndex, evaluate, match_id

# Metz and Luxembourg City are about 50 km apart.
METZ = (49.1193, 6.1757)
LUXEMBOURG = (49.6116, 6.1319)


def listing(kind: str, where: tuple[float, float], **overrides: object) -> ActiveListing:
    base = ActiveListing(
        id=f"{kind}-{where[0]}",
        organisation_id=f"org-{kind}",
        kind=kind,
        category="ewc-150103",
        lat=where[0],
        lon=where[1],
        radius_km=80.0,
        quantity=10.0,
        unit="pallets",
        title=f"{kind} of pallets",
        version=1,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def test_a_need_within_its_radius_of_an_offer_matches_it() -> None:
    match = evaluate(listing("offer", METZ), listing("need", LUXEMBOURG))
    assert match is not None
    assert 45 < match.distance_km < 60
    assert match.category_relation == "same"
    assert 0 < match.score <= 1


def test_a_need_whose_radius_stops_short_of_the_offer_does_not_match() -> None:
    assert evaluate(listing("offer", METZ), listing("need", LUXEMBOURG, radius_km=40)) is None


def test_listings_of_different_categories_do_not_match() -> None:
    need = listing("need", LUXEMBOURG, category="ewc-170405")
    assert evaluate(listing("offer", METZ), need) is None


def test_an_organisation_is_not_matched_with_itself() -> None:
    need = listing("need", LUXEMBOURG, organisation_id="org-offer")
    assert evaluate(listing("offer", METZ), need) is None


def test_the_same_pair_always_gets_the_same_match_id() -> None:
    assert match_id("o1", "n1") == match_id("o1", "n1")
    assert match_id("o1", "n1") != match_id("n1", "o1")


def test_the_index_finds_matches_from_either_side_and_best_first() -> None:
    index = ListingIndex()
    near = listing("offer", (49.60, 6.13), id="near")
    far = listing("offer", METZ, id="far")
    need = listing("need", LUXEMBOURG, id="need")
    for item in (near, far, need):
        index.put(item)
    assert [m.offer.id for m in index.find_matches(need)] == ["near", "far"]
    assert [m.need.id for m in index.find_matches(near)] == ["need"]


def test_an_older_version_never_overwrites_a_newer_one_in_the_index() -> None:
    index = ListingIndex()
    index.put(listing("need", LUXEMBOURG, id="n", version=2, title="new"))
    index.put(listing("need", LUXEMBOURG, id="n", version=1, title="old"))
    current = index.get("n")
    assert current is not None and current.title == "new"


def test_a_removed_listing_stops_matching() -> None:
    index = ListingIndex()
    offer = listing("offer", METZ, id="o")
    index.put(offer)
    index.put(listing("need", LUXEMBOURG, id="n"))
    index.remove("n")
    assert index.find_matches(offer) == []
