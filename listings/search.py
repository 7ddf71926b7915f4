"""Finding listings near a place, by kind and category (including sub-categories)."""

from __future__ import annotations

import math
from collections.abc import Container
from dataclasses import dataclass

from geopy.distance import geodesic
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from listings.domain import Listing
from listings.repository import SqlAlchemyRepository
from listings.tables import ListingRow
from shared.db import unit_of_work
from shared.taxonomy import Taxonomy

KM_PER_DEGREE_LAT = 111.0


@dataclass(frozen=True)
class SearchQuery:
    """What a visitor looks for; `near` is (lat, lon)."""

    kind: str | None = None
    category: str | None = None
    near: tuple[float, float] | None = None
    radius_km: float = 50.0
    text: str | None = None
    page: int = 1
    page_size: int = 20


@dataclass(frozen=True)
class SearchHit:
    listing: Listing
    distance_km: float | None


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    total: int
    page: int
    page_size: int


def bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    """A lat/lon box that contains every point within `radius_km` (a cheap SQL prefilter)."""
    dlat = radius_km / KM_PER_DEGREE_LAT
    dlon = radius_km / (KM_PER_DEGREE_LAT * max(math.cos(math.radians(lat)), 0.01))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


class ListingSearch:
    """Published listings matching a query, nearest first when a place is given."""

    def __init__(self, sessions: sessionmaker[Session], taxonomy: Taxonomy) -> None:
        self._sessions = sessions
        self._taxonomy = taxonomy

    def search(self, query: SearchQuery) -> SearchPage:
        """One page of results and the total count."""
        statement = select(ListingRow).where(ListingRow.status == "published")
        if query.kind:
            statement = statement.where(ListingRow.kind == query.kind)
        if query.category:
            wanted: Container[str] = {query.category, *self._taxonomy.descendants(query.category)}
            statement = statement.where(ListingRow.category.in_(wanted))  # type: ignore[arg-type]
        if query.text:
            statement = statement.where(ListingRow.title.ilike(f"%{query.text}%"))
        if query.near is not None:
            south, north, west, east = bounding_box(*query.near, query.radius_km)
            statement = statement.where(
                ListingRow.lat.between(south, north), ListingRow.lon.between(west, east)
            )
        statement = statement.order_by(ListingRow.updated_at.desc()).limit(5000)
        with unit_of_work(self._sessions) as session:
            listings = SqlAlchemyRepository(session).listings(statement)
        hits = [SearchHit(listing, _distance(query.near, listing)) for listing in listings]
        if query.near is not None:
            hits = [
                h for h in hits if h.distance_km is not None and h.distance_km <= query.radius_km
            ]
            hits.sort(key=lambda hit: hit.distance_km or 0.0)
        start = (query.page - 1) * query.page_size
        return SearchPage(
            hits[start : start + query.page_size], len(hits), query.page, query.page_size
        )


def _distance(near: tuple[float, float] | None, listing: Listing) -> float | None:
    if near is None:
        return None
    return round(geodesic(near, (listing.lat, listing.lon)).km, 1)
