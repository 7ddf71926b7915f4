"""The API and the login cookie: a change made with the cookie needs the page's CSRF token
(another site can make a browser send the cookie, not read the token); an API token needs
none, and reading needs none."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from notifications.config import NotifierConfig
from services.notifications_web import create_app as notifications_app
from shared.auth import Principal, new_api_token, token_digest
from shared.settings import Settings
from tests.conftest import random_id
from tests.edge_identity import act_as, identity_headers
from tests.integration.listings_client import listing_body, listings_app, register
from tests.integration.test_listings_pages import csrf, sign_up
from tests.integration.test_notif_support import SECRET_KEY, organisation_event

pytestmark = pytest.mark.postgres
WEBHOOK = {"url": "https://93.184.216.34/hooks", "description": "ERP"}


def assert_refused_for_csrf(response: object) -> None:
    assert response.status_code == 400  # type: ignore[attr-defined]
    body = response.get_json()  # type: ignore[attr-defined]
    assert body["code"] == 400 and body["status"] == "Bad Request"
    assert "CSRF token" in body["message"] and "API token" in body["message"]


# --- listings ----------------------------------------------------------------------------


@pytest.fixture
def member(postgres_url: str) -> FlaskClient:
    """A test client logged in through the registration form: it carries the cookie."""
    client = listings_app(postgres_url).test_client()
    sign_up(client)
    return client


def my_listing_titles(client: FlaskClient) -> str:
    return client.get("/my/listings").get_data(as_text=True)


def test_a_change_with_the_cookie_and_no_csrf_token_is_refused_and_nothing_changes(
    member: FlaskClient,
) -> None:
    title = f"Pallets {random_id()}"
    refused = member.post("/api/v1/listings", json=listing_body(title=title))
    assert_refused_for_csrf(refused)
    wrong = member.post(
        "/api/v1/listings", json=listing_body(title=title), headers={"X-CSRFToken": "forged"}
    )
    assert_refused_for_csrf(wrong)
    assert title not in my_listing_titles(member)


def test_a_change_with_the_cookie_and_the_pages_csrf_token_goes_through(
    member: FlaskClient,
) -> None:
    token = {"X-CSRFToken": csrf(member, "/listings/new")}
    title = f"Pallets {random_id()}"
    created = member.post("/api/v1/listings", json=listing_body(title=title), headers=token)
    assert created.status_code == 201, created.get_json()
    assert title in my_listing_titles(member)

    listing = f"/api/v1/listings/{created.get_json()['id']}"
    assert_refused_for_csrf(member.delete(listing))
    assert member.get(listing).get_json()["status"] == "published"  # reading needs no token
    assert member.delete(listing, headers=token).get_json()["status"] == "withdrawn"


def test_api_token_calls_need_no_csrf_token_even_with_a_cookie_present(
    member: FlaskClient,
) -> None:
    # Another organisation's token (registered elsewhere), sent by the logged-in client.
    other = register(member.application.test_client())
    created = member.post("/api/v1/listings", json=listing_body(), headers=other["headers"])
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["organisation_id"] == other["organisation"]["id"]


def test_anonymous_calls_are_left_to_the_endpoint(postgres_url: str) -> None:
    client = listings_app(postgres_url).test_client()
    assert client.post("/api/v1/listings", json=listing_body()).status_code == 401
    register(client)  # registering needs neither a login nor a CSRF token


# --- notifications -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def notifications(module_postgres_url: str) -> Iterator[tuple[Flask, str, str]]:
    settings = Settings(
        notifications_database_url=module_postgres_url, secret_key=SECRET_KEY, environment="test"
    )
    app = notifications_app(settings, NotifierConfig(webhooks_allow_private_networks=False))
    organisation, api_token = random_id("org"), new_api_token()
    members = [{"id": "member-1", "email": "m@example.org", "language": "en", "role": "member"}]
    app.extensions["boucle.notifications"].organisations.apply(
        organisation_event(
            organisation, "org@example.org", "en", members, [token_digest(api_token)]
        )
    )
    yield app, organisation, api_token


def page_csrf_token(client: FlaskClient) -> str:
    page = client.get("/settings/notifications").get_data(as_text=True)
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert found, "no CSRF token on the settings page"
    return found.group(1)


def test_notifications_api_wants_the_csrf_token_from_a_logged_in_member(
    notifications: tuple[Flask, str, str],
) -> None:
    app, organisation, _ = notifications
    client = act_as(app.test_client(), Principal(organisation, "member-1"), SECRET_KEY)
    token = page_csrf_token(client)  # the session now holds it, as a browser's would

    assert_refused_for_csrf(client.post("/api/v1/webhooks", json=WEBHOOK))
    assert client.get("/api/v1/webhooks").get_json() == []

    created = client.post("/api/v1/webhooks", json=WEBHOOK, headers={"X-CSRFToken": token})
    assert created.status_code == 201, created.get_json()
    endpoint = f"/api/v1/webhooks/{created.get_json()['id']}"
    assert_refused_for_csrf(client.delete(endpoint))
    assert client.delete(endpoint, headers={"X-CSRFToken": token}).status_code == 204


def test_notifications_api_token_calls_need_no_csrf_token(
    notifications: tuple[Flask, str, str],
) -> None:
    app, organisation, api_token = notifications
    # What the edge forwards for a token: the token's organisation, signed, and the header.
    headers = {
        **identity_headers(Principal(organisation), SECRET_KEY),
        "Authorization": f"Bearer {api_token}",
    }
    created = app.test_client().post("/api/v1/webhooks", json=WEBHOOK, headers=headers)
    assert created.status_code == 201, created.get_json()
