"""The brute-force matcher: every listing of the other kind, the exact geodesic for each.

The reference the index is tested against (property test) and measured beside (bench/).
"""

from __future__ import annotations

from collections.abc import Iterable

from matching.domain import ActiveListing, Match, other_kind
from matching.rules import evaluate
from shared.taxonomy import Taxonomy


def brute_force_matches(
    listing: ActiveListing, others: Iterable[ActiveListing], taxonomy: Taxonomy, now: float
) -> list[Match]:
    """Every match of `listing` among `others`, checked one pair at a time, best first."""
    wanted = other_kind(listing.kind)
    found = []
    for other in others:
        if other.kind != wanted or other.id == listing.id:
            continue
        pair = (listing, other) if wanted == "need" else (other, listing)
        match = evaluate(*pair, taxonomy, now)
        if match is not None:
            found.append(match)
    return sorted(found, key=lambda m: (-m.score, m.distance_km))
