"""Nominatim behind geopy's rate limiter: at most one request a second, bounded timeouts."""

from __future__ import annotations

from typing import Any

from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import Nominatim
from geopy.geocoders.base import Geocoder

GREATER_REGION_COUNTRIES = ["lu", "fr", "de", "be"]


class RateLimitedNominatim(Geocoder):
    """A geopy Geocoder that forwards to Nominatim through `RateLimiter` (usage policy)."""

    def __init__(self, nominatim: Nominatim, min_delay_seconds: float = 1.0) -> None:
        super().__init__(user_agent=nominatim.headers.get("User-Agent"))
        self._nominatim = nominatim
        self._geocode = RateLimiter(
            nominatim.geocode,
            min_delay_seconds=min_delay_seconds,
            max_retries=1,
            swallow_exceptions=False,
        )

    def geocode(self, query: str, *, exactly_one: bool = True, **kwargs: Any) -> Any:
        """Places for `query` within the Greater Region's four countries."""
        kwargs.setdefault("country_codes", GREATER_REGION_COUNTRIES)
        return self._geocode(query, exactly_one=exactly_one, **kwargs)
