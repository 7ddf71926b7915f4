"""Builders for matching's unit tests: a listing in a place, changed by keyword."""

from __future__ import annotations

from dataclasses import replace

from matching.domain import ActiveListing

# Metz and Luxembourg City are about 55 km apart.
METZ = (49.1193, 6.1757)
LUXEMBOURG = (49.6116, 6.1319)


def listing(kind: str, where: tuple[float, float], **overrides: object) -> ActiveListing:
    """A published offer or need of pallets at `where`, of an organisation of its own."""
    base = ActiveListing(
        id=f"{kind}-{where}",
        organisation_id=f"org-{kind}-{where}",
        kind=kind,
        category="ewc-150103",
        lat=where[0],
        lon=where[1],
        quantity=10.0,
        unit="pallets",
        title=f"{kind} of pallets",
        version=1,
        radius_km=80.0 if kind == "need" else 0.0,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]
