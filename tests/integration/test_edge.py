"""The edge as a visitor meets it: every process behind Caddy (or the router), rate limits on.

Many open live feeds leave the site answering; a token or a login is good everywhere from
the moment it exists and dead everywhere once revoked; limits count per real client.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest

from services.stack import ServiceStack, caddy_binary
from tests.conftest import random_id
from tests.integration.kafka_helpers import wait_for
from tests.integration.whole_stack import whole_stack

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def stack(kafka_bootstrap: str, module_postgres_url: str) -> Iterator[ServiceStack]:
    with whole_stack(kafka_bootstrap, module_postgres_url, "edge") as running:
        yield running


@dataclass
class Client:
    """One visitor: its own address on the loopback, its cookies, plain HTTP/1.1."""

    port: int
    address: str = "127.0.0.1"
    cookies: dict[str, str] = field(default_factory=dict)

    def connection(self, timeout: float = 10) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=timeout, source_address=(self.address, 0)
        )

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        connection = self.connection()
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key] = rest.split(";", 1)[0]
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            connection.close()

    def json(
        self, method: str, path: str, body: dict[str, Any] | None = None, token: str = ""
    ) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        status, _, raw = self.request(method, path, data, headers)
        return status, json.loads(raw) if raw else None

    def form(self, path: str, page: str, fields_: dict[str, str]) -> tuple[int, dict[str, str]]:
        _, _, html = self.request("GET", page)
        token = re.search(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
        assert token, f"no CSRF token on {page}"
        body = urlencode({"csrf_token": token.group(1).decode(), **fields_}).encode()
        status, headers, _ = self.request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        return status, headers


def not_up(body: bytes) -> Any:
    """What /health says of the services that are not up (the whole body otherwise)."""
    try:
        services = json.loads(body)["services"]
    except (ValueError, KeyError, TypeError):
        return body[:2000]
    return {name: s for name, s in services.items() if s["status"] != "up"}


def register(client: Client) -> dict[str, Any]:
    tag = random_id("org")
    email = f"m-{tag}@example.org"
    status, body = client.json(
        "POST",
        "/api/v1/organisations",
        {
            "name": f"Org {tag}",
            "kind": "association",
            "country": "LU",
            "place": "Luxembourg",
            "contact_email": f"{tag}@example.org",
            "email": email,
            "password": PASSWORD,
        },
    )
    assert status == 201, body
    return {"token": body["api_token"], "email": email, "id": body["organisation"]["id"]}


def logged_in(port: int, email: str, address: str = "127.0.0.1") -> Client:
    client = Client(port, address)
    status, _ = client.form("/login", "/login", {"email": email, "password": PASSWORD})
    assert status == 302, "the login should succeed"
    return client


class OpenFeed:
    """An open server-sent event stream, read on a thread of its own."""

    def __init__(self, client: Client, path: str) -> None:
        self.connection = client.connection(timeout=60)
        headers = {"Accept": "text/event-stream"}
        if client.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        self.connection.request("GET", path, headers=headers)
        self.response = self.connection.getresponse()
        self.received = b""
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            while chunk := self.response.read1(4096):
                self.received += chunk
        except (OSError, AttributeError, http.client.HTTPException):  # closed by the test
            return

    def close(self) -> None:
        # Shut the socket first: a reader blocked on it returns at once instead of holding
        # the close until the feed's next keep-alive.
        if self.connection.sock is not None:
            with contextlib.suppress(OSError):
                self.connection.sock.shutdown(socket.SHUT_RDWR)
        self.connection.close()


def test_fifty_open_inboxes_leave_every_page_answering_and_all_hear_of_a_new_alert(
    stack: ServiceStack,
):
    port = stack.ports.public
    anonymous = Client(port)
    buyer, seller = register(anonymous), register(anonymous)
    member = logged_in(port, buyer["email"])
    feeds = [OpenFeed(member, "/inbox/stream") for _ in range(60)]
    try:
        assert all(feed.response.status == 200 for feed in feeds)
        wait_for(lambda: all(b": connected" in feed.received for feed in feeds), 20)
        # With 60 feeds open (more than every web process's threads together), pages answer.
        for path in ("/health", "/listings", "/api/v1/categories", "/inbox", "/monitor"):
            status, _, body = member.request("GET", path)
            assert status in (200, 403), f"{path} answered {status}: {not_up(body)}"
        # An offer and a matching need: the buyer's every open feed hears of the new alert.
        offer = {
            "kind": "offer",
            "title": "Euro pallets",
            "category": "ewc-150103",
            "quantity": 25,
            "unit": "pallets",
            "location": {"lat": 49.61, "lon": 6.13},
            "radius_km": 30,
        }
        need = {**offer, "kind": "need", "title": "Pallets wanted"}
        assert anonymous.json("POST", "/api/v1/listings", offer, seller["token"])[0] == 201
        assert anonymous.json("POST", "/api/v1/listings", need, buyer["token"])[0] == 201
        wait_for(lambda: all(b"event: changed" in feed.received for feed in feeds), 30)
        status, _, raw = member.request(
            "GET",
            "/inbox/updates?" + urlencode({"alerts_after": "2000-01-01T00:00:00+00:00"}),
            headers={"Accept": "application/json"},
        )
        update = json.loads(raw)
        assert status == 200 and update["unread"] >= 1
        assert "Euro pallets" in update["alerts"][0]["html"]
    finally:
        for feed in feeds:
            feed.close()


def test_a_token_is_good_everywhere_the_moment_it_exists_and_dead_once_revoked(
    stack: ServiceStack,
):
    client = Client(stack.ports.public)
    organisation = register(client)
    token = organisation["token"]
    # Right after registering: the notifications service knows the token already.
    status, body = client.json(
        "POST", "/api/v1/webhooks", {"url": "https://example.org/boucle-hook"}, token
    )
    assert status in (201, 400), body  # 400 only if the address is refused, never 401
    assert client.json("GET", "/api/v1/alerts", token=token)[0] == 200
    assert client.json("GET", "/api/v1/inbox", token=token)[0] == 200
    # A member's valid token is known but not an admin's: 403, not 401, on the monitor.
    assert client.json("GET", "/api/v1/monitor/topics", token=token)[0] == 403
    tokens = client.json("GET", "/api/v1/organisations/me/tokens", token=token)[1]
    assert (
        client.json("DELETE", f"/api/v1/organisations/me/tokens/{tokens[0]['id']}", None, token)[0]
        == 204
    )
    for path in ("/api/v1/inbox", "/api/v1/alerts", "/api/v1/organisations/me"):
        status, body = client.json("GET", path, token=token)
        assert status == 401, f"{path} still accepts a revoked token"
        assert "not valid" in body["message"]


def test_logging_out_ends_the_login_in_every_service_even_for_a_kept_cookie(stack: ServiceStack):
    port = stack.ports.public
    organisation = register(Client(port))
    member = logged_in(port, organisation["email"])
    kept = dict(member.cookies)
    assert member.request("GET", "/inbox")[0] == 200
    assert member.request("GET", "/listings/new")[0] == 200
    assert member.form("/logout", "/my/listings", {})[0] == 302
    thief = Client(port, cookies=kept)
    for path in ("/inbox", "/listings/new", "/settings/notifications"):
        status, headers, _ = thief.request("GET", path)
        assert status == 302 and headers["location"].startswith("/login"), path
    assert OpenFeed(thief, "/inbox/stream").response.status == 401


def test_log_out_everywhere_ends_every_session_of_the_member(stack: ServiceStack):
    port = stack.ports.public
    organisation = register(Client(port))
    desk, phone = (logged_in(port, organisation["email"]) for _ in range(2))
    assert phone.request("GET", "/inbox")[0] == 200
    assert desk.form("/logout/everywhere", "/account/tokens", {})[0] == 302
    status, headers, _ = phone.request("GET", "/inbox")
    assert status == 302 and headers["location"].startswith("/login")


def test_logins_are_limited_per_client_address_and_one_cannot_lock_out_another(
    stack: ServiceStack,
):
    port = stack.ports.public
    victim = register(Client(port))
    attacker = Client(port, "127.0.0.2")
    wrong = {"email": victim["email"], "password": "not the password"}
    codes = []
    for n in range(12):
        # Whatever X-Forwarded-For a client sends, the edge reports the address it sees.
        attacker.request("GET", "/login", headers={"X-Forwarded-For": f"203.0.113.{n}"})
        codes.append(attacker.form("/login", "/login", wrong)[0])
    assert codes[:10] == [200] * 10, codes
    assert codes[-1] == 429
    # Another address still logs in: the attacker's limit is the attacker's alone.
    assert logged_in(port, victim["email"], "127.0.0.3").request("GET", "/inbox")[0] == 200


def test_registrations_are_limited_per_address(stack: ServiceStack):
    client = Client(stack.ports.public, "127.0.0.4")
    codes = []
    for _ in range(11):
        tag = random_id("r")
        status, _ = client.json(
            "POST",
            "/api/v1/organisations",
            {
                "name": f"Org {tag}",
                "kind": "association",
                "country": "LU",
                "place": "Luxembourg",
                "contact_email": f"{tag}@example.org",
                "email": f"{tag}@example.org",
                "password": PASSWORD,
            },
        )
        codes.append(status)
    assert codes[:10] == [201] * 10 and codes[-1] == 429, codes
    assert register(Client(stack.ports.public, "127.0.0.5"))["token"]


def test_the_edge_keeps_its_own_questions_inside(stack: ServiceStack):
    client = Client(stack.ports.public)
    organisation = register(client)
    status, _, _ = client.request(
        "GET", "/auth/identity", headers={"Authorization": f"Bearer {organisation['token']}"}
    )
    assert status == 404
    # A forged identity header from a client is dropped by the edge: still anonymous.
    status, _ = client.json("GET", "/api/v1/inbox")
    forged_status, _, _ = client.request(
        "GET", "/api/v1/inbox", headers={"X-Boucle-Identity": "v1.e30.forged"}
    )
    assert status == forged_status == 401


@pytest.mark.skipif(
    caddy_binary() is None and os.environ.get("CI") != "true",
    reason="Caddy is not installed here: the Python router is the edge (.ci/run installs it)",
)
def test_caddy_is_the_edge(stack: ServiceStack):
    assert "caddy" in stack.children
    status, _, body = Client(stack.ports.public).request("GET", "/health")
    assert status == 200, not_up(body)
    assert json.loads(body)["services"]["feeds"]["status"] == "up"
