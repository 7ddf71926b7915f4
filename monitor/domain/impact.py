"""The impact summary: what moved from offers to closed needs, and what that avoided.

A *transfer* is a need whose latest state is `closed` and that was matched (the match not
retracted) with an offer that is `reserved` or `closed`; when several such offers exist,
the best-scored one is credited, so nothing is counted twice. The quantity moved is the
smaller of the two sides, in tonnes where the unit allows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from monitor.domain.factors import (
    CATEGORY_MATERIAL,
    LITRE_TONNES,
    MATERIALS,
    PALLET_CATEGORIES,
    PALLET_TONNES,
    ROAD_FREIGHT_KG_PER_TKM,
    MaterialFactor,
)

Lineage = Callable[[str], list[str]]  # a category id, then its ancestors' ids


def material_of(category: str, lineage: Lineage) -> MaterialFactor:
    """The material class of a category: its own entry, else its nearest ancestor's."""
    for candidate in lineage(category):
        if candidate in CATEGORY_MATERIAL:
            return MATERIALS[CATEGORY_MATERIAL[candidate]]
    return MATERIALS["other"]


def to_tonnes(quantity: float, unit: str, category: str, lineage: Lineage) -> float | None:
    """`quantity` in tonnes, or None where the unit says nothing about mass."""
    ids = lineage(category)
    if unit == "t":
        return quantity
    if unit == "kg":
        return quantity / 1000
    if unit in ("pallets", "pieces") and any(i in PALLET_CATEGORIES for i in ids):
        return quantity * PALLET_TONNES
    if unit == "l":
        per_litre = next((LITRE_TONNES[i] for i in ids if i in LITRE_TONNES), None)
        return quantity * per_litre if per_litre is not None else None
    if unit == "m3":
        density = material_of(category, lineage).tonnes_per_m3
        return quantity * density if density is not None else None
    return None


@dataclass(frozen=True)
class Transfer:
    """One closed need credited to one offer."""

    need_id: str
    offer_id: str
    category: str
    quantity: float
    unit: str
    tonnes: float | None
    distance_km: float


def transfers(
    listings: Mapping[str, dict[str, Any]],
    matches: Iterable[dict[str, Any]],
    lineage: Lineage,
) -> list[Transfer]:
    """Closed needs with the offer credited for each (see the module docstring)."""
    best: dict[str, dict[str, Any]] = {}
    for match in matches:
        need = listings.get(match["need"]["listing_id"])
        offer = listings.get(match["offer"]["listing_id"])
        if need is None or offer is None or need["status"] != "closed":
            continue
        if offer["status"] not in ("reserved", "closed"):
            continue
        current = best.get(need["id"])
        if current is None or match["score"] > current["score"]:
            best[need["id"]] = match
    return [_transfer(listings, m, lineage) for m in best.values()]


def _transfer(
    listings: Mapping[str, dict[str, Any]], match: dict[str, Any], lineage: Lineage
) -> Transfer:
    need, offer = listings[match["need"]["listing_id"]], listings[match["offer"]["listing_id"]]
    category = offer["category"]
    need_t = to_tonnes(need["quantity"], need["unit"], category, lineage)
    offer_t = to_tonnes(offer["quantity"], offer["unit"], category, lineage)
    known = [t for t in (need_t, offer_t) if t is not None]
    same_unit = need["unit"] == offer["unit"]
    quantity = min(need["quantity"], offer["quantity"]) if same_unit else need["quantity"]
    return Transfer(
        need_id=need["id"],
        offer_id=offer["id"],
        category=category,
        quantity=quantity,
        unit=need["unit"] if not same_unit else offer["unit"],
        tonnes=min(known) if known else None,
        distance_km=float(match["reasons"]["distance_km"]),
    )


@dataclass
class ImpactRow:
    """The impact of one material class (or the total)."""

    material: MaterialFactor
    transfers: int = 0
    tonnes: float = 0.0
    co2e_kg: float = 0.0
    distance_km: float = 0.0
    tonne_km: float = 0.0
    long_chain_tonne_km: float = 0.0
    unconverted: dict[str, float] = field(default_factory=dict)

    @property
    def transport_co2e_avoided_kg(self) -> float:
        """Road freight avoided by the short chain compared with the long one."""
        return max(0.0, self.long_chain_tonne_km - self.tonne_km) * ROAD_FREIGHT_KG_PER_TKM

    def add(self, transfer: Transfer, long_chain_km: float) -> None:
        """Count one transfer in this row."""
        self.transfers += 1
        self.distance_km += transfer.distance_km
        if transfer.tonnes is None:
            self.unconverted[transfer.unit] = (
                self.unconverted.get(transfer.unit, 0) + transfer.quantity
            )
            return
        self.tonnes += transfer.tonnes
        self.tonne_km += transfer.tonnes * transfer.distance_km
        self.long_chain_tonne_km += transfer.tonnes * long_chain_km
        if self.material.kg_co2e_per_tonne is not None:
            self.co2e_kg += transfer.tonnes * self.material.kg_co2e_per_tonne


def impact_summary(
    moved: Iterable[Transfer], lineage: Lineage, long_chain_km: float
) -> tuple[list[ImpactRow], ImpactRow]:
    """Rows per material class (largest CO2e first) and the total row."""
    rows: dict[str, ImpactRow] = {}
    total = ImpactRow(MaterialFactor("total", "Total", None, ""))
    for transfer in moved:
        material = material_of(transfer.category, lineage)
        rows.setdefault(material.key, ImpactRow(material)).add(transfer, long_chain_km)
        total.add(transfer, long_chain_km)
    total.co2e_kg = sum(row.co2e_kg for row in rows.values())
    ordered = sorted(rows.values(), key=lambda r: (-r.co2e_kg, -r.tonnes, r.material.key))
    return ordered, total
