"""A tiny /health (and /metrics) HTTP endpoint for processes that are not web apps."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from shared.metrics import register_metrics
from shared.web import register_health


def serve_health(
    name: str,
    port: int,
    checks: dict[str, Callable[[], object]],
    host: str = "127.0.0.1",
    metrics: bool = True,
) -> BaseWSGIServer:
    """Serve GET /health (and /metrics) on `host:port` from a daemon thread; returns the server."""
    app = Flask(name)
    register_health(app, checks)
    if metrics:
        register_metrics(app)
    server = make_server(host, port, app, threaded=True)
    threading.Thread(target=server.serve_forever, name=f"{name}-health", daemon=True).start()
    return server


def serve_health_from_env(
    name: str, default_port: int, checks: dict[str, Callable[[], object]]
) -> BaseWSGIServer:
    """serve_health on HEALTH_HOST:HEALTH_PORT (loopback and `default_port` unless set)."""
    port = int(os.environ.get("HEALTH_PORT", str(default_port)))
    return serve_health(name, port, checks, host=os.environ.get("HEALTH_HOST", "127.0.0.1"))
