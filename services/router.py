"""Composition root of the router: one base URL in front of every web service.

Requests are forwarded by path prefix; anything no other service claims goes to the
listings service, which serves the pages and most of the API. `/health` answers for the
whole exchange, `/health/<service>` for one. Served by gunicorn:
`gunicorn 'services.router:create_app()'`.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from services.forwarding import forward

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: path prefix -> the environment variable naming the backend that serves it
ROUTES = {
    "/api/v1/alerts": "NOTIFICATIONS_URL",
    "/api/v1/inbox": "NOTIFICATIONS_URL",
    "/api/v1/webhooks": "NOTIFICATIONS_URL",
    "/api/v1/notification-preferences": "NOTIFICATIONS_URL",
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
}
DEFAULT_URLS = {
    "LISTINGS_URL": "http://127.0.0.1:8001",
    "NOTIFICATIONS_URL": "http://127.0.0.1:8002",
    "MATCHER_HEALTH_URL": "http://127.0.0.1:8003",
    "NOTIFIER_HEALTH_URL": "http://127.0.0.1:8004",
    "RELAY_HEALTH_URL": "http://127.0.0.1:8005",
    "MONITOR_URL": "http://127.0.0.1:8006",
    "LISTINGS_MATCHES_HEALTH_URL": "http://127.0.0.1:8007",
}


def _url(variable: str) -> str:
    return os.environ.get(variable, DEFAULT_URLS[variable]).rstrip("/")


def _check(base_url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(f"{base_url}/health", timeout=2) as response:
            return {"status": "up", "detail": json.load(response)}
    except urllib.error.HTTPError as exc:
        return {"status": "down", "detail": f"HTTP {exc.code}"}
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


def _proxy_app() -> Wsgi:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        target = _backend_for(environ.get("PATH_INFO", "/"))
        # Long enough for a live feed between two keep-alive comments.
        return forward(environ, start_response, target, timeout=60)

    return app


def create_app() -> Wsgi:
    """The router as a WSGI app, its backends taken from the environment."""
    return _health_app(_proxy_app())
