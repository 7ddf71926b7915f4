"""Helpers for the monitor's tests against the real broker: a wired monitor, events, logins."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask import Flask

from monitor.config import MonitorConfig
from services.monitor_web import SHUTDOWN_KEY, create_app
from shared.auth import Principal
from shared.event_schemas import MATCH_FOUND
from shared.events import Event, typed_data
from shared.kafka import ensure_topics, standard_topics
from shared.settings import Settings
from tests.edge_identity import act_as

LISTING_PUBLISHED = "boucle.listing.published"


def monitor_settings(bootstrap: str, prefix: str) -> Settings:
    """Settings of an exchange whose topics carry `prefix`."""
    return Settings.from_env(
        {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "KAFKA_TOPIC_PREFIX": prefix, "BOUCLE_ENV": "test"}
    )


@contextmanager
def running_monitor(
    bootstrap: str, prefix: str, services: Mapping[str, str] | None = None
) -> Iterator[Flask]:
    """The monitor from its composition root, sampling fast, its workers stopped afterwards."""
    settings = monitor_settings(bootstrap, prefix)
    ensure_topics(bootstrap, standard_topics(settings.topics))
    config = MonitorConfig(
        services=dict(services or {}),
        health_interval_s=0.2,
        down_after_s=1.0,
        health_timeout_s=1.0,
        sample_interval_s=0.5,
        topic_prefix=prefix,
    )
    app = create_app(settings, config)
    try:
        yield app
    finally:
        app.extensions[SHUTDOWN_KEY]()


def log_in(client: Any, role: str = "admin") -> None:
    """Give the test client a session of the shared login contract."""
    act_as(client, Principal("org-admin", "admin-1", role), client.application.secret_key)


def body(response: Any) -> Any:
    """A test response's JSON body."""
    return response.get_json()


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def match_event(n: int, organisation: str = "org-a") -> Event:
    """A valid boucle.match.found event."""
    side = {
        "listing_id": f"offer-{n}",
        "organisation_id": organisation,
        "title": "Euro pallets",
        "category": "reuse-pallets-epal",
        "quantity": 10.0,
        "unit": "pallets",
        "location": {"lat": 49.6, "lon": 6.13},
        "version": 1,
    }
    need = {**side, "listing_id": f"need-{n}", "organisation_id": "org-b"}
    return Event(
        type=MATCH_FOUND,
        source="/test",
        subject=f"match-{n}",
        data=typed_data(
            MATCH_FOUND,
            {
                "match_id": f"match-{n}",
                "offer": side,
                "need": need,
                "score": 0.7,
                "reasons": {"distance_km": 12.5, "category_relation": "same"},
            },
        ),
    )


def listing_event(listing_id: str, kind: str, lat: float, lon: float) -> Event:
    """A valid boucle.listing.published event."""
    now = datetime.now(UTC)
    return Event(
        type=LISTING_PUBLISHED,
        source="/test",
        subject=listing_id,
        data=typed_data(
            LISTING_PUBLISHED,
            {
                "id": listing_id,
                "organisation_id": "org-a",
                "kind": kind,
                "status": "published",
                "title": f"{kind}: oak planks",
                "category": "reuse-construction-timber",
                "quantity": 3.0,
                "unit": "m3",
                "location": {"lat": lat, "lon": lon},
                "radius_km": 30.0,
                "version": 1,
                "updated_at": now,
            },
        ),
    )
