"""The realistic workload of docs/benchmarks.md, reproducible from a seed.

Places of the Greater Region drawn in proportion to population and jittered a few km;
60 % offers; leaf categories drawn with a Zipf-like skew (pallets and vegetables common),
20 % of needs asking for the parent category; needs' radii log-uniform in 5-100 km; a
third of offers delivering (5-50 km); windows of weeks, produce with use-by dates a few
days out, 3 % already expired.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from matching.domain import ActiveListing
from shared.taxonomy import Taxonomy

DAY = 86_400.0
KM_PER_DEGREE = 111.2
# The most common categories lead the Zipf ranking; the rest follow in a seeded order.
COMMON = ["reuse-pallets", "ewc-150103", "produce-vegetables-potatoes", "ewc-170201"]


def places() -> tuple[list[tuple[float, float, str]], list[float]]:
    """(lat, lon, country) of every gazetteer place, and its population as the weight."""
    text = resources.files("shared").joinpath("data", "gazetteer.csv").read_text("utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    points = [(float(r["lat"]), float(r["lon"]), r["country"]) for r in rows]
    return points, [max(500.0, float(r["population"] or 0)) for r in rows]


def generate(
    count: int,
    seed: int = 42,
    now: float = 1_800_000_000.0,
    radius_km: tuple[float, float] = (5.0, 100.0),
) -> list[ActiveListing]:
    """`count` listings of the workload."""
    return list(stream(count, seed, now, radius_km))


def stream(
    count: int,
    seed: int = 42,
    now: float = 1_800_000_000.0,
    radius_km: tuple[float, float] = (5.0, 100.0),
    prefix: str = "",
) -> Iterator[ActiveListing]:
    """The same listings one at a time (nothing kept), ids prefixed with `prefix`."""
    rng = random.Random(seed)
    taxonomy = Taxonomy.load_default()
    leaves = taxonomy.leaves()
    ranked = [c for c in COMMON if c in leaves]
    ranked += rng.sample([c for c in leaves if c not in ranked], len(leaves) - len(ranked))
    category_weights = [1.0 / (rank + 1) for rank in range(len(ranked))]
    points, populations = places()
    chosen = rng.choices(points, populations, k=count)
    categories = rng.choices(ranked, category_weights, k=count)
    for i, (point, category) in enumerate(zip(chosen, categories, strict=True)):
        yield _listing(rng, taxonomy, f"{prefix}{i:07d}", i, point, category, now, radius_km)


def _listing(
    rng: random.Random,
    taxonomy: Taxonomy,
    key: str,
    i: int,
    point: tuple[float, float, str],
    category: str,
    now: float,
    radius_km: tuple[float, float],
) -> ActiveListing:
    kind = "offer" if rng.random() < 0.6 else "need"
    lat = point[0] + rng.gauss(0, 3.0) / KM_PER_DEGREE
    lon = point[1] + rng.gauss(0, 3.0) / (KM_PER_DEGREE * math.cos(math.radians(point[0])))
    perishable = taxonomy.get(category).perishable
    if kind == "need" and rng.random() < 0.2:
        category = taxonomy.get(category).parent_id or category
    unit = "kg" if perishable else ("pallets" if "pallet" in category else "t")
    quantity = round(rng.uniform(1, 50), 1)
    starts = now - rng.uniform(0, 10) * DAY
    ends = now + (rng.uniform(1, 5) if perishable else rng.uniform(7, 60)) * DAY
    if rng.random() < 0.03:
        ends = now - rng.uniform(0, 3) * DAY
    low, high = radius_km
    radius = math.exp(rng.uniform(math.log(low), math.log(high)))
    return ActiveListing(
        id=f"{kind}-{key}",
        organisation_id=f"org-{i // 5:06d}",
        kind=kind,
        category=category,
        lat=lat,
        lon=lon,
        quantity=quantity,
        unit=unit,
        title=f"{kind} {i}: {taxonomy.label(category, 'en')[:40]}",
        version=1,
        radius_km=radius if kind == "need" else 0.0,
        delivery_radius_km=rng.uniform(5, 50) if kind == "offer" and rng.random() < 1 / 3 else None,
        min_quantity=round(quantity * 0.3, 1) if kind == "need" and rng.random() < 0.3 else None,
        starts_at=starts,
        ends_at=ends,
        # The listings service fills the country from the geocoded place; so does the workload.
        country=point[2],
    )


def event_data(listing: ActiveListing, updated_at: datetime | None = None) -> dict[str, Any]:
    """The listing's data as the listings service publishes it on the listings topic."""
    return {
        "id": listing.id,
        "organisation_id": listing.organisation_id,
        "kind": listing.kind,
        "status": "published",
        "title": listing.title,
        "category": listing.category,
        "quantity": listing.quantity,
        "min_quantity": listing.min_quantity,
        "unit": listing.unit,
        "location": {"lat": listing.lat, "lon": listing.lon, "country": listing.country},
        "radius_km": listing.radius_km,
        "delivery_radius_km": listing.delivery_radius_km,
        "available_from": _moment(listing.starts_at),
        "available_until": _moment(listing.ends_at),
        "version": listing.version,
        "updated_at": updated_at or datetime.now(UTC),
    }


def _moment(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)
