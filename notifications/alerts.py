"""Alert composition: who hears about a match, and what they are told. Plain Python."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Alert:
    """What one party of a match learns: the other side and why it fits."""

    match_id: str
    listing_id: str
    organisation_id: str
    role: str  # "buyer" (its need was matched) or "seller" (its offer was)
    counterpart_listing_id: str
    counterpart_title: str
    category: str
    quantity: float
    unit: str
    distance_km: float
    score: float


def alerts_for_match(match: dict[str, Any]) -> list[Alert]:
    """One alert per party: the buyer hears of the offer, the seller of the need."""
    offer, need = match["offer"], match["need"]
    common = {
        "match_id": match["match_id"],
        "distance_km": match["reasons"]["distance_km"],
        "score": match["score"],
    }
    return [
        Alert(
            listing_id=need["listing_id"],
            organisation_id=need["organisation_id"],
            role="buyer",
            counterpart_listing_id=offer["listing_id"],
            counterpart_title=offer["title"],
            category=offer["category"],
            quantity=offer["quantity"],
            unit=offer["unit"],
            **common,
        ),
        Alert(
            listing_id=offer["listing_id"],
            organisation_id=offer["organisation_id"],
            role="seller",
            counterpart_listing_id=need["listing_id"],
            counterpart_title=need["title"],
            category=need["category"],
            quantity=need["quantity"],
            unit=need["unit"],
            **common,
        ),
    ]
