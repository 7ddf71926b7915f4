"""The pages in headless Chromium under their Content-Security-Policy: nothing is refused.

Every page a member or an admin uses is loaded with its scripts running (the browse map, the
listing form's unit proposal, the error summary's focus, the monitor's live tail and map);
the browser reports any script, style or resource the policy blocks as a console error
("Refused to ..."), and there must be none. A page that adds an inline script shows the
check would see one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from notifications.config import NotifierConfig
from services.notifications_web import create_app as notifications_app
from shared.auth import Principal
from shared.settings import Settings
from tests.conftest import IN_CI, fresh_database
from tests.e2e.test_monitor_browser import CHROMIUM, LAUNCH_ARGS, free_port
from tests.e2e.tiles import stand_in_tiles
from tests.edge_identity import identity_headers
from tests.integration.listings_client import listing_body, listings_app, register
from tests.integration.monitor_helpers import running_monitor

pytestmark = [pytest.mark.postgres]
PAGE_TIMEOUT_MS = 20_000
#: tail.js has run: it says whether the live feed is connected or being retried.
TAIL_SCRIPT_RAN = """() => {
  const list = document.getElementById("tail");
  const status = document.getElementById("tail-status").textContent;
  return status === list.dataset.liveLabel || status === list.dataset.lostLabel;
}"""
INJECT_INLINE_SCRIPT = """() => {
  const script = document.createElement("script");
  script.textContent = "window.injected = true;";
  document.head.appendChild(script);
}"""


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing", pytrace=False)
        pytest.skip(f"{CHROMIUM} is missing")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """`app` on a port of its own; its base URL."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


class WatchedPage:
    """A browser page that keeps what the console and the policy report."""

    def __init__(self, context: Any) -> None:
        self.page = context.new_page()
        self.refusals: list[str] = []
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _console(self, message: Any) -> None:
        text = message.text
        url = message.location.get("url", "")
        if url.endswith(("/favicon.ico", "/inbox/unread")) or "/stream" in url:
            # The browser asks for an icon on its own (Boucle has none); live feeds and the
            # header's unread count are served by other processes behind the edge, not by
            # the app alone (tests/e2e/test_unread_badge_browser.py puts them together).
            return
        if "Content Security Policy" in text or text.startswith("Refused to"):
            self.refusals.append(f"{self.page.url}: {text}")
        elif message.type == "error":
            self.errors.append(f"{self.page.url}: {text}")

    def open(self, url: str, identity: dict[str, str] | None = None) -> Any:
        """Load `url` (as the edge would forward `identity`); the document's response."""
        self.page.set_extra_http_headers(identity or {})
        response = self.page.goto(url, timeout=PAGE_TIMEOUT_MS)
        assert response is not None and response.ok, f"{url}: {response and response.status}"
        assert "'unsafe-inline'" not in response.headers["content-security-policy"]
        return response

    def assert_clean(self) -> None:
        assert self.refusals == []
        assert self.errors == []


def test_member_pages_run_under_the_policy_with_nothing_refused(
    chromium: Any, postgres_url: str, postgres_server_url: str
) -> None:
    listings = listings_app(postgres_url)
    api = listings.test_client()
    member = register(api, place="Metz", country="FR")
    posted = api.post(
        "/api/v1/listings", json=listing_body(title="Palettes CSP"), headers=member["headers"]
    )
    assert posted.status_code == 201, posted.get_json()
    listing_id = posted.get_json()["id"]

    context = chromium.new_context()
    tiles = stand_in_tiles(context)  # OpenStreetMap's, allowed by the policy's img-src
    watched = WatchedPage(context)
    page = watched.page
    with served(listings) as base:
        watched.open(f"{base}/login")
        page.fill("#email", member["login"]["email"])
        page.fill("#password", member["login"]["password"])
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        assert "/login" not in page.url, "logged in"

        watched.open(f"{base}/")
        watched.open(f"{base}/listings?place=Metz&radius_km=50")
        page.wait_for_selector("#map .listing-marker", timeout=PAGE_TIMEOUT_MS)  # map.js ran
        page.wait_for_selector("#map img.leaflet-tile-loaded", timeout=PAGE_TIMEOUT_MS)
        assert tiles, "the map asked OpenStreetMap for tiles"
        watched.open(f"{base}/listings/{listing_id}")
        watched.open(f"{base}/my/listings")
        assert "Palettes CSP" in page.inner_text("main")
        watched.open(f"{base}/account/tokens")
        watched.open(f"{base}/api/v1/docs")
        page.wait_for_selector(".swagger-ui .opblock", timeout=PAGE_TIMEOUT_MS)

        # The posting form: listing_form.js proposes the category's usual unit ...
        watched.open(f"{base}/listings/new")
        usual = page.evaluate("JSON.parse(document.getElementById('usual-units').textContent)")
        category, unit = next((c, u) for c, u in usual.items() if u != page.input_value("#unit"))
        page.select_option("#category", category)
        assert page.input_value("#unit") == unit
        # ... and a form sent back with errors has its summary focused by boucle.js.
        page.fill("#title", "")
        page.click("form:has(#title) button[type=submit]")  # not the address banner's
        page.wait_for_selector(".error-summary")
        page.wait_for_function("document.activeElement.classList.contains('error-summary')")

    with fresh_database(postgres_server_url) as notifications_url:
        settings = Settings(
            notifications_database_url=notifications_url,
            secret_key=listings.config["SECRET_KEY"],
            environment="test",
        )
        notifications = notifications_app(settings, NotifierConfig())
        as_member = identity_headers(
            Principal(member["organisation"]["id"], member["member_id"]), settings.secret_key
        )
        with served(notifications) as base:
            watched.open(f"{base}/settings/notifications", as_member)
            assert page.locator("main form").count() > 0
            watched.open(f"{base}/inbox", as_member)

    watched.assert_clean()

    # The check sees a refusal when there is one: an inline script is blocked and reported.
    with served(listings) as base:
        watched.open(f"{base}/")
        with page.expect_console_message(lambda message: "Content Security Policy" in message.text):
            page.evaluate(INJECT_INLINE_SCRIPT)
        assert page.evaluate("window.injected === undefined")
    assert watched.refusals
    context.close()


@pytest.mark.kafka
def test_monitor_views_run_under_the_policy_with_nothing_refused(
    chromium: Any, kafka_bootstrap: str, topic_prefix: str
) -> None:
    with running_monitor(kafka_bootstrap, topic_prefix) as monitor, served(monitor) as base:
        as_admin = identity_headers(
            Principal("org-admin", "admin-1", "admin"), monitor.config["SECRET_KEY"]
        )
        context = chromium.new_context()
        stand_in_tiles(context)
        watched = WatchedPage(context)
        page = watched.page
        watched.open(f"{base}/monitor", as_admin)
        watched.open(f"{base}/monitor/tail", as_admin)
        page.wait_for_function(TAIL_SCRIPT_RAN, timeout=PAGE_TIMEOUT_MS)
        watched.open(f"{base}/monitor/dead-letters", as_admin)
        watched.open(f"{base}/monitor/activity", as_admin)
        page.wait_for_selector(".leaflet-container", timeout=PAGE_TIMEOUT_MS)  # map.js ran
        watched.open(f"{base}/monitor/impact", as_admin)
        watched.assert_clean()
        context.close()
