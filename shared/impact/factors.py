"""Emission factors and unit assumptions behind the impact summary (sources in docs/impact.md).

The factors live in shared/data/impact_factors.csv, one material class a line with its
source and year, so an admin updates them without touching code; the file also says
whether each value was checked against its source (not yet: they were written from
memory and are flagged so).

Factors are kg CO2e per tonne of *virgin material production avoided* when a reused or
recovered material replaces it: UK DESNZ/DEFRA "Greenhouse gas reporting: conversion
factors" 2023, sheet "Material use", column "Primary material production", rounded to
three significant figures. They are estimates for reporting, not a life-cycle assessment.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MaterialFactor:
    """What one tonne of a material class avoids, and how to weigh it when given in m3."""

    key: str
    label: str
    kg_co2e_per_tonne: float | None
    source: str
    tonnes_per_m3: float | None = None


#: The factors, one line per material class with its source and year, in a data file an
#: admin can update (docs/impact.md): shared/data/impact_factors.csv.
FACTORS_FILE = Path(__file__).resolve().parents[1] / "data" / "impact_factors.csv"


def load_materials(path: Path = FACTORS_FILE) -> dict[str, MaterialFactor]:
    """The material classes and their factors, as the data file gives them."""
    with path.open(newline="", encoding="utf-8") as source:
        return {
            line["key"]: MaterialFactor(
                key=line["key"],
                label=line["label"],
                kg_co2e_per_tonne=_number(line["kg_co2e_per_tonne"]),
                source=line["source"],
                tonnes_per_m3=_number(line["tonnes_per_m3"]),
            )
            for line in csv.DictReader(source)
        }


def _number(text: str) -> float | None:
    return float(text) if text.strip() else None


MATERIALS = load_materials()

#: category id (or an ancestor's id) -> material class; the most specific id wins.
CATEGORY_MATERIAL = {
    "ewc-020107": "wood",
    "ewc-03": "wood",
    "ewc-150103": "wood",
    "ewc-170201": "wood",
    "ewc-191207": "wood",
    "ewc-200138": "wood",
    "reuse-pallets": "wood",
    "reuse-construction-timber": "wood",
    "reuse-furniture": "wood",
    "ewc-150101": "board",
    "ewc-191201": "board",
    "ewc-200101": "board",
    "reuse-containers-cardboard": "board",
    "ewc-020104": "plastics",
    "ewc-150102": "plastics",
    "ewc-170203": "plastics",
    "ewc-191204": "plastics",
    "ewc-200139": "plastics",
    "reuse-containers-crates": "plastics",
    "reuse-containers-ibc": "plastics",
    "ewc-170405": "steel",
    "ewc-191202": "steel",
    "ewc-170402": "aluminium",
    "ewc-150104": "metals",
    "ewc-1704": "metals",
    "ewc-191203": "metals",
    "ewc-200140": "metals",
    "ewc-150107": "glass",
    "ewc-170202": "glass",
    "ewc-191205": "glass",
    "ewc-200102": "glass",
    "ewc-0402": "textiles",
    "ewc-150109": "textiles",
    "ewc-191208": "textiles",
    "ewc-200110": "textiles",
    "ewc-200111": "textiles",
    "reuse-textiles": "textiles",
    "ewc-170101": "concrete",
    "ewc-170102": "bricks",
    "ewc-170103": "bricks",
    "ewc-170107": "bricks",
    "reuse-construction-bricks": "bricks",
    "reuse-construction-tiles": "bricks",
    "ewc-1705": "aggregates",
    "ewc-170904": "aggregates",
    "ewc-170604": "insulation",
    "reuse-construction-insulation": "insulation",
    "ewc-170802": "plasterboard",
    "ewc-160103": "tyres",
    "ewc-1602": "electrical",
    "ewc-200136": "electrical",
    "reuse-it": "it",
    "produce": "food",
    "ewc-02": "food",
    "ewc-200108": "food",
    "ewc-200125": "food",
    "ewc-200201": "food",
    "ewc-200302": "food",
}

#: Tonnes per pallet where the pallet itself is the material (a Euro pallet weighs ~25 kg).
PALLET_TONNES = 0.025
PALLET_CATEGORIES = ("reuse-pallets", "ewc-150103")
#: Tonnes per litre for liquids (water-like; edible oil is lighter).
LITRE_TONNES = {"produce-dairy-milk": 0.00103, "produce-drinks": 0.001, "ewc-200125": 0.00092}
#: Freight by road: kg CO2e per tonne-km (DESNZ/DEFRA 2023, Freighting goods, average HGV).
ROAD_FREIGHT_KG_PER_TKM = 0.107
ROAD_FREIGHT_SOURCE = "UK DESNZ/DEFRA GHG conversion factors 2023, Freighting goods, HGV average"
#: How far the same goods would have travelled through a long supply chain (docs/impact.md).
LONG_CHAIN_KM = 500.0
