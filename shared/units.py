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
