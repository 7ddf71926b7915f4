"""Emission factors and unit assumptions behind the impact summary (sources in docs/impact.md).

Factors are kg CO2e per tonne of *virgin material production avoided* when a reused or
recovered material replaces it: UK DESNZ/DEFRA "Greenhouse gas reporting: conversion
factors" 2023, sheet "Material use", column "Primary material production", rounded to
three significant figures. They are estimates for reporting, not a life-cycle assessment.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFRA_2023 = "UK DESNZ/DEFRA GHG conversion factors 2023, Material use, primary production"


@dataclass(frozen=True)
class MaterialFactor:
    """What one tonne of a material class avoids, and how to weigh it when given in m3."""

    key: str
    label: str
    kg_co2e_per_tonne: float | None
    source: str
    tonnes_per_m3: float | None = None


MATERIALS = {
    m.key: m
    for m in (
        MaterialFactor("wood", "Wood", 313, f"{DEFRA_2023}: Wood", 0.45),
        MaterialFactor("board", "Paper and board", 821, f"{DEFRA_2023}: Paper and board (board)"),
        MaterialFactor("plastics", "Plastics", 3120, f"{DEFRA_2023}: Plastics (average)"),
        MaterialFactor("steel", "Iron and steel", 2850, f"{DEFRA_2023}: Metal (steel cans)"),
        MaterialFactor("aluminium", "Aluminium", 9110, f"{DEFRA_2023}: Metal (aluminium)"),
        MaterialFactor("metals", "Other metals", 3580, f"{DEFRA_2023}: Metal (scrap metal)"),
        MaterialFactor("glass", "Glass", 1400, f"{DEFRA_2023}: Glass"),
        MaterialFactor("textiles", "Textiles", 22300, f"{DEFRA_2023}: Clothing"),
        MaterialFactor("concrete", "Concrete", 132, f"{DEFRA_2023}: Concrete", 1.4),
        MaterialFactor("bricks", "Bricks and ceramics", 242, f"{DEFRA_2023}: Bricks", 1.4),
        MaterialFactor("aggregates", "Mixed rubble, soil", 7.75, f"{DEFRA_2023}: Aggregates", 1.6),
        MaterialFactor("insulation", "Insulation", 1860, f"{DEFRA_2023}: Insulation"),
        MaterialFactor("plasterboard", "Plasterboard", 120, f"{DEFRA_2023}: Plasterboard"),
        MaterialFactor("tyres", "Tyres", 3340, f"{DEFRA_2023}: Tyres"),
        MaterialFactor("electrical", "Electrical equipment", 3270, f"{DEFRA_2023}: WEEE large"),
        MaterialFactor("it", "IT equipment", 24900, f"{DEFRA_2023}: Electrical items - IT"),
        # Produce is sold, not saved from waste: only its shorter journey is counted.
        MaterialFactor("food", "Food and produce", None, "not counted: transport only"),
        MaterialFactor("other", "Other", None, "no factor: mass and transport only"),
    )
}

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
