"""Alert composition: who hears about a match, and what they are told. Plain Python."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from shared.contracts import MatchFound, MatchSide

BUYER, SELLER = "buyer", "seller"


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
    own_title: str = ""
    counterpart_organisation_id: str | None = None
    counterpart_place: str | None = None
    available_until: datetime | None = None
    reasons: dict[str, Any] = field(default_factory=dict)
    listing_version: int = 0
    counterpart_version: int = 0
    counterpart_organisation_name: str = ""
    #: the offer's price as the matcher saw it ("free", "per_unit", "negotiable"; None: unknown)
    price_mode: str | None = None
    price_amount: float | None = None


def _alert(match: MatchFound, own: MatchSide, other: MatchSide, role: str) -> Alert:
    reasons = asdict(match.reasons)
    reasons["countries"] = list(match.reasons.countries)
    return Alert(
        match_id=match.match_id,
        listing_id=own.listing_id,
        organisation_id=own.organisation_id,
        role=role,
        counterpart_listing_id=other.listing_id,
        counterpart_title=other.title,
        category=other.category,
        quantity=other.quantity,
        unit=other.unit,
        distance_km=match.reasons.distance_km,
        score=match.score,
        own_title=own.title,
        counterpart_organisation_id=other.organisation_id,
        counterpart_place=other.location.place,
        # The offer's end is what matters to both: the buyer must collect before it, the
        # seller's surplus is on offer until then.
        available_until=match.offer.available_until,
        reasons=reasons,
        listing_version=own.version,
        counterpart_version=other.version,
        # Both sides see what the offer costs: a free need must not meet a price by surprise.
        price_mode=match.offer.price.mode if match.offer.price else None,
        price_amount=match.offer.price.amount if match.offer.price else None,
    )


def alerts_for_match(match: MatchFound) -> list[Alert]:
    """One alert per party: the buyer hears of the offer, the seller of the need."""
    offer, need = match.offer, match.need
    return [_alert(match, need, offer, BUYER), _alert(match, offer, need, SELLER)]
