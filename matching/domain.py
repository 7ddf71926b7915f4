"""Matching rules over plain data. No Kafka, Flask or database here.

A need and an offer match when they are of opposite kinds and different organisations,
both published, the need's category is the offer's category, and the geodesic distance
between them is within the need's radius.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass

from geopy.distance import geodesic

# A fixed namespace: the same offer and need always give the same match id, everywhere.
MATCH_NAMESPACE = uuid.UUID("6f1c2a8e-6c7b-4f51-9a55-0b5c0a3e2d11")


@dataclass(frozen=True, slots=True)
class ActiveListing:
    """What the matcher keeps of a listing."""

    id: str
    organisation_id: str
    kind: str
    category: str
    lat: float
    lon: float
    radius_km: float
    quantity: float
    unit: str
    title: str
    version: int


@dataclass(frozen=True, slots=True)
class Match:
    """An offer and a need that fit, with the reasons."""

    id: str
    offer: ActiveListing
    need: ActiveListing
    distance_km: float
    category_relation: str
    score: float


def match_id(offer_id: str, need_id: str) -> str:
    """Deterministic id of the pair, so re-deliveries collapse downstream."""
    return str(uuid.uuid5(MATCH_NAMESPACE, f"{offer_id}|{need_id}"))


def evaluate(offer: ActiveListing, need: ActiveListing) -> Match | None:
    """The match between `offer` and `need`, or None when a rule fails."""
    if offer.kind != "offer" or need.kind != "need":
        return None
    if offer.organisation_id == need.organisation_id or offer.category != need.category:
        return None
    distance = geodesic((offer.lat, offer.lon), (need.lat, need.lon)).km
    if distance > need.radius_km:
        return None
    # Closer is better; a listing at the edge of the radius still scores above zero.
    score = 1.0 - 0.9 * (distance / need.radius_km) if need.radius_km > 0 else 1.0
    return Match(
        id=match_id(offer.id, need.id),
        offer=offer,
        need=need,
        distance_km=round(distance, 3),
        category_relation="same",
        score=round(score, 4),
    )


class ListingIndex:
    """Active listings by kind and category (the spatial index comes with the matching issue)."""

    def __init__(self) -> None:
        self._by_id: dict[str, ActiveListing] = {}
        self._by_key: dict[tuple[str, str], dict[str, ActiveListing]] = defaultdict(dict)

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, listing_id: str) -> ActiveListing | None:
        """The active listing with this id, or None."""
        return self._by_id.get(listing_id)

    def put(self, listing: ActiveListing) -> None:
        """Add or replace a listing; an older version never replaces a newer one."""
        current = self._by_id.get(listing.id)
        if current is not None and current.version > listing.version:
            return
        self.remove(listing.id)
        self._by_id[listing.id] = listing
        self._by_key[(listing.kind, listing.category)][listing.id] = listing

    def remove(self, listing_id: str) -> None:
        """Forget a listing (withdrawn, closed, expired...)."""
        current = self._by_id.pop(listing_id, None)
        if current is not None:
            self._by_key[(current.kind, current.category)].pop(listing_id, None)

    def find_matches(self, listing: ActiveListing) -> list[Match]:
        """Every match of `listing` against the index, best first."""
        other_kind = "need" if listing.kind == "offer" else "offer"
        found = []
        for other in self._by_key.get((other_kind, listing.category), {}).values():
            pair = (listing, other) if listing.kind == "offer" else (other, listing)
            match = evaluate(*pair)
            if match is not None:
                found.append(match)
        return sorted(found, key=lambda m: (-m.score, m.id))
