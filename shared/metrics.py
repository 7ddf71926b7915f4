"""Prometheus metrics every process shares: events in and out, handler latency, `/metrics`.

The instruments live in the process-wide default registry. Under gunicorn with several
workers, set PROMETHEUS_MULTIPROC_DIR (an empty directory) and `/metrics` aggregates the
workers through prometheus-client's multiprocess collector. METRICS_TOKEN, when set, is
required as a bearer token; without it, `/metrics` answers only callers that reach the
process directly (a scraper on its port), never a request that came through a proxy.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable
from typing import Any

import flask
from flask import Flask, Response, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess
from werkzeug.datastructures import Headers

from shared.auth import bearer_token

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

EVENTS_CONSUMED = Counter(
    "boucle_events_consumed", "Messages taken from a topic by a consumer group", ["topic", "group"]
)
EVENTS_PRODUCED = Counter("boucle_events_produced", "Messages sent to a topic", ["topic"])
PRODUCE_ERRORS = Counter(
    "boucle_produce_errors", "Messages the broker did not acknowledge", ["topic"]
)
HANDLER_SECONDS = Histogram(
    "boucle_handler_seconds",
    "Time a consumer's handler took per event (successful attempts)",
    ["topic", "group"],
    buckets=_LATENCY_BUCKETS,
)
HANDLER_ERRORS = Counter(
    "boucle_handler_errors", "Handler attempts that raised", ["topic", "group"]
)
INVALID_EVENTS = Counter(
    "boucle_invalid_events", "Messages that failed the event contract", ["topic", "group"]
)
DEAD_LETTERS = Counter(
    "boucle_dead_letters", "Messages sent to the dead-letter topic", ["topic", "group"]
)
CONSUMER_LAG = Gauge(
    "boucle_consumer_lag",
    "Messages not yet consumed, per group and partition",
    ["group", "topic", "partition"],
    multiprocess_mode="max",
)
OUTBOX_BACKLOG = Gauge(
    "boucle_outbox_backlog", "Outbox rows waiting to be published", multiprocess_mode="max"
)
HTTP_REQUESTS = Counter(
    "boucle_http_requests", "HTTP requests served", ["method", "endpoint", "status"]
)
HTTP_SECONDS = Histogram(
    "boucle_http_request_seconds",
    "Time to answer an HTTP request",
    ["method", "endpoint"],
    buckets=_LATENCY_BUCKETS,
)


def observe_gauge(gauge: Gauge, read: Callable[[], float]) -> None:
    """Let `gauge` read its value at scrape time (e.g. the outbox backlog from the database)."""

    def safe_read() -> float:
        try:
            return float(read())
        except Exception:  # a scrape must not fail because one source is down
            return float("nan")

    gauge.set_function(safe_read)


def exposition() -> tuple[bytes, str]:
    """The current metrics in Prometheus text format, and its content type."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry, path=directory)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


#: Headers a reverse proxy adds (the router, Caddy, nginx): their presence means the request
#: came from wherever the proxy is reachable, maybe the whole internet.
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP", "X-Forwarded-Proto")


def metrics_refusal(headers: Headers, token: str | None) -> int | None:
    """None when the caller may read the metrics; else the status to refuse with.

    With a token configured, the request must present it (401). Without one, only a request
    that did not pass a proxy is answered; a proxied one is told there is nothing here (404).
    """
    if token:
        presented = bearer_token(headers.get("Authorization"))
        if presented is not None and hmac.compare_digest(presented.encode(), token.encode()):
            return None
        return 401
    if any(name in headers for name in PROXY_HEADERS):
        return 404
    return None


def metrics_view(token: str | None) -> Callable[[], Any]:
    """A view answering `/metrics` (401 without the configured bearer token, 404 through a
    proxy when no token is configured)."""

    def view() -> Any:
        refusal = metrics_refusal(request.headers, token)
        if refusal == 401:
            return Response(
                "metrics need the bearer token\n",
                status=401,
                mimetype="text/plain",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if refusal is not None:
            return Response("not found\n", status=refusal, mimetype="text/plain")
        body, content_type = exposition()
        return Response(body, mimetype=None, content_type=content_type)

    return view


def register_metrics(app: Flask, token: str | None = None) -> None:
    """Serve `/metrics` on `app` and time every request it answers."""
    token = token if token is not None else os.environ.get("METRICS_TOKEN")
    app.add_url_rule("/metrics", "metrics", metrics_view(token))

    @app.before_request
    def _start_timer() -> None:
        flask.g.boucle_request_started = time.perf_counter()

    @app.after_request
    def _record(response: Response) -> Response:
        started = flask.g.pop("boucle_request_started", None)
        # The rule, not the path: ids in paths would make a label per object.
        endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
        HTTP_REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
        if started is not None:
            HTTP_SECONDS.labels(request.method, endpoint).observe(time.perf_counter() - started)
        return response


# Figures the monitor reads from the broker and the services, for alerting rules.
GROUP_LAG = Gauge(
    "boucle_group_lag",
    "Lag per consumer group and partition, as the monitor reads it from the broker",
    ["group", "topic", "partition"],
    multiprocess_mode="max",
)
OPEN_DEAD_LETTERS = Gauge(
    "boucle_open_dead_letters", "Dead letters not replayed yet", ["topic"], multiprocess_mode="max"
)
SERVICE_UP = Gauge(
    "boucle_service_up",
    "1 if the service answered its last /health",
    ["service"],
    multiprocess_mode="max",
)
