"""The rules of matching/rules.py applied to one listing and many candidates with numpy.

Each side is a `Side` of columns (arrays for the candidates, 0-d values for the listing,
broadcast by numpy). The result lists the candidates that match, with what the score
needs; `tests/unit/test_matching_property.py` holds it equal to the reference rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching.geometry import FloatArray, within_reach
from matching.rules import (
    CATEGORY_WEIGHTS,
    INCOMPARABLE_QUANTITY,
    W_CATEGORY,
    W_PROXIMITY,
    W_QUANTITY,
)
from shared.contracts import PRICE_MODES

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
RELATIONS = ("same", "parent", "ancestor")  # codes 0, 1, 2; -1: no relation
FREE, PER_UNIT = PRICE_MODES.index("free"), PRICE_MODES.index("per_unit")
RELATION_WEIGHTS = np.array([CATEGORY_WEIGHTS[r] for r in RELATIONS])


@dataclass(frozen=True)
class Side:
    """Columns of one side of the pairs (offers or needs); units already in base units."""

    lat: FloatArray
    lon: FloatArray
    organisation: IntArray
    category: IntArray
    dimension: IntArray
    quantity: FloatArray  # in the dimension's base unit
    min_quantity: FloatArray  # NaN when none
    radius: FloatArray
    delivery: FloatArray  # NaN when none
    starts: FloatArray  # -inf when open
    ends: FloatArray  # +inf when open
    price_mode: IntArray  # the mode's position in shared.contracts.PRICE_MODES
    price_amount: FloatArray  # NaN when none
    max_price: FloatArray  # a need's highest price per unit; NaN when any price


@dataclass(frozen=True)
class Found:
    """Matching candidates, best first: rows and what each match's reasons need."""

    rows: IntArray
    distance_km: FloatArray
    relation: IntArray
    full_fit: BoolArray
    score: FloatArray
    candidates: int

    def __len__(self) -> int:
        return len(self.rows)

    @classmethod
    def empty(cls) -> Found:
        """No candidates, no matches."""
        none = np.zeros(0)
        return cls(none.astype(np.int64), none, none.astype(np.int64), none.astype(bool), none, 0)


def evaluate_many(
    query: Side,
    query_is_offer: bool,
    candidates: Side,
    rows: IntArray,
    relation: IntArray,
    now: float,
) -> Found:
    """Which candidates (stored in `rows`) match the query listing, scored, best first."""
    offer, need = (query, candidates) if query_is_offer else (candidates, query)
    offered, wanted = offer.quantity, need.quantity
    minimum = need.min_quantity
    has_min = ~np.isnan(minimum)
    same_dim = offer.dimension == need.dimension
    quantity_ok = np.where(same_dim, ~has_min | (offered >= np.nan_to_num(minimum)), ~has_min)
    keep = (
        (relation >= 0)
        & _price_fits(offer, need)
        & (offer.organisation != need.organisation)
        & (offer.ends > now)
        & (need.ends > now)
        & (offer.starts <= need.ends)
        & (need.starts <= offer.ends)
        & quantity_ok
    )
    keep = np.broadcast_to(keep, rows.shape)
    with np.errstate(invalid="ignore"):
        reach = np.where(offer.delivery > 0, np.minimum(need.radius, offer.delivery), need.radius)
    reach = np.broadcast_to(reach, rows.shape)[keep]
    origin = (float(query.lat), float(query.lon))
    inside, distance = within_reach(origin, candidates.lat[keep], candidates.lon[keep], reach)
    chosen = np.flatnonzero(keep)[inside]
    distance, reach = distance[inside], reach[inside]
    full = np.broadcast_to(same_dim & (offered >= wanted), rows.shape)[chosen]
    share = np.where(same_dim, np.minimum(1.0, offered / wanted), INCOMPARABLE_QUANTITY)
    share = np.where(full, 1.0, np.broadcast_to(share, rows.shape)[chosen])
    relation = np.broadcast_to(relation, rows.shape)[chosen]
    scores = _score(distance, reach, relation, share)
    order = np.lexsort((distance, -scores))
    return Found(
        rows=rows[chosen][order],
        distance_km=distance[order],
        relation=relation[order],
        full_fit=full[order],
        score=scores[order],
        candidates=len(rows),
    )


def _price_fits(offer: Side, need: Side) -> BoolArray:
    # The same rule as rules.price_fits, column by column.
    ceiling = need.max_price
    with np.errstate(invalid="ignore"):
        stated = (offer.price_mode == PER_UNIT) & ~np.isnan(offer.price_amount)
        within = ~stated | (offer.price_amount <= ceiling)
        fits = np.isnan(ceiling) | (offer.price_mode == FREE) | ((ceiling > 0) & within)
    return np.asarray(fits)


def _score(
    distance: FloatArray, reach: FloatArray, relation: IntArray, share: FloatArray
) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        proximity = np.where(reach > 0, np.maximum(0.0, 1.0 - distance / reach), 1.0)
    value = W_PROXIMITY * proximity + W_CATEGORY * RELATION_WEIGHTS[relation] + W_QUANTITY * share
    return np.round(np.minimum(1.0, value), 4).astype(np.float64)
