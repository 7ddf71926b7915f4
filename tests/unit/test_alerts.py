"""Alert composition: both parties of a match hear of the other side."""

from __future__ import annotations

from notifications.alerts import alerts_for_match
from shared.contracts import MatchFound
from shared.events import typed_data


def side(listing_id: str, org: str, title: str, version: int) -> dict[str, object]:
    return {
        "listing_id": listing_id,
        "organisation_id": org,
        "title": title,
        "category": "ewc-150103",
        "quantity": 12.0,
        "unit": "pallets",
        "location": {"lat": 49.6, "lon": 6.1},
        "version": version,
    }


def test_a_match_alerts_the_buyer_of_the_offer_and_the_seller_of_the_need() -> None:
    match = typed_data(
        "boucle.match.found",
        {
            "match_id": "m-1",
            "offer": side("offer-1", "farm", "Pallets to give", 2),
            "need": side("need-1", "canteen", "Looking for pallets", 5),
            "score": 0.8,
            "reasons": {"distance_km": 12.5, "category_relation": "same"},
        },
    )
    assert isinstance(match, MatchFound)
    buyer, seller = alerts_for_match(match)
    assert (buyer.role, buyer.listing_id, buyer.organisation_id) == ("buyer", "need-1", "canteen")
    assert buyer.counterpart_title == "Pallets to give"
    assert (seller.role, seller.listing_id) == ("seller", "offer-1")
    assert seller.counterpart_title == "Looking for pallets"
    assert buyer.distance_km == seller.distance_km == 12.5
    # Each alert remembers the versions the match was computed from, to be retracted by.
    assert (buyer.listing_version, buyer.counterpart_version) == (5, 2)
    assert (seller.listing_version, seller.counterpart_version) == (2, 5)
