"""The monitor in headless Chromium: the live tail shows an event produced after the page opened,
and the map shows the active listings."""

from __future__ import annotations

import dataclasses
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from monitor.config import MonitorConfig
from services.feeds import build_app as build_feeds
from services.forwarding import forward
from shared.auth import Principal
from shared.kafka import KafkaPublisher
from tests.conftest import IN_CI
from tests.e2e.tiles import stand_in_tiles
from tests.edge_identity import identity_headers
from tests.integration.kafka_helpers import wait_for
from tests.integration.monitor_helpers import (
    listing_event,
    match_event,
    monitor_settings,
    running_monitor,
)
from tests.integration.test_feeds import serving

pytestmark = pytest.mark.kafka
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def served(kafka_bootstrap: str, topic_prefix: str, tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    """The monitor and the feeds process behind one address, as the edge puts them."""
    settings = dataclasses.replace(
        monitor_settings(kafka_bootstrap, topic_prefix),
        notifications_database_url=f"sqlite:///{tmp_path / 'notifications.sqlite'}",
    )
    feeds_app = build_feeds(settings, MonitorConfig())
    with running_monitor(kafka_bootstrap, topic_prefix) as app, serving(feeds_app) as feeds:

        def edge(environ: dict[str, Any], start_response: Any) -> Any:
            if environ.get("PATH_INFO") == "/monitor/tail/stream":
                return forward(environ, start_response, f"http://127.0.0.1:{feeds}", 60)
            return app.wsgi_app(environ, start_response)

        server = make_server("127.0.0.1", free_port(), edge, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield app, f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()


def as_admin(browser: Any, app: Flask) -> Any:
    """A browser context whose requests carry an admin's identity, as the edge forwards it."""
    context = browser.new_context()
    principal = Principal("org-admin", "admin-1", "admin")
    context.set_extra_http_headers(identity_headers(principal, app.secret_key))
    return context


def test_the_live_tail_shows_an_event_produced_after_the_page_opened(
    browser: Any, served: tuple[Flask, str], kafka_bootstrap: str, topic_prefix: str
):
    app, base_url = served
    context = as_admin(browser, app)
    page = context.new_page()
    page.goto(f"{base_url}/monitor/tail", timeout=20_000)
    page.wait_for_selector("#tail-status:has-text('Live')", timeout=20_000)

    publisher = KafkaPublisher(kafka_bootstrap, "browser-test")
    event = match_event(42, organisation="org-tail")
    publisher.publish(monitor_settings(kafka_bootstrap, topic_prefix).topics.matches, event).get(30)
    publisher.close()

    item = page.wait_for_selector(f"li[data-event-id='{event.id}']", timeout=20_000)
    assert item is not None
    assert "boucle.match.found" in item.inner_text()
    page.click(f"li[data-event-id='{event.id}'] summary")  # shows envelope and payload
    assert "org-tail" in page.inner_text(f"li[data-event-id='{event.id}'] details")
    context.close()


def test_the_map_shows_a_marker_per_active_listing(
    browser: Any, served: tuple[Flask, str], kafka_bootstrap: str, topic_prefix: str
):
    app, base_url = served
    listings = monitor_settings(kafka_bootstrap, topic_prefix).topics.listings
    publisher = KafkaPublisher(kafka_bootstrap, "browser-test")
    for n, (kind, lat, lon) in enumerate([("offer", 49.12, 6.18), ("need", 49.61, 6.13)]):
        publisher.publish(listings, listing_event(f"listing-{n}", kind, lat, lon)).get(30)
    publisher.close()
    wait_for(lambda: len(app.extensions["boucle.monitor"].activity.active_listings()) == 2)

    context = as_admin(browser, app)
    stand_in_tiles(context)
    page = context.new_page()
    page.goto(f"{base_url}/monitor/activity", timeout=20_000)
    page.wait_for_selector("#map .listing-marker, #map .map-cluster", timeout=20_000)
    # Both listings are on the map, one marker each or together in a cluster that says 2.
    singles = page.locator("#map .listing-marker").count()
    clustered = sum(int(n) for n in page.locator("#map .map-cluster-count").all_inner_texts())
    assert singles + clustered == 2
    assert page.locator("#map-legend li").count() == 3, "offers, needs, clusters"
    # The map opens on the Greater Region, not on half of Europe.
    view = page.get_attribute("#map", "data-view") or ""
    west, south, east, north = map(float, view.split(","))
    assert west <= 2.8 and east >= 8.6 and south <= 47.8 and north >= 51.0
    assert north - south < 2 * (51.0 - 47.8)
    assert page.locator("#chart-listings rect").count() == 30
    # A marker says what it is in the page's language.
    page.goto(f"{base_url}/monitor/activity?lang=de", timeout=20_000)
    page.wait_for_selector("#map .listing-marker, #map .map-cluster", timeout=20_000)
    if page.locator("#map .listing-marker").count() == 0:
        page.locator("#map .map-cluster").first.click()
    page.locator("#map .listing-marker").first.click()
    popup = page.wait_for_selector("#map .leaflet-popup-content", timeout=20_000)
    assert popup is not None
    assert popup.inner_text().split(":")[0] in ("Angebot", "Bedarf")
    context.close()
