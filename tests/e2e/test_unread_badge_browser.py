"""The header's unread badge in headless Chromium, on pages of two services behind one address.

The listings pages and the notifications pages share the header; only the notifications
service knows the count. A small dispatcher stands in for the edge's routes (/inbox/* to
notifications, the rest to listings) and the browser carries the member's signed identity,
as the edge forwards it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from notifications.config import NotifierConfig
from notifications.handler import MatchAlertHandler
from notifications.outcomes import OutcomeRecorder
from notifications.wiring import lineage
from services.notifications_web import create_app as notifications_app
from shared.auth import Principal
from shared.settings import Settings
from shared.taxonomy import Taxonomy
from tests.conftest import fresh_database, random_id
from tests.e2e.test_csp_browser import chromium  # noqa: F401  (the browser fixture)
from tests.e2e.test_monitor_browser import free_port
from tests.edge_identity import identity_headers
from tests.integration.listings_client import listings_app, register
from tests.integration.test_notif_support import match_event, organisation_event

pytestmark = [pytest.mark.postgres]
TIMEOUT_MS = 20_000
NOTIFICATIONS_PATHS = ("/inbox", "/notifications/")


@contextmanager
def behind_one_address(listings: Flask, notifications: Flask) -> Iterator[str]:
    """Both apps on one port, routed by path as the edge routes them."""

    def edge(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        app = notifications if path.startswith(NOTIFICATIONS_PATHS) else listings
        return app.wsgi_app(environ, start_response)

    server = make_server("127.0.0.1", free_port(), edge, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def badge_says(page: Any, count: int) -> None:
    """Wait until the page's script has asked and the badge shows `count` (blank for 0)."""
    page.wait_for_function(
        """count => {
          const badge = document.getElementById('unread-count');
          return badge.dataset.unread === String(count)
            && badge.textContent === (count === 0 ? '' : String(count));
        }""",
        arg=count,
        timeout=TIMEOUT_MS,
    )


def test_the_badge_is_filled_on_every_page_and_agrees_with_the_inbox_heading(
    chromium: Any,  # noqa: F811
    postgres_url: str,
    postgres_server_url: str,
) -> None:
    listings = listings_app(postgres_url)
    member = register(listings.test_client())
    organisation_id, member_id = member["organisation"]["id"], member["member_id"]
    with fresh_database(postgres_server_url) as notifications_url:
        settings = Settings(
            notifications_database_url=notifications_url,
            secret_key=listings.config["SECRET_KEY"],
            environment="test",
        )
        notifications = notifications_app(settings, NotifierConfig())
        web = notifications.extensions["boucle.notifications"]
        web.organisations.apply(organisation_event(organisation_id, "canteen@example.org"))
        handler = MatchAlertHandler(
            web.sessions,
            OutcomeRecorder("deliveries"),
            lineage(Taxonomy.load_default()),
            NotifierConfig().zone,
        )
        for title in ("Euro pallets", "Fruit crates"):
            handler(match_event(random_id("m"), random_id("farm"), organisation_id, title))

        context = chromium.new_context()
        principal = Principal(organisation_id, member_id)
        context.set_extra_http_headers(identity_headers(principal, settings.secret_key))
        page = context.new_page()
        with behind_one_address(listings, notifications) as base:
            page.goto(f"{base}/", timeout=TIMEOUT_MS)
            badge_says(page, 2)  # a listings page, filled from the notifications service
            page.goto(f"{base}/listings", timeout=TIMEOUT_MS)
            badge_says(page, 2)

            page.goto(f"{base}/inbox", timeout=TIMEOUT_MS)
            badge_says(page, 2)
            assert page.inner_text("#unread-summary") == "2 unread alerts"
            with page.expect_navigation():
                page.click("main form[action='/inbox/read'] button")
            badge_says(page, 0)
            assert page.inner_text("#unread-summary") == "0 unread alerts"

            page.goto(f"{base}/", timeout=TIMEOUT_MS)
            badge_says(page, 0)
        context.close()
