"""The impact summary: which needs count, how quantities become tonnes and CO2e, the CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from monitor.domain.activity import ActivityProjection
from monitor.domain.factors import MATERIALS, ROAD_FREIGHT_KG_PER_TKM
from monitor.domain.impact import impact_summary, to_tonnes, transfers
from monitor.serialize import IMPACT_COLUMNS, impact_csv
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


def match(mid: str, offer: str, need: str, score: float, km: float) -> dict:
    return {
        "match_id": mid,
        "offer": {"listing_id": offer},
        "need": {"listing_id": need},
        "score": score,
        "reasons": {"distance_km": km},
    }


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


def test_only_closed_needs_matched_with_a_reserved_or_closed_offer_count_once_each():
    listings = {
        "o1": listing("o1", "offer", "closed", 40, "pallets", "reuse-pallets-epal"),
        "o2": listing("o2", "offer", "reserved", 100, "pallets", "reuse-pallets-epal"),
        "o3": listing("o3", "offer", "published", 5, "t", "ewc-170405"),
        "n1": listing("n1", "need", "closed", 20, "pallets", "reuse-pallets"),
        "n2": listing("n2", "need", "published", 5, "t", "ewc-1704"),
        "n3": listing("n3", "need", "closed", 5, "t", "ewc-1704"),
    }
    moved = transfers(
        listings,
        [
            match("a", "o1", "n1", 0.6, 30),
            match("b", "o2", "n1", 0.9, 12),  # the best-scored offer is credited
            match("c", "o3", "n2", 0.9, 5),  # need still open
            match("d", "o3", "n3", 0.9, 5),  # offer still published
        ],
        lineage,
    )
    assert [(t.need_id, t.offer_id, t.tonnes, t.distance_km) for t in moved] == [
        ("n1", "o2", 0.5, 12.0)
    ]


def test_co2e_is_tonnes_times_the_factor_and_transport_is_compared_with_the_long_chain():
    listings = {
        "o": listing("o", "offer", "closed", 2, "t", "ewc-170405"),
        "n": listing("n", "need", "closed", 3, "t", "ewc-1704"),
    }
    rows, total = impact_summary(
        transfers(listings, [match("m", "o", "n", 0.8, 40)], lineage), lineage, 500
    )
    [steel] = rows
    assert steel.material.key == "steel" and steel.tonnes == 2
    assert steel.co2e_kg == pytest.approx(2 * MATERIALS["steel"].kg_co2e_per_tonne)
    assert steel.tonne_km == 80 and steel.long_chain_tonne_km == 1000
    assert steel.transport_co2e_avoided_kg == pytest.approx(920 * ROAD_FREIGHT_KG_PER_TKM)
    assert total.co2e_kg == steel.co2e_kg


def test_the_csv_has_a_line_per_material_and_a_total_with_its_factor_source():
    listings = {
        "o": listing("o", "offer", "closed", 5, "pieces", "reuse-it-computers"),
        "n": listing("n", "need", "closed", 5, "pieces", "reuse-it"),
    }
    rows, total = impact_summary(
        transfers(listings, [match("m", "o", "n", 0.8, 10)], lineage), lineage, 500
    )
    lines = list(csv.DictReader(io.StringIO(impact_csv(rows, total))))
    assert tuple(lines[0]) == IMPACT_COLUMNS
    assert [line["material"] for line in lines] == ["IT equipment", "Total"]
    assert lines[0]["unconverted_quantities"] == "5 pieces"
    assert "DEFRA" in lines[0]["factor_source"]


def test_the_projection_counts_per_day_and_forgets_retracted_matches():
    projection = ActivityProjection()
    when = datetime(2026, 11, 20, 9, tzinfo=UTC)
    data = listing("o", "offer", "published", 5, "t", "ewc-170405") | {
        "updated_at": when,
        "location": {"lat": 49.6, "lon": 6.1},
        "title": "Steel beams",
    }
    projection.apply("boucle.listing.published", when, data)
    projection.apply("boucle.match.found", when, match("m", "o", "n", 0.5, 3))
    projection.apply("boucle.match.retracted", when, match("m", "o", "n", 0.5, 3))
    series = projection.series(when.date(), days=2)
    assert series["listings"][-1] == (when.date(), 1)
    assert series["matches"][-1] == (when.date(), 1)
    assert projection.snapshot()[1] == []
    assert [row["title"] for row in projection.active_listings()] == ["Steel beams"]
