"""The impact table as rows of plain values and as CSV (one line per material, a total)."""

from __future__ import annotations

import csv
import io
from typing import Any

from shared.impact.summary import ImpactRow

IMPACT_COLUMNS = (
    "material",
    "transfers",
    "tonnes",
    "co2e_avoided_kg",
    "net_co2e_avoided_kg",
    "emission_factor_kg_per_t",
    "factor_source",
    "distance_km",
    "tonne_km",
    "long_chain_tonne_km",
    "transport_co2e_avoided_kg",
    "unconverted_quantities",
)


def impact_row_dict(row: ImpactRow) -> dict[str, Any]:
    """One material class of the impact summary."""
    return {
        "material": row.material.label,
        "transfers": row.transfers,
        "tonnes": round(row.tonnes, 3),
        "co2e_avoided_kg": round(row.co2e_kg, 1),
        "net_co2e_avoided_kg": round(row.net_co2e_kg, 1),
        "emission_factor_kg_per_t": row.material.kg_co2e_per_tonne,
        "factor_source": row.material.source,
        "distance_km": round(row.distance_km, 1),
        "tonne_km": round(row.tonne_km, 1),
        "long_chain_tonne_km": round(row.long_chain_tonne_km, 1),
        "transport_co2e_avoided_kg": round(row.transport_co2e_avoided_kg, 1),
        "unconverted_quantities": "; ".join(
            f"{q:g} {u}" for u, q in sorted(row.unconverted.items())
        ),
    }


def impact_csv(rows: list[ImpactRow], total: ImpactRow) -> str:
    """The impact summary as CSV, one line per material class and a total line."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=IMPACT_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in [*rows, total]:
        writer.writerow(impact_row_dict(row))
    return out.getvalue()
