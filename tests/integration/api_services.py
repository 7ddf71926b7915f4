"""The three web services of the API in one test process, as the edge sees them.

Notifications and monitor are also served on loopback ports, as `make run` serves them, so
listings fetches their parts of the API reference over HTTP from NOTIFICATIONS_URL and
MONITOR_URL. `edge` sends each request to the service the router would, in process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from monitor.access import API_TOKEN_KEY
from notifications.config import NotifierConfig
from services.notifications_web import create_app as notifications_web
from services.router import ROUTES
from shared.auth import Principal
from shared.settings import Settings
from tests.conftest import random_id
from tests.edge_identity import identity_headers
from tests.integration.listings_client import listings_app, register
from tests.integration.monitor_helpers import running_monitor

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
SERVICE_OF_URL = {"NOTIFICATIONS_URL": "notifications", "MONITOR_URL": "monitor"}
MONITOR_TOKEN = "monitor-script-token-" + random_id("t")


@dataclass
class Services:
    """The apps, and the organisation the tests call as."""

    apps: dict[str, Flask]
    organisation_id: str
    api_token: str

    def service_of(self, path: str) -> str:
        """The service the edge sends `path` to."""
        for prefix, variable in ROUTES.items():
            if path == prefix or path.startswith(prefix + "/"):
                return SERVICE_OF_URL.get(variable, "listings")
        return "listings"

    def edge(self) -> Wsgi:
        """One WSGI app in front of the three, routing by path as the router does."""

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            target = self.apps[self.service_of(environ.get("PATH_INFO", "/"))]
            return target(environ, start_response)

        return app

    def credentials(self, service: str) -> dict[str, str]:
        """What reaches `service` when the organisation calls with its API token.

        Listings checks the token itself. Notifications gets the identity the edge signs
        for that token (fresh on every call: it is valid for a minute, ADR 0007). The
        monitor API is for admins, and an organisation's token is not one: scripts call it
        with the monitor's own token (MONITOR_API_TOKEN).
        """
        if service == "listings":
            return {"Authorization": f"Bearer {self.api_token}"}
        if service == "monitor":
            return {"Authorization": f"Bearer {MONITOR_TOKEN}"}
        secret_key = self.apps[service].secret_key
        assert isinstance(secret_key, str)
        return identity_headers(Principal(organisation_id=self.organisation_id), secret_key)


@contextmanager
def served(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@contextmanager
def running_services(postgres_url: str, kafka_bootstrap: str) -> Iterator[Services]:
    """Listings, notifications and monitor wired from their composition roots."""
    with ExitStack() as stack:
        settings = Settings(
            notifications_database_url=postgres_url, secret_key="api-test-key", environment="test"
        )
        notifications = notifications_web(
            settings, NotifierConfig(webhooks_allow_private_networks=False)
        )
        monitor = stack.enter_context(running_monitor(kafka_bootstrap, random_id("api") + "."))
        monitor.config[API_TOKEN_KEY] = MONITOR_TOKEN
        patch = stack.enter_context(pytest.MonkeyPatch.context())
        patch.setenv("NOTIFICATIONS_URL", stack.enter_context(served(notifications)))
        patch.setenv("MONITOR_URL", stack.enter_context(served(monitor)))
        # The fuzz registers organisations by the hundred: no rate limit.
        listings = listings_app(postgres_url, RATE_LIMITS="off")
        registered = register(listings.test_client())
        yield Services(
            apps={"listings": listings, "notifications": notifications, "monitor": monitor},
            organisation_id=registered["organisation"]["id"],
            api_token=registered["api_token"],
        )
