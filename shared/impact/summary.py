"""The impact summary: what changed hands in completed exchanges, and what that avoided.

A *transfer* is an exchange both sides confirmed (status `completed`): a match is only a
possibility and counts for nothing. The quantity moved is the smaller of the two
confirmed figures, in tonnes where the unit allows; the distance is from the listing to
the organisation on the other side (0 when either place is unknown).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.geo.distance import geodesic_km
from shared.impact.factors import (
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
    if unit == "g":
        return quantity / 1_000_000
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
    """One completed exchange: what changed hands, of which listing, how far."""

    need_id: str  # the exchange
    offer_id: str  # the listing it took from
    category: str
    quantity: float
    unit: str
    tonnes: float | None
    distance_km: float


def transfers(
    listings: Mapping[str, dict[str, Any]],
    exchanges: Iterable[dict[str, Any]],
    organisations: Mapping[str, dict[str, Any]],
    lineage: Lineage,
) -> list[Transfer]:
    """Completed exchanges as transfers (see the module docstring)."""
    moved = []
    for exchange in exchanges:
        listing = listings.get(exchange["listing_id"])
        confirmed = [exchange["owner_handed_over"], exchange["requester_handed_over"]]
        if exchange["status"] != "completed" or listing is None or None in confirmed:
            continue
        quantity = min(confirmed)
        category = listing["category"]
        other = organisations.get(exchange["requester_organisation_id"], {})
        moved.append(
            Transfer(
                need_id=exchange["id"],
                offer_id=listing["id"],
                category=category,
                quantity=quantity,
                unit=exchange["unit"],
                tonnes=to_tonnes(quantity, exchange["unit"], category, lineage),
                distance_km=_distance(listing.get("location"), other.get("location")),
            )
        )
    return moved


def _distance(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> float:
    if not a or not b:
        return 0.0
    return round(geodesic_km((a["lat"], a["lon"]), (b["lat"], b["lon"])), 3)


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

    @property
    def net_co2e_kg(self) -> float:
        """What reuse avoided, less the road freight of the exchanges' real distances."""
        return self.co2e_kg - self.tonne_km * ROAD_FREIGHT_KG_PER_TKM

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
