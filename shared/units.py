"""Units and the families they convert within. Plain Python, shared by matching and pages.

Quantities compare within one dimension only: 500 kg reaches a minimum of 0.4 t; pallets,
pieces and crates count as themselves and never compare with a mass.
"""

from __future__ import annotations

#: unit -> (dimension, factor to the dimension's base unit)
UNIT_DIMENSIONS: dict[str, tuple[str, float]] = {
    "kg": ("mass", 1.0),
    "g": ("mass", 0.001),
    "t": ("mass", 1000.0),
    "l": ("volume", 1.0),
    "m3": ("volume", 1000.0),
    "pieces": ("pieces", 1.0),
    "pallets": ("pallets", 1.0),
    "crates": ("crates", 1.0),
}


def in_base_unit(quantity: float, unit: str) -> tuple[str, float]:
    """(dimension, quantity in the dimension's base unit); unknown units are their own."""
    dimension, factor = UNIT_DIMENSIONS.get(unit, (unit, 1.0))
    return dimension, quantity * factor


#: The unit people usually count a category in (its own entry, else its nearest ancestor's):
#: pallets by the pallet, produce by the kilo, timber by the cubic metre, rubble by the tonne.
USUAL_UNITS: dict[str, str] = {
    "reuse-pallets": "pallets",
    "ewc-150103": "pallets",
    "produce": "kg",
    "produce-dairy-milk": "l",
    "produce-drinks": "l",
    "produce-dairy-eggs": "pieces",
    "ewc-170201": "m3",
    "ewc-17": "t",
    "reuse-furniture-office": "pieces",
    "reuse-construction-doors-windows": "pieces",
    "reuse-it": "pieces",
}


def usual_unit(lineage: list[str]) -> str:
    """The usual unit of a category, given it and its ancestors (nearest first); else kg."""
    return next((USUAL_UNITS[c] for c in lineage if c in USUAL_UNITS), "kg")
