"""The router: one base URL, requests reach the right service, live feeds are not held back."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from services.router import create_app

RELEASE = threading.Event()


def _echo(name: str):  # type: ignore[no-untyped-def]
    @Request.application
    def app(request: Request) -> Response:
        if request.path == "/auth/identity":  # listings answering the edge's question
            presented = request.headers.get("Authorization", "")
            if presented == "Bearer revoked":
                return Response('{"message": "not valid"}', status=401)
            identity = "signed:good" if presented == "Bearer good" else "anonymous"
            return Response(headers={"X-Boucle-Identity": identity})
        if request.path == "/inbox/stream":

            def events() -> Iterator[bytes]:
                yield b"data: first\n\n"
                RELEASE.wait(10)  # the rest only comes after the test has seen the first one
                yield b"data: second\n\n"

            return Response(events(), mimetype="text/event-stream")
        body = {
            "service": name,
            "path": request.path,
            "query": request.query_string.decode(),
            "body": request.get_data(as_text=True),
            "host": request.host,
            "identity": request.headers.get("X-Boucle-Identity"),
            "client": request.headers.get("X-Forwarded-For"),
        }
        return Response(json.dumps(body), mimetype="application/json")

    return app


def _serve(app: Any) -> tuple[Any, int]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_port


@pytest.fixture
def router(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    servers = []
    for variable, name in (
        ("LISTINGS_URL", "listings"),
        ("NOTIFICATIONS_URL", "notifications"),
        ("MONITOR_URL", "monitor"),
        ("FEEDS_URL", "feeds"),
    ):
        server, port = _serve(_echo(name))
        servers.append(server)
        monkeypatch.setenv(variable, f"http://127.0.0.1:{port}")
    front, port = _serve(create_app())
    servers.append(front)
    RELEASE.clear()
    yield port
    RELEASE.set()
    for server in servers:
        server.shutdown()


def get(
    port: int,
    path: str,
    method: str = "GET",
    body: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(
        method, path, body=body, headers={"Host": "boucle.example", **(headers or {})}
    )
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, json.loads(payload) if payload.startswith(b"{") else payload


def test_each_path_reaches_its_service_with_query_body_and_host_intact(router: int):
    assert get(router, "/api/v1/alerts?listing_id=42")[1] == {
        "service": "notifications",
        "path": "/api/v1/alerts",
        "query": "listing_id=42",
        "body": "",
        "host": "boucle.example",
        "identity": "anonymous",
        "client": "127.0.0.1",
    }
    assert get(router, "/monitor/groups")[1]["service"] == "monitor"
    assert get(router, "/api/v1/alertsX")[1]["service"] == "listings", (
        "prefixes match whole segments"
    )
    status, answer = get(router, "/api/v1/listings", "POST", '{"kind": "offer"}')
    assert (status, answer["service"], answer["body"]) == (200, "listings", '{"kind": "offer"}')


def test_the_router_forwards_the_identity_listings_gives_and_nothing_a_client_claims(
    router: int,
):
    forged = {"X-Boucle-Identity": "signed:admin", "X-Forwarded-For": "203.0.113.9"}
    answer = get(router, "/api/v1/inbox", headers=forged)[1]
    assert (answer["identity"], answer["client"]) == ("anonymous", "127.0.0.1")
    answer = get(router, "/api/v1/inbox", headers={"Authorization": "Bearer good"})[1]
    assert (answer["service"], answer["identity"]) == ("notifications", "signed:good")
    status, answer = get(router, "/api/v1/inbox", headers={"Authorization": "Bearer revoked"})
    assert (status, answer) == (401, {"message": "not valid"})
    assert get(router, "/auth/identity")[0] == 404, "only the edge may ask listings"


def test_a_live_feed_passes_through_as_each_event_is_written(router: int):
    connection = http.client.HTTPConnection("127.0.0.1", router, timeout=10)
    connection.request("GET", "/inbox/stream")
    response = connection.getresponse()
    assert response.getheader("Content-Type", "").startswith("text/event-stream")
    first = response.read1(1024)
    assert b"data: first" in first, "the first event arrives before the stream ends"
    RELEASE.set()
    assert b"data: second" in response.read()
    connection.close()


def test_a_service_that_is_down_gives_502_not_a_hang(router: int, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NOTIFICATIONS_URL", "http://127.0.0.1:9")  # nothing listens there
    front, port = _serve(create_app())
    try:
        status, _ = get(port, "/inbox")
    finally:
        front.shutdown()
    assert status == 502


def test_health_says_which_service_is_down(router: int, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MATCHER_HEALTH_URL", "http://127.0.0.1:9")  # a stopped matcher
    front, port = _serve(create_app())
    try:
        assert get(port, "/health/notifications")[0] == 200
        status, body = get(port, "/health")
    finally:
        front.shutdown()
    assert status == 503
    assert body["services"]["matcher"]["status"] == "down"
    assert body["services"]["notifications"]["status"] == "up"
