"""Helpers for listings tests: a wired app on a real database, organisations, listings."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from services.listings_web import create_app
from shared.settings import Settings
from tests.conftest import random_id


def listings_app(database_url: str, **env: str) -> Flask:
    """The listings web app as `make run` wires it, on the given database."""
    settings = Settings.from_env({"DATABASE_URL": database_url, "BOUCLE_ENV": "test", **env})
    app = create_app(settings)
    app.config["WTF_CSRF_SSL_STRICT"] = False
    return app


def register(
    client: FlaskClient,
    place: str = "Esch-sur-Alzette",
    country: str = "LU",
    language: str = "en",
    **overrides: Any,
) -> dict[str, Any]:
    """Register an organisation over the API; returns the answer plus auth headers."""
    tag = random_id("org")
    body = {
        "name": f"Org {tag}",
        "kind": "association",
        "country": country,
        "place": place,
        "contact_email": f"contact-{tag}@example.org",
        "language": language,
        "email": f"member-{tag}@example.org",
        "password": "a long enough password",
        **overrides,
    }
    response = client.post("/api/v1/organisations", json=body)
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    answer["headers"] = {"Authorization": f"Bearer {answer['api_token']}"}
    answer["login"] = {"email": body["email"], "password": body["password"]}
    return answer


def listing_body(**overrides: Any) -> dict[str, Any]:
    """A valid offer of pallets in Metz, changed by `overrides`."""
    body: dict[str, Any] = {
        "kind": "offer",
        "title": "40 Euro pallets, good condition",
        "category": "ewc-150103",
        "quantity": 40,
        "unit": "pallets",
        "location": {"lat": 49.1193, "lon": 6.1757},
        "radius_km": 0,
    }
    body.update(overrides)
    return body
