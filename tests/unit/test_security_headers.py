"""Security headers on every response: a CSP without 'unsafe-inline', no sniffing, no framing,
a short referrer, and HSTS only when the request came over HTTPS."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask, abort
from werkzeug.middleware.proxy_fix import ProxyFix

from shared.security_headers import content_security_policy, install_security_headers, tile_source

SHARED_STATIC = Path(__file__).parents[2] / "shared" / "static"


def crash() -> str:
    raise RuntimeError("a bug")


def app_with_headers(img_sources: list[str | None] | None = None) -> Flask:
    app = Flask("headers-test", static_folder=str(SHARED_STATIC))
    app.add_url_rule("/page", "page", lambda: "<p>hello</p>")
    app.add_url_rule("/api/thing", "thing", lambda: {"id": 1})
    app.add_url_rule("/refused", "refused", lambda: abort(403))
    app.add_url_rule("/crash", "crash", crash)
    install_security_headers(app, img_sources or [])
    return app


def directives(policy: str) -> dict[str, list[str]]:
    parsed = (part.split() for part in policy.split(";") if part.strip())
    return {name: values for name, *values in parsed}


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/page", 200),
        ("/api/thing", 200),
        ("/static/boucle.css", 200),
        ("/missing", 404),
        ("/refused", 403),
        ("/crash", 500),
    ],
)
def test_every_response_carries_the_headers(path: str, status: int) -> None:
    response = app_with_headers().test_client().get(path)
    assert response.status_code == status
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP


def test_hsts_only_over_https() -> None:
    client = app_with_headers().test_client()
    assert "Strict-Transport-Security" not in client.get("/page").headers
    secure = client.get("/page", base_url="https://boucle.example.org")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_hsts_follows_the_scheme_the_trusted_proxy_reports() -> None:
    app = app_with_headers()
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)  # type: ignore[method-assign]
    client = app.test_client()
    over_tls = client.get("/page", headers={"X-Forwarded-Proto": "https"})
    assert over_tls.headers["Strict-Transport-Security"].startswith("max-age=")
    plain = client.get("/page", headers={"X-Forwarded-Proto": "http"})
    assert "Strict-Transport-Security" not in plain.headers


def test_a_configured_tile_host_may_serve_images_and_nothing_else() -> None:
    app = app_with_headers([tile_source("https://{s}.tile.example.org/{z}/{x}/{y}.png"), None])
    policy = directives(app.test_client().get("/page").headers["Content-Security-Policy"])
    assert policy["img-src"] == ["'self'", "data:", "https://*.tile.example.org"]
    assert policy["default-src"] == ["'self'"]


@pytest.mark.parametrize(
    ("url", "source"),
    [
        ("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", "https://*.tile.openstreetmap.org"),
        ("https://tiles.example.org:8443/{z}/{x}/{y}.png", "https://tiles.example.org:8443"),
        ("http://tiles.{s}.example.org/{z}/{x}/{y}.png", "http:"),
        ("/tiles/{z}/{x}/{y}.png", None),  # our own origin: 'self' covers it
        ("", None),
    ],
)
def test_tile_source(url: str, source: str | None) -> None:
    assert tile_source(url) == source


def test_the_policy_without_tiles() -> None:
    assert content_security_policy() == (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )
