"""The monitor's settings, read from the environment by the composition root."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.maps import OSM_ATTRIBUTION, OSM_TILE_URL, tile_layer

#: service name -> (environment variable of its base URL, default); the router's list too.
HEALTH_ENDPOINTS = {
    "listings": ("LISTINGS_URL", "http://127.0.0.1:8001"),
    "notifications": ("NOTIFICATIONS_URL", "http://127.0.0.1:8002"),
    "matcher": ("MATCHER_HEALTH_URL", "http://127.0.0.1:8003"),
    "notifier": ("NOTIFIER_HEALTH_URL", "http://127.0.0.1:8004"),
    "listings-relay": ("RELAY_HEALTH_URL", "http://127.0.0.1:8005"),
    "listings-matches": ("LISTINGS_MATCHES_HEALTH_URL", "http://127.0.0.1:8007"),
}


@dataclass(frozen=True)
class MonitorConfig:
    """How often the monitor looks, what it watches and how it draws the map."""

    services: Mapping[str, str] = field(default_factory=dict)
    health_interval_s: float = 15.0
    down_after_s: float = 30.0
    health_timeout_s: float = 3.0
    sample_interval_s: float = 15.0
    tile_url: str = OSM_TILE_URL  # "" draws country borders only
    tile_attribution: str = OSM_ATTRIBUTION
    api_token: str | None = None
    long_chain_km: float = 500.0
    topic_prefix: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MonitorConfig:
        """Settings from MONITOR_* variables and the services' URLs the router uses too."""
        env = os.environ if environ is None else environ
        tiles = tile_layer(env, "MONITOR")
        services = {
            name: env.get(variable, default).rstrip("/")
            for name, (variable, default) in HEALTH_ENDPOINTS.items()
        }
        return cls(
            services=services,
            health_interval_s=float(env.get("MONITOR_HEALTH_INTERVAL_S", "15")),
            down_after_s=float(env.get("MONITOR_DOWN_AFTER_S", "30")),
            sample_interval_s=float(env.get("MONITOR_SAMPLE_INTERVAL_S", "15")),
            tile_url=tiles.url,
            tile_attribution=tiles.attribution,
            api_token=env.get("MONITOR_API_TOKEN") or None,
            long_chain_km=float(env.get("MONITOR_LONG_CHAIN_KM", "500")),
            topic_prefix=env.get("KAFKA_TOPIC_PREFIX", ""),
        )
