"""The listings REST API against the real PostgreSQL: stored with its event, or refused whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from listings.tables import ListingRow, OutboxRow
from shared.db import make_engine
from shared.events import decode_event
from tests.integration.listings_client import listing_body, listings_app, register

pytestmark = pytest.mark.postgres


@pytest.fixture
def client(postgres_url: str) -> FlaskClient:
    return listings_app(postgres_url).test_client()


def outbox_events(url: str) -> list[Any]:
    engine = make_engine(url, schema="listings")
    with engine.connect() as connection:
        payloads = connection.execute(select(OutboxRow.payload).order_by(OutboxRow.id)).scalars()
        events = [decode_event(payload) for payload in payloads]
    engine.dispose()
    return events


def listing_count(url: str) -> int:
    engine = make_engine(url, schema="listings")
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(ListingRow)).scalar_one()
    engine.dispose()
    return count


def test_a_posted_offer_is_stored_published_and_its_event_queued(client, postgres_url):
    org = register(client)
    response = client.post("/api/v1/listings", json=listing_body(), headers=org["headers"])
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "published"
    assert body["organisation_id"] == org["organisation"]["id"]
    assert body["location"]["country"] == "FR"
    assert client.get(f"/api/v1/listings/{body['id']}").get_json()["title"] == body["title"]
    listing_events = [e for e in outbox_events(postgres_url) if e.type.startswith("boucle.listing")]
    assert [(e.type, e.subject) for e in listing_events] == [
        ("boucle.listing.published", body["id"])
    ]


def test_registering_publishes_the_organisation_with_its_token_digest_only(client, postgres_url):
    org = register(client, place="Saarbrücken", country="DE", language="de")
    events = outbox_events(postgres_url)
    [event] = [e for e in events if e.type.startswith("boucle.organisation.")]
    assert event.type == "boucle.organisation.registered"
    # Registering also asks the notifier to have both addresses confirmed (no token in it).
    mails = [e.data for e in events if e.type == "boucle.account.mail_requested"]
    assert sorted(m.to for m in mails) == sorted(
        [org["login"]["email"], org["organisation"]["contact_email"]]
    )
    assert all(org["api_token"] not in str(m) for m in mails)
    assert event.data.language == "de"
    assert event.data.location.place == "Saarbrücken"
    assert org["api_token"] not in str(event.data)
    assert len(event.data.api_token_hashes) == 1


def test_a_place_name_is_geocoded_offline(client):
    org = register(client)
    body = listing_body(location=None, place="Sarrebruck")
    response = client.post("/api/v1/listings", json=body, headers=org["headers"])
    assert response.status_code == 201
    location = response.get_json()["location"]
    assert (location["place"], location["country"]) == ("Saarbrücken", "DE")


@pytest.mark.parametrize(
    ("place", "reason"),
    [("Xyzzyville", "unknown place"), ("Neufchâteau", "several places")],
)
def test_an_unknown_or_ambiguous_place_gets_400_on_the_place_field(
    client, postgres_url, place, reason
):
    org = register(client)
    response = client.post(
        "/api/v1/listings", json=listing_body(location=None, place=place), headers=org["headers"]
    )
    assert response.status_code == 400
    assert reason in response.get_json()["errors"]["place"][0]
    assert listing_count(postgres_url) == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "gift"}, "kind"),
        ({"quantity": -3}, "quantity"),
        ({"unit": "barrels"}, "unit"),
        ({"location": {"lat": 123, "lon": 6}}, "location"),
        ({"category": "unobtainium"}, "category"),
        ({"radius_km": "far"}, "radius_km"),
        ({"title": None}, "title"),
        ({"kind": "need", "quantity": 5, "min_quantity": 9}, "min_quantity"),
        (
            {
                "available_from": "2026-12-10T00:00:00+00:00",
                "available_until": "2026-12-01T00:00:00+00:00",
            },
            "available_until",
        ),
        ({"price": {"mode": "per_unit"}}, "price"),
        ({"title": "Pal\x00lets"}, "title"),
    ],
)
def test_bad_input_gets_400_naming_the_field_and_stores_nothing(
    client, postgres_url, overrides, field
):
    org = register(client)
    body = {k: v for k, v in listing_body(**overrides).items() if v is not None}
    response = client.post("/api/v1/listings", json=body, headers=org["headers"])
    assert response.status_code == 400
    assert field in response.get_json()["errors"]
    assert listing_count(postgres_url) == 0


def test_posting_without_a_token_is_401_and_with_a_bad_token_too(client, postgres_url):
    assert client.post("/api/v1/listings", json=listing_body()).status_code == 401
    bad = {"Authorization": "Bearer bcl_not-a-real-token"}
    assert client.post("/api/v1/listings", json=listing_body(), headers=bad).status_code == 401
    assert listing_count(postgres_url) == 0


def test_only_the_owning_organisation_changes_or_withdraws_a_listing(client):
    owner, other = register(client), register(client)
    listing = client.post(
        "/api/v1/listings", json=listing_body(), headers=owner["headers"]
    ).get_json()
    url = f"/api/v1/listings/{listing['id']}"
    assert client.patch(url, json={"quantity": 1}, headers=other["headers"]).status_code == 403
    assert client.delete(url, headers=other["headers"]).status_code == 403
    changed = client.patch(url, json={"quantity": 12}, headers=owner["headers"])
    assert (changed.status_code, changed.get_json()["quantity"]) == (200, 12)
    assert client.delete(url, headers=owner["headers"]).get_json()["status"] == "withdrawn"


def test_lifecycle_events_carry_the_full_state(client, postgres_url):
    org = register(client)
    listing = client.post(
        "/api/v1/listings", json=listing_body(draft=True), headers=org["headers"]
    ).get_json()
    actions = f"/api/v1/listings/{listing['id']}/actions"
    for action in ("publish", "reserve", "close"):
        assert (
            client.post(actions, json={"action": action}, headers=org["headers"]).status_code == 200
        )
    refused = client.post(actions, json={"action": "reserve"}, headers=org["headers"])
    assert refused.status_code == 409
    types = [e.type for e in outbox_events(postgres_url) if e.subject == listing["id"]]
    assert types == ["boucle.listing.published", "boucle.listing.reserved", "boucle.listing.closed"]
    last = [e for e in outbox_events(postgres_url) if e.subject == listing["id"]][-1]
    assert (last.data.status, last.data.version, last.data.title) == (
        "closed",
        4,
        listing["title"],
    )


@pytest.mark.parametrize("weird_id", ["nope", "%00", "1' OR '1'='1", "x" * 300])
def test_something_that_is_not_a_listing_id_is_404(client, weird_id):
    org = register(client)
    assert client.get(f"/api/v1/listings/{weird_id}").status_code == 404
    assert client.delete(f"/api/v1/listings/{weird_id}", headers=org["headers"]).status_code == 404
    revoke = client.delete(f"/api/v1/organisations/me/tokens/{weird_id}", headers=org["headers"])
    assert revoke.status_code == 404


def test_a_draft_is_invisible_to_others(client):
    owner, other = register(client), register(client)
    draft = client.post(
        "/api/v1/listings", json=listing_body(draft=True), headers=owner["headers"]
    ).get_json()
    url = f"/api/v1/listings/{draft['id']}"
    assert client.get(url, headers=owner["headers"]).status_code == 200
    assert client.get(url, headers=other["headers"]).status_code == 404
    assert client.get(url).status_code == 404


def test_search_finds_subcategories_near_a_place_nearest_first(client):
    org = register(client)
    posts = [
        listing_body(
            title="Apples from Esch",
            category="produce-fruit-apples",
            location={"lat": 49.4958, "lon": 5.9806},
        ),
        listing_body(
            title="Plums from Metz",
            category="produce-fruit-plums",
            location={"lat": 49.1193, "lon": 6.1757},
        ),
        listing_body(title="Pallets in Esch", location={"lat": 49.4958, "lon": 5.9806}),
        listing_body(
            title="Apples in Liège",
            category="produce-fruit-apples",
            location={"lat": 50.6326, "lon": 5.5797},
        ),
    ]
    for body in posts:
        body["unit"] = "kg"
        assert client.post("/api/v1/listings", json=body, headers=org["headers"]).status_code == 201
    page = client.get(
        "/api/v1/listings?category=produce-fruit&place=Luxembourg&radius_km=80"
    ).get_json()
    assert [hit["listing"]["title"] for hit in page["hits"]] == [
        "Apples from Esch",
        "Plums from Metz",
    ]
    assert page["hits"][0]["distance_km"] < page["hits"][1]["distance_km"]
    bad = client.get("/api/v1/listings?near=north-ish")
    assert bad.status_code == 400 and "near" in bad.get_json()["errors"]


def test_a_revoked_token_stops_working_at_once(client):
    org = register(client)
    tokens = client.get("/api/v1/organisations/me/tokens", headers=org["headers"]).get_json()
    created = client.post(
        "/api/v1/organisations/me/tokens", json={"name": "script"}, headers=org["headers"]
    ).get_json()
    script = {"Authorization": f"Bearer {created['token']}"}
    assert client.get("/api/v1/organisations/me", headers=script).status_code == 200
    assert (
        client.delete(
            f"/api/v1/organisations/me/tokens/{created['id']}", headers=org["headers"]
        ).status_code
        == 204
    )
    assert client.get("/api/v1/organisations/me", headers=script).status_code == 401
    assert len(tokens) == 1 and "token" not in tokens[0]


def test_registering_twice_with_one_email_is_409(client):
    first = register(client)
    again = client.post(
        "/api/v1/organisations",
        json={
            "name": "Copycat",
            "kind": "business",
            "country": "LU",
            "place": "Luxembourg",
            "contact_email": "x@example.org",
            "email": first["login"]["email"].upper(),
            "password": "another long password",
        },
    )
    assert again.status_code == 409


def test_expired_listings_are_closed_automatically_with_an_event(postgres_url):
    app = listings_app(postgres_url)
    client = app.test_client()
    org = register(client)
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    listing = client.post(
        "/api/v1/listings", json=listing_body(available_until=soon), headers=org["headers"]
    ).get_json()
    service = app.extensions["boucle.listing_service"]
    assert service.expire_due() == 0
    service._clock = lambda: datetime.now(UTC) + timedelta(hours=2)
    assert service.expire_due() == 1
    assert (
        client.get(f"/api/v1/listings/{listing['id']}", headers=org["headers"]).get_json()["status"]
        == "expired"
    )
    assert outbox_events(postgres_url)[-1].type == "boucle.listing.expired"


def test_the_category_tree_has_labels_in_three_languages(client):
    tree = client.get("/api/v1/categories?lang=de").get_json()
    materials = next(root for root in tree["roots"] if root["id"] == "materials")
    assert set(materials["labels"]) == {"fr", "de", "en"}
    assert materials["label"] == materials["labels"]["de"]


def test_health_reports_the_database(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok"}
