"""The impact summary: which needs count, how quantities become tonnes and CO2e, the CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from monitor.domain.activity import ActivityProjection
from shared.contracts import MatchesSettled
from shared.event_schemas import MATCH_FOUND, MATCH_RETRACTED, MATCHES_SETTLED
from shared.events import typed_data
from shared.impact.factors import MATERIALS, ROAD_FREIGHT_KG_PER_TKM
from shared.impact.summary import impact_summary, to_tonnes, transfers
from shared.impact.table import IMPACT_COLUMNS, impact_csv
from shared.taxonomy import Taxonomy

TAXONOMY = Taxonomy.load_default()


def lineage(category: str) -> list[str]:
    return [category, *TAXONOMY.ancestors(category)]


def listing(lid: str, kind: str, status: str, quantity: float, unit: str, category: str) -> dict:
    return {
        "id": lid,
        "kind": kind,
        "status": status,
        "quantity": quantity,
        "unit": unit,
        "category": category,
        "organisation_id": f"org-{lid}",
        "version": 1,
    }


def exchange(
    xid: str, listing_id: str, status: str, owner: float | None, requester: float | None, unit: str
) -> dict:
    return {
        "id": xid,
        "listing_id": listing_id,
        "requester_organisation_id": "canteen",
        "status": status,
        "unit": unit,
        "owner_handed_over": owner,
        "requester_handed_over": requester,
    }


METZ, LUXEMBOURG = {"lat": 49.1193, "lon": 6.1757}, {"lat": 49.6116, "lon": 6.1319}
ORGANISATIONS = {"canteen": {"location": LUXEMBOURG}}


@pytest.mark.parametrize(
    ("quantity", "unit", "category", "tonnes"),
    [
        (2, "t", "ewc-170405", 2),
        (500, "kg", "ewc-150101", 0.5),
        (40, "pallets", "reuse-pallets-epal", 1.0),
        (10, "m3", "ewc-170201", 4.5),
        (1000, "l", "produce-dairy-milk", 1.03),
        (3, "pallets", "ewc-170102", None),  # a pallet of bricks weighs what the bricks weigh
        (5, "pieces", "reuse-it-computers", None),
    ],
)
def test_quantities_become_tonnes_only_where_the_unit_allows(quantity, unit, category, tonnes):
    assert to_tonnes(quantity, unit, category, lineage) == pytest.approx(tonnes)


def test_only_exchanges_confirmed_by_both_sides_count_with_the_smaller_figure():
    listings = {
        "o1": listing("o1", "offer", "published", 40, "pallets", "reuse-pallets-epal")
        | {"location": METZ},
        "o2": listing("o2", "offer", "reserved", 5, "t", "ewc-170405"),
    }
    moved = transfers(
        listings,
        [
            exchange("a", "o1", "completed", 20, 18, "pallets"),  # counted: 18 pallets
            exchange("b", "o1", "accepted", 10, None, "pallets"),  # one side only
            exchange("c", "o2", "cancelled", None, None, "t"),
        ],
        ORGANISATIONS,
        lineage,
    )
    assert [(t.need_id, t.offer_id, t.quantity, t.tonnes) for t in moved] == [
        ("a", "o1", 18, pytest.approx(0.45))
    ]
    assert 54 < moved[0].distance_km < 56, "from the listing to the other organisation"


def test_co2e_is_tonnes_times_the_factor_and_transport_is_compared_with_the_long_chain():
    listings = {"o": listing("o", "offer", "closed", 2, "t", "ewc-170405") | {"location": METZ}}
    near = {"canteen": {"location": {"lat": 49.4797, "lon": 6.1765}}}  # 40 km north
    moved = transfers(listings, [exchange("x", "o", "completed", 2, 2, "t")], near, lineage)
    rows, total = impact_summary(moved, lineage, 500)
    [steel] = rows
    assert steel.material.key == "steel" and steel.tonnes == 2
    assert steel.co2e_kg == pytest.approx(2 * MATERIALS["steel"].kg_co2e_per_tonne)
    assert steel.tonne_km == pytest.approx(80, abs=0.5) and steel.long_chain_tonne_km == 1000
    avoided = (1000 - steel.tonne_km) * ROAD_FREIGHT_KG_PER_TKM
    assert steel.transport_co2e_avoided_kg == pytest.approx(avoided)
    assert total.co2e_kg == steel.co2e_kg
    assert steel.net_co2e_kg == pytest.approx(
        steel.co2e_kg - steel.tonne_km * ROAD_FREIGHT_KG_PER_TKM
    )


def test_the_csv_has_a_line_per_material_and_a_total_with_its_factor_source():
    listings = {"o": listing("o", "offer", "closed", 5, "pieces", "reuse-it-computers")}
    moved = transfers(listings, [exchange("x", "o", "completed", 5, 5, "pieces")], {}, lineage)
    rows, total = impact_summary(moved, lineage, 500)
    lines = list(csv.DictReader(io.StringIO(impact_csv(rows, total))))
    assert tuple(lines[0]) == IMPACT_COLUMNS
    assert [line["material"] for line in lines] == ["IT equipment", "Total"]
    assert lines[0]["unconverted_quantities"] == "5 pieces"
    assert "DESNZ" in lines[0]["factor_source"] and "2025" in lines[0]["factor_source"]


def listing_changed(lid: str, kind: str, status: str, version: int, when: datetime):
    data = listing(lid, kind, status, 5, "t", "ewc-170405") | {
        "version": version,
        "updated_at": when,
        "location": {"lat": 49.6, "lon": 6.1},
        "title": "Steel beams",
        "radius_km": 0.0,
    }
    return typed_data(f"boucle.listing.{status}", data)


def match_event(
    event_type: str, mid: str, offer: str, need: str, versions: tuple[int, int] = (1, 1)
):
    def side(lid: str, version: int) -> dict:
        return {
            "listing_id": lid,
            "organisation_id": f"org-{lid}",
            "title": f"Listing {lid}",
            "category": "ewc-170405",
            "quantity": 5.0,
            "unit": "t",
            "location": {"lat": 49.6, "lon": 6.1},
            "version": version,
        }

    data = {
        "match_id": mid,
        "score": 0.5,
        "offer": side(offer, versions[0]),
        "need": side(need, versions[1]),
        "reasons": {"distance_km": 3, "category_relation": "same"},
    }
    return typed_data(event_type, data)


def live_matches(projection: ActivityProjection) -> list[str]:
    return sorted(projection.matches)


WHEN = datetime(2026, 11, 20, 9, tzinfo=UTC)


def test_the_projection_counts_per_day_and_forgets_retracted_matches():
    projection = ActivityProjection()
    when = WHEN
    projection.apply(
        "boucle.listing.published", when, listing_changed("o", "offer", "published", 1, when)
    )
    projection.apply("boucle.match.found", when, match_event(MATCH_FOUND, "m", "o", "n"))
    projection.apply("boucle.match.retracted", when, match_event(MATCH_RETRACTED, "m", "o", "n"))
    series = projection.series(when.date(), days=2)
    assert series["listings"][-1] == (when.date(), 1)
    assert series["matches"][-1] == (when.date(), 1)
    assert projection.matches == {}
    assert [row["title"] for row in projection.active_listings()] == ["Steel beams"]


def test_a_settled_listing_drops_the_matches_computed_from_its_older_versions():
    projection = ActivityProjection()
    projection.apply(MATCH_FOUND, WHEN, match_event(MATCH_FOUND, "old", "o", "n1", (1, 1)))
    projection.apply(MATCH_FOUND, WHEN, match_event(MATCH_FOUND, "new", "o", "n2", (2, 1)))
    projection.apply(MATCH_FOUND, WHEN, match_event(MATCH_FOUND, "other", "o2", "n1", (1, 1)))
    projection.apply(MATCHES_SETTLED, WHEN, MatchesSettled("o", "offer", 2, "published"))
    assert live_matches(projection) == ["new", "other"]
    # Found once each: settling forgets a match but does not uncount it.
    assert projection.series(WHEN.date(), days=1)["matches"] == [(WHEN.date(), 3)]


def test_a_listing_that_left_published_drops_all_its_matches():
    projection = ActivityProjection()
    projection.apply(MATCH_FOUND, WHEN, match_event(MATCH_FOUND, "a", "o", "n1", (2, 1)))
    projection.apply(MATCH_FOUND, WHEN, match_event(MATCH_FOUND, "b", "o2", "n2", (1, 1)))
    projection.apply(MATCHES_SETTLED, WHEN, MatchesSettled("o", "offer", 2, "reserved"))
    assert live_matches(projection) == ["b"]
    projection.apply(
        "boucle.listing.closed", WHEN, listing_changed("n2", "need", "closed", 2, WHEN)
    )
    assert live_matches(projection) == []


def test_matches_older_than_what_the_projection_has_seen_are_dropped_as_stale():
    projection = ActivityProjection()
    projection.apply(MATCH_FOUND, WHEN, match_event(MATCH_FOUND, "m", "o", "n", (2, 1)))
    # A retraction computed from the offer's version 1 arrives late: the match stands.
    projection.apply(MATCH_RETRACTED, WHEN, match_event(MATCH_RETRACTED, "m", "o", "n", (1, 1)))
    assert live_matches(projection) == ["m"]
    # So does a match found from that older version, once the offer is settled at 2.
    projection.apply(MATCHES_SETTLED, WHEN, MatchesSettled("o", "offer", 2, "published"))
    projection.apply(MATCH_FOUND, WHEN, match_event(MATCH_FOUND, "late", "o", "n3", (1, 1)))
    assert live_matches(projection) == ["m"]
    # A retraction at the versions the match was found from does retract it.
    projection.apply(MATCH_RETRACTED, WHEN, match_event(MATCH_RETRACTED, "m", "o", "n", (2, 1)))
    assert live_matches(projection) == []


def test_a_late_reservation_does_not_drop_matches_found_after_the_listing_was_republished():
    # The offer was reserved at version 2 and published again at version 3; the monitor
    # reads the match found from version 3 before the listings topic's version 2.
    projection = ActivityProjection()
    projection.apply(MATCH_FOUND, WHEN, match_event(MATCH_FOUND, "m", "o", "n", (3, 1)))
    projection.apply(
        "boucle.listing.reserved", WHEN, listing_changed("o", "offer", "reserved", 2, WHEN)
    )
    assert live_matches(projection) == ["m"]


def test_a_late_settlement_of_a_reserved_version_does_not_drop_newer_matches():
    projection = ActivityProjection()
    projection.apply(MATCH_FOUND, WHEN, match_event(MATCH_FOUND, "m", "o", "n", (3, 1)))
    projection.apply(MATCHES_SETTLED, WHEN, MatchesSettled("o", "offer", 2, "reserved"))
    assert live_matches(projection) == ["m"]
