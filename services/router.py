"""Composition root of the router: the exchange's /health, and the fallback edge.

Caddy is the edge at the one base URL (services/edge/Caddyfile); it sends `/health` here,
where the router answers for the whole exchange, `/health/<service>` for one. Where Caddy
is not installed the router is the edge itself, and does what the Caddyfile does: it asks
listings who is calling (`/auth/identity`, ADR 0007) and forwards the signed identity, and
forwards by path prefix (ROUTES; anything no other service claims goes to listings).
Served by gunicorn: `gunicorn 'services.router:create_app()'`.
"""

from __future__ import annotations

import http.client
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from werkzeug.http import is_hop_by_hop_header
from werkzeug.wrappers import Request, Response

from services.forwarding import forward
from shared.identity import IDENTITY_HEADER

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: path prefix -> the environment variable naming the backend that serves it
ROUTES = {
    # Live feeds first: their paths sit under the prefixes of the services they belong to.
    "/inbox/stream": "FEEDS_URL",
    "/monitor/tail/stream": "FEEDS_URL",
    "/api/v1/alerts": "NOTIFICATIONS_URL",
    "/api/v1/inbox": "NOTIFICATIONS_URL",
    "/api/v1/webhooks": "NOTIFICATIONS_URL",
    "/api/v1/notification-preferences": "NOTIFICATIONS_URL",
    # The notifications part of an organisation's data export (the rest is listings').
    "/api/v1/organisations/me/export/notifications": "NOTIFICATIONS_URL",
    "/inbox": "NOTIFICATIONS_URL",
    "/settings/notifications": "NOTIFICATIONS_URL",
    "/unsubscribe": "NOTIFICATIONS_URL",
    "/notifications": "NOTIFICATIONS_URL",
    "/monitor": "MONITOR_URL",
    "/api/v1/monitor": "MONITOR_URL",
}
DEFAULT_BACKEND = "LISTINGS_URL"
#: service name -> environment variable of its base URL (its /health is checked)
HEALTH_BACKENDS = {
    "listings": "LISTINGS_URL",
    "notifications": "NOTIFICATIONS_URL",
    "listings-relay": "RELAY_HEALTH_URL",
    "listings-matches": "LISTINGS_MATCHES_HEALTH_URL",
    "matcher": "MATCHER_HEALTH_URL",
    "notifier": "NOTIFIER_HEALTH_URL",
    "monitor": "MONITOR_URL",
    "feeds": "FEEDS_URL",
}
#: Public files: the same for everyone, no identity to ask for.
STATIC_PREFIXES = ("/assets/", "/static/", "/monitor/static/", "/notifications/static/")
#: Only the edge may ask listings who is calling.
INTERNAL_PATHS = ("/auth/identity",)
DEFAULT_URLS = {
    "LISTINGS_URL": "http://127.0.0.1:8001",
    "NOTIFICATIONS_URL": "http://127.0.0.1:8002",
    "MATCHER_HEALTH_URL": "http://127.0.0.1:8003",
    "NOTIFIER_HEALTH_URL": "http://127.0.0.1:8004",
    "RELAY_HEALTH_URL": "http://127.0.0.1:8005",
    "MONITOR_URL": "http://127.0.0.1:8006",
    "LISTINGS_MATCHES_HEALTH_URL": "http://127.0.0.1:8007",
    "FEEDS_URL": "http://127.0.0.1:8008",
}


def _url(variable: str) -> str:
    return os.environ.get(variable, DEFAULT_URLS[variable]).rstrip("/")


def _check(base_url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(f"{base_url}/health", timeout=2) as response:
            return {"status": "up", "detail": json.load(response)}
    except urllib.error.HTTPError as exc:
        # A service that answers 503 says why in its body: pass that on to the operator.
        try:
            why: Any = json.loads(exc.read())
        except (ValueError, OSError):
            why = None
        return {"status": "down", "detail": why or f"HTTP {exc.code}"}
    except (OSError, ValueError) as exc:
        return {"status": "down", "detail": str(exc)}


def _health_app(fallback: Wsgi) -> Wsgi:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        path = request.path.rstrip("/")
        if path == "/health" or path.startswith("/health/"):
            wanted = path.removeprefix("/health").strip("/")
            names = [wanted] if wanted else list(HEALTH_BACKENDS)
            if any(name not in HEALTH_BACKENDS for name in names):
                return Response("unknown service", status=404)(environ, start_response)
            report = {name: _check(_url(HEALTH_BACKENDS[name])) for name in names}
            healthy = all(entry["status"] == "up" for entry in report.values())
            body = json.dumps({"status": "ok" if healthy else "degraded", "services": report})
            response = Response(body, status=200 if healthy else 503, mimetype="application/json")
            return response(environ, start_response)
        return fallback(environ, start_response)

    return app


def _backend_for(path: str) -> str:
    for prefix, variable in ROUTES.items():
        if path == prefix or path.startswith(prefix + "/"):
            return _url(variable)
    return _url(DEFAULT_BACKEND)


Refusal = tuple[str, list[tuple[str, str]], bytes]


def _identify(environ: dict[str, Any]) -> Refusal | None:
    """Ask listings who sends this request; set the signed identity, or return the refusal."""
    environ.pop("HTTP_" + IDENTITY_HEADER.upper().replace("-", "_"), None)
    backend = urlsplit(_url(DEFAULT_BACKEND))
    headers = {"X-Forwarded-Uri": environ.get("PATH_INFO", "/")}
    for name in ("Cookie", "Authorization"):
        value = environ.get("HTTP_" + name.upper())
        if value:
            headers[name] = value
    connection = http.client.HTTPConnection(
        backend.hostname or "127.0.0.1", backend.port or 80, timeout=10
    )
    try:
        connection.request("GET", "/auth/identity", headers=headers)
        answer = connection.getresponse()
        body = answer.read()
    finally:
        connection.close()
    if answer.status != 200:
        kept = [(k, v) for k, v in answer.getheaders() if not is_hop_by_hop_header(k)]
        return f"{answer.status} {answer.reason}", kept, body
    identity = answer.getheader(IDENTITY_HEADER)
    if identity:
        environ["HTTP_" + IDENTITY_HEADER.upper().replace("-", "_")] = identity
    return None


def _proxy_app() -> Wsgi:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path.startswith(INTERNAL_PATHS):
            return Response("Not Found", status=404)(environ, start_response)
        if not path.startswith(STATIC_PREFIXES):
            try:
                refused = _identify(environ)
            except OSError:
                return Response("accounts are not answering", status=502)(environ, start_response)
            if refused is not None:
                status, answer_headers, body = refused
                start_response(status, answer_headers)
                return [body]
        # Long enough for a live feed between two keep-alive comments.
        return forward(environ, start_response, _backend_for(path), timeout=60)

    return app


def create_app() -> Wsgi:
    """The router as a WSGI app, its backends taken from the environment."""
    return _health_app(_proxy_app())
