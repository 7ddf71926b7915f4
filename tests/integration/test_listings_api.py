"""POST /api/v1/listings against the real PostgreSQL: stored with its event, or refused whole."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, select

from listings.tables import ListingRow, OutboxRow
from services.listings_web import create_app
from shared.events import decode_event
from shared.settings import Settings

pytestmark = pytest.mark.postgres


@pytest.fixture
def client(postgres_url: str) -> FlaskClient:
    settings = Settings.from_env({"DATABASE_URL": postgres_url, "BOUCLE_ENV": "test"})
    return create_app(settings).test_client()


def counts(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        listings = connection.execute(select(func.count()).select_from(ListingRow)).scalar_one()
        outbox = connection.execute(select(func.count()).select_from(OutboxRow)).scalar_one()
    engine.dispose()
    return listings, outbox


def offer(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "offer",
        "title": "40 Euro pallets, good condition",
        "category": "ewc-150103",
        "quantity": 40,
        "unit": "pallets",
        "location": {"lat": 49.5, "lon": 5.98},
        "radius_km": 0,
    }
    body.update(overrides)
    return body


def test_a_posted_offer_is_stored_published_and_its_event_queued(client, postgres_url):
    response = client.post("/api/v1/listings", json=offer())
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "published"
    assert body["location"] == {"lat": 49.5, "lon": 5.98}
    assert client.get(f"/api/v1/listings/{body['id']}").get_json()["title"] == body["title"]
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        payload = connection.execute(select(OutboxRow.payload)).scalar_one()
    engine.dispose()
    event = decode_event(payload)
    assert (event.type, event.subject) == ("boucle.listing.published", body["id"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (offer(kind="gift"), "kind"),
        (offer(quantity=-3), "quantity"),
        (offer(unit="barrels"), "unit"),
        (offer(location={"lat": 123, "lon": 6}), "location"),
        (offer(category="unobtainium"), "category"),
        (offer(radius_km="far"), "radius_km"),
        ({k: v for k, v in offer().items() if k != "title"}, "title"),
    ],
)
def test_bad_input_gets_400_naming_the_field_and_stores_nothing(client, postgres_url, body, field):
    response = client.post("/api/v1/listings", json=body)
    assert response.status_code == 400
    assert field in response.get_json()["errors"]
    assert counts(postgres_url) == (0, 0)


def test_a_body_that_is_not_json_gets_400(client, postgres_url):
    response = client.post("/api/v1/listings", data="kind=offer", content_type="application/json")
    assert response.status_code == 400
    assert counts(postgres_url) == (0, 0)


def test_a_listing_that_does_not_exist_is_404(client):
    assert client.get("/api/v1/listings/nope").status_code == 404


def test_a_draft_is_stored_without_publishing_an_event(client, postgres_url):
    response = client.post("/api/v1/listings", json=offer(draft=True))
    assert response.get_json()["status"] == "draft"
    assert counts(postgres_url) == (1, 0)


def test_health_reports_the_database(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok"}
