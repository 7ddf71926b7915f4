"""The matching rules and the score, for one offer and one need (the reference version).

The index (matching/index.py) applies the same rules to many candidates at once with
numpy; the property test keeps the two equal. `rejection` says which rule a pair fails,
for explanations and tests.

Score, in [0, 1] (docs/adr/0002-matching.md):
    0.55 * proximity + 0.25 * category + 0.20 * quantity
where proximity = 1 - distance / reach (reach: the need's radius, capped by the offer's
delivery radius; 1 when the reach is 0), category = 1 same / 0.7 parent / 0.4 ancestor,
quantity = 1 for a full fit, else the share of the need the offer covers (0.5 when the
units do not compare).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from matching.domain import (
    NEED,
    OFFER,
    SECONDS_PER_DAY,
    ActiveListing,
    Match,
    match_id,
)
from shared.geo.distance import geodesic_km
from shared.taxonomy import Taxonomy
from shared.units import in_base_unit

W_PROXIMITY, W_CATEGORY, W_QUANTITY = 0.55, 0.25, 0.20
CATEGORY_WEIGHTS = {"same": 1.0, "parent": 0.7, "ancestor": 0.4}
INCOMPARABLE_QUANTITY = 0.5

# Why a pair does not (or no longer) match; carried as a retraction's reason.
NOT_A_PAIR = "not an offer and a need"
SAME_ORGANISATION = "same organisation"
CATEGORY_MISFIT = "category does not fit"
EXPIRED = "expired"
WINDOWS_APART = "availability windows do not overlap"
QUANTITY_SHORT = "quantity below the need's minimum"
PRICE_TOO_HIGH = "price above the need's maximum"
OUT_OF_RANGE = "out of range"

Distance = Callable[[tuple[float, float], tuple[float, float]], float]


def reach_km(offer: ActiveListing, need: ActiveListing) -> float:
    """How far apart the two may be: the need's radius, capped by the offer's delivery."""
    delivery = offer.delivery_radius_km
    if delivery is not None and delivery > 0:
        return min(need.radius_km, delivery)
    return need.radius_km


def quantity_fit(offer: ActiveListing, need: ActiveListing) -> tuple[str, float] | None:
    """("full" | "partial", share of the need covered), or None below the need's minimum."""
    offer_dim, offered = in_base_unit(offer.quantity, offer.unit)
    need_dim, wanted = in_base_unit(need.quantity, need.unit)
    if offer_dim != need_dim:
        # The minimum cannot be checked across units: only a need without one matches.
        return None if need.min_quantity is not None else ("partial", INCOMPARABLE_QUANTITY)
    if need.min_quantity is not None and offered < in_base_unit(need.min_quantity, need.unit)[1]:
        return None
    return ("full", 1.0) if offered >= wanted else ("partial", offered / wanted)


def score(distance_km: float, reach: float, relation: str, quantity_share: float) -> float:
    """The documented score in [0, 1], rounded to 4 decimals."""
    proximity = 1.0 - distance_km / reach if reach > 0 else 1.0
    value = (
        W_PROXIMITY * max(0.0, proximity)
        + W_CATEGORY * CATEGORY_WEIGHTS[relation]
        + W_QUANTITY * quantity_share
    )
    return round(min(1.0, value), 4)


def price_fits(offer: ActiveListing, need: ActiveListing) -> bool:
    """Does the offer's price suit the need? Free always does; a need with a maximum of 0
    takes only free offers; a negotiable or unstated price is left to the two to agree."""
    if need.max_price is None or offer.price_mode == "free":
        return True
    if need.max_price <= 0:
        return False
    if offer.price_mode == "per_unit" and offer.price_amount is not None:
        return offer.price_amount <= need.max_price
    return True


def days_left(offer: ActiveListing, need: ActiveListing, now: float) -> int | None:
    """Whole days before the pair's window closes (the earlier expiry), None if open-ended."""
    ends = [t for t in (offer.ends_at, need.ends_at) if t is not None]
    return int((min(ends) - now) // SECONDS_PER_DAY) if ends else None


def rejection(
    offer: ActiveListing,
    need: ActiveListing,
    taxonomy: Taxonomy,
    now: float,
    distance: Distance = geodesic_km,
) -> str | None:
    """Why the pair does not match (cheapest rule first), or None when it does."""
    if offer.kind != OFFER or need.kind != NEED:
        return NOT_A_PAIR
    if offer.organisation_id == need.organisation_id:
        return SAME_ORGANISATION
    if _relation(taxonomy, need.category, offer.category) is None:
        return CATEGORY_MISFIT
    if any(t is not None and t <= now for t in (offer.ends_at, need.ends_at)):
        return EXPIRED
    if not _windows_overlap(offer, need):
        return WINDOWS_APART
    if quantity_fit(offer, need) is None:
        return QUANTITY_SHORT
    if not price_fits(offer, need):
        return PRICE_TOO_HIGH
    if distance((offer.lat, offer.lon), (need.lat, need.lon)) > reach_km(offer, need):
        return OUT_OF_RANGE
    return None


def evaluate(
    offer: ActiveListing,
    need: ActiveListing,
    taxonomy: Taxonomy,
    now: float,
    distance: Distance = geodesic_km,
) -> Match | None:
    """The match between `offer` and `need` with its reasons, or None when a rule fails."""
    if rejection(offer, need, taxonomy, now, distance) is not None:
        return None
    km = distance((offer.lat, offer.lon), (need.lat, need.lon))
    relation = _relation(taxonomy, need.category, offer.category)
    fit = quantity_fit(offer, need)
    assert relation is not None and fit is not None  # rejection() checked both
    return Match(
        id=match_id(offer.id, need.id),
        offer=offer,
        need=need,
        score=score(km, reach_km(offer, need), relation, fit[1]),
        distance_km=round(km, 3),
        category_relation=relation,
        quantity_fit=fit[0],
        days_left=days_left(offer, need, now),
        cross_border=_crosses_border(offer.country, need.country),
        countries=(offer.country, need.country),
    )


def _relation(taxonomy: Taxonomy, need_category: str, offer_category: str) -> str | None:
    if need_category not in taxonomy or offer_category not in taxonomy:
        return None
    return taxonomy.relation(need_category, offer_category)


def _windows_overlap(offer: ActiveListing, need: ActiveListing) -> bool:
    return _or(offer.starts_at, -math.inf) <= _or(need.ends_at, math.inf) and _or(
        need.starts_at, -math.inf
    ) <= _or(offer.ends_at, math.inf)


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def _crosses_border(offer_country: str | None, need_country: str | None) -> bool:
    return offer_country is not None and need_country is not None and offer_country != need_country
