"""What the matcher knows of a listing, what a match is, and the deterministic match id.

Plain data, no Kafka, Flask or database. Times are POSIX seconds (floats) so the rules and
the columnar index compare them cheaply; `None` means "open-ended".
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from shared.units import UNIT_DIMENSIONS

# A fixed namespace: the same offer and need always give the same match id, everywhere.
MATCH_NAMESPACE = uuid.UUID("6f1c2a8e-6c7b-4f51-9a55-0b5c0a3e2d11")

OFFER, NEED = "offer", "need"
SECONDS_PER_DAY = 86_400.0

#: unit -> (dimension, factor to its base unit): quantities compare within one dimension.
UNITS = UNIT_DIMENSIONS


@dataclass(frozen=True, slots=True)
class ActiveListing:
    """A published offer or need, as far as matching is concerned.

    `radius_km` is how far a need's poster will collect; `delivery_radius_km` is how far
    an offer's poster will deliver, when they do. `starts_at`/`ends_at` bound the
    availability window (ends_at already folds in a produce's use-by date).
    """

    id: str
    organisation_id: str
    kind: str
    category: str
    lat: float
    lon: float
    quantity: float
    unit: str
    title: str
    version: int
    radius_km: float = 0.0
    delivery_radius_km: float | None = None
    min_quantity: float | None = None
    starts_at: float | None = None
    ends_at: float | None = None
    place: str | None = None
    country: str | None = None
    price_mode: str = "free"
    price_amount: float | None = None
    #: a need's highest price per unit (0: free offers only; None: any price)
    max_price: float | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """An offer and a need that fit, with the reasons shown to both parties."""

    id: str
    offer: ActiveListing
    need: ActiveListing
    score: float
    distance_km: float
    category_relation: str  # "same" | "parent" | "ancestor"
    quantity_fit: str  # "full" | "partial"
    days_left: int | None
    cross_border: bool = False
    countries: tuple[str | None, str | None] = (None, None)


def match_id(offer_id: str, need_id: str) -> str:
    """Deterministic id of the pair, so re-deliveries collapse downstream.

    It is `uuid.uuid5(MATCH_NAMESPACE, "offer|need")`, written out without building UUID
    objects: the matcher names tens of thousands of pairs a second.
    """
    digest = hashlib.sha1(_NAMESPACE_BYTES + f"{offer_id}|{need_id}".encode()).hexdigest()
    variant = "89ab"[int(digest[16], 16) & 3]  # RFC 4122 variant bits, then version 5
    return f"{digest[:8]}-{digest[8:12]}-5{digest[13:16]}-{variant}{digest[17:20]}-{digest[20:32]}"


_NAMESPACE_BYTES = MATCH_NAMESPACE.bytes


def other_kind(kind: str) -> str:
    """The kind a listing of `kind` is matched against."""
    return NEED if kind == OFFER else OFFER
