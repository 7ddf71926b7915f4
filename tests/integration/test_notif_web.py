"""The notifications web app against a real PostgreSQL: API auth, webhooks, inbox, settings."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from notifications.config import NotifierConfig
from notifications.handler import MatchAlertHandler
from notifications.outcomes import OutcomeRecorder
from notifications.preference_store import load_preferences
from notifications.preferences import CONTACT
from notifications.tables import WebhookEndpointRow
from notifications.unsubscribe import UnsubscribeTokens
from notifications.wiring import lineage
from services.notifications_web import create_app
from shared.auth import Principal, new_api_token, token_digest
from shared.db import unit_of_work
from shared.events import Event, typed_data
from shared.settings import Settings
from shared.taxonomy import Taxonomy
from tests.conftest import random_id
from tests.edge_identity import act_as, identity_headers
from tests.integration.test_notif_support import (
    SECRET_KEY,
    listing_event,
    match_event,
    organisation_event,
)

pytestmark = [pytest.mark.postgres]


@dataclasses.dataclass
class World:
    app: Flask
    buyer: str
    seller: str
    buyer_token: str
    seller_token: str
    member: str
    handler: MatchAlertHandler


@pytest.fixture(scope="module")
def world(module_postgres_url: str) -> Iterator[World]:
    settings = Settings(
        notifications_database_url=module_postgres_url, secret_key=SECRET_KEY, environment="test"
    )
    app = create_app(settings, NotifierConfig(webhooks_allow_private_networks=False))
    web = app.extensions["boucle.notifications"]
    buyer, seller, member = random_id("canteen"), random_id("farm"), random_id("member")
    buyer_token, seller_token = new_api_token(), new_api_token()
    members = [{"id": member, "email": "chef@canteen.lu", "language": "de", "role": "member"}]
    web.organisations.apply(
        organisation_event(buyer, "canteen@example.org", "fr", members, [token_digest(buyer_token)])
    )
    web.organisations.apply(
        organisation_event(seller, "farm@example.org", "de", [], [token_digest(seller_token)])
    )
    handler = MatchAlertHandler(
        web.sessions,
        OutcomeRecorder("deliveries"),
        lineage(Taxonomy.load_default()),
        NotifierConfig().zone,
    )
    # The edge resolves a token to its organisation (listings answers it); here the test does.
    TOKEN_OWNERS.update({buyer_token: buyer, seller_token: seller})
    yield World(app, buyer, seller, buyer_token, seller_token, member, handler)


@pytest.fixture
def client(world: World) -> FlaskClient:
    return world.app.test_client()


TOKEN_OWNERS: dict[str, str] = {}


def bearer(token: str) -> dict[str, str]:
    """What reaches the service for a request with this token: the edge's signed identity."""
    owner = TOKEN_OWNERS.get(token)
    if owner is None:
        return {"Authorization": f"Bearer {token}"}  # the edge would have refused it already
    return identity_headers(Principal(organisation_id=owner), SECRET_KEY)


def logged_in(
    client: FlaskClient, organisation_id: str, user_id: str, language: str = "en"
) -> FlaskClient:
    return act_as(client, Principal(organisation_id, user_id), SECRET_KEY, language)


def csrf_token(page: str, name: str = "csrf_token") -> str:
    found = re.search(rf'name="{re.escape(name)}" (?:type="hidden" )?value="([^"]+)"', page)
    assert found, f"no {name} in the page"
    return found.group(1)


def new_match(world: World, title: str = "Euro pallets") -> Event:
    event = match_event(random_id("m"), world.seller, world.buyer, title)
    world.handler(event)
    return event


# --- API: tokens and webhooks ------------------------------------------------------------


def test_the_webhooks_api_wants_a_valid_token(client: FlaskClient, world: World) -> None:
    assert client.get("/api/v1/webhooks").status_code == 401
    assert client.get("/api/v1/webhooks", headers=bearer("bcl_not-a-token")).status_code == 401
    # An identity the edge did not sign (another key) or signed long ago is refused, not
    # taken for an anonymous call.
    forged = identity_headers(Principal(organisation_id=world.buyer), "another-key")
    refused = client.get("/api/v1/webhooks", headers=forged)
    assert refused.status_code == 401
    assert "signature" in refused.get_json()["message"]


def test_registering_a_webhook_answers_with_its_secret_once(
    client: FlaskClient, world: World
) -> None:
    response = client.post(
        "/api/v1/webhooks",
        json={"url": "https://93.184.216.34/hooks", "description": "ERP"},
        headers=bearer(world.buyer_token),
    )
    assert response.status_code == 201, response.json
    assert response.json["secret"].startswith("whsec_")
    listed = client.get("/api/v1/webhooks", headers=bearer(world.buyer_token)).json
    assert [e["id"] for e in listed if e["id"] == response.json["id"]]
    assert all("secret" not in e for e in listed)
    # Another organisation neither sees nor removes it.
    assert client.get("/api/v1/webhooks", headers=bearer(world.seller_token)).json == []
    gone = client.delete(
        f"/api/v1/webhooks/{response.json['id']}", headers=bearer(world.seller_token)
    )
    assert gone.status_code == 404


def test_a_webhook_secret_is_not_stored_in_clear(client: FlaskClient, world: World) -> None:
    response = client.post(
        "/api/v1/webhooks",
        json={"url": "https://93.184.216.34/erp", "description": "sealed"},
        headers=bearer(world.buyer_token),
    )
    secret = response.json["secret"]
    web = world.app.extensions["boucle.notifications"]
    with web.sessions() as session:
        stored = session.execute(
            text("select secret from webhook_endpoints where id = :id"), {"id": response.json["id"]}
        ).scalar_one()
        endpoint = session.get(WebhookEndpointRow, response.json["id"])
    assert secret not in stored and stored.startswith("fernet:")
    assert endpoint is not None and endpoint.secret == secret, "the notifier reads it back to sign"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8080/hook", "loopback"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://10.0.0.7/hook", "private"),
        ("ftp://93.184.216.34/hook", "http"),
    ],
)
def test_a_webhook_pointed_at_a_private_address_is_refused_at_registration(
    client: FlaskClient, world: World, url: str, reason: str
) -> None:
    response = client.post("/api/v1/webhooks", json={"url": url}, headers=bearer(world.buyer_token))
    assert response.status_code == 400
    assert reason in response.json["errors"]["url"][0]


def test_only_https_webhooks_outside_development(module_postgres_url: str) -> None:
    settings = Settings(
        notifications_database_url=module_postgres_url,
        secret_key=SECRET_KEY,
        environment="production",
    )
    app = create_app(settings, NotifierConfig())
    check = app.extensions["boucle.notifications"].check_webhook_url
    with pytest.raises(ValueError, match="https"):
        check("http://93.184.216.34/hook")


# --- API: alerts and inbox --------------------------------------------------------------


def test_alerts_of_an_anonymous_listing_need_no_token(client: FlaskClient, world: World) -> None:
    anonymous = random_id("anon")
    world.handler(match_event(random_id("m"), world.seller, anonymous))
    response = client.get(f"/api/v1/alerts?listing_id=need-{_last_match(world, anonymous)}")
    assert response.status_code == 200
    assert [a["organisation_id"] for a in response.json] == [anonymous]


def test_alerts_of_a_known_organisations_listing_need_its_token(
    client: FlaskClient, world: World
) -> None:
    event = new_match(world)
    url = f"/api/v1/alerts?listing_id=need-{event.data.match_id}"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=bearer(world.seller_token)).status_code == 403
    response = client.get(url, headers=bearer(world.buyer_token))
    assert response.status_code == 200
    [alert] = response.json
    assert (alert["role"], alert["counterpart_title"], alert["read"]) == (
        "buyer",
        "Euro pallets",
        False,
    )


def test_alerts_without_listing_or_token_get_400_naming_the_parameter(client: FlaskClient) -> None:
    response = client.get("/api/v1/alerts")
    assert response.status_code == 400
    assert "listing_id" in response.json["errors"]


def test_the_inbox_counts_unread_alerts_and_marks_them_read(
    client: FlaskClient, world: World
) -> None:
    new_match(world)
    inbox = client.get("/api/v1/inbox", headers=bearer(world.buyer_token)).json
    assert inbox["unread"] >= 1
    first = inbox["items"][0]["id"]
    assert (
        client.post(f"/api/v1/inbox/{first}/read", headers=bearer(world.seller_token)).status_code
        == 404
    )
    assert client.post(f"/api/v1/inbox/{first}/read", headers=bearer(world.buyer_token)).json == {
        "marked": 1
    }
    after = client.get("/api/v1/inbox", headers=bearer(world.buyer_token)).json
    assert after["unread"] == inbox["unread"] - 1
    client.post("/api/v1/inbox/read", headers=bearer(world.buyer_token))
    assert (
        client.get("/api/v1/inbox?unread=true", headers=bearer(world.buyer_token)).json["items"]
        == []
    )


def test_preferences_are_validated_field_by_field(client: FlaskClient, world: World) -> None:
    for bad, field in (
        ({"digest_hour": 25}, "digest_hour"),
        ({"quiet_start": "25:00", "quiet_end": "07:00"}, "quiet_start"),
        ({"quiet_start": "22:00"}, "quiet_end"),
        ({"email": "perhaps"}, "email"),
    ):
        response = client.put(
            "/api/v1/notification-preferences", json=bad, headers=bearer(world.seller_token)
        )
        assert response.status_code == 400
        assert field in response.json["errors"]
    unknown = client.put(
        "/api/v1/notification-preferences",
        json={"muted_categories": ["no-such-category"]},
        headers=bearer(world.seller_token),
    )
    assert unknown.status_code == 400 and "muted_categories" in unknown.json["errors"]
    good = {"digest": True, "digest_hour": 6, "quiet_start": "22:00", "quiet_end": "07:00"}
    saved = client.put(
        "/api/v1/notification-preferences", json=good, headers=bearer(world.seller_token)
    )
    assert saved.status_code == 200
    read = client.get("/api/v1/notification-preferences", headers=bearer(world.seller_token)).json
    assert (read["digest"], read["digest_hour"], read["quiet_end"], read["email"]) == (
        True,
        6,
        "07:00",
        True,
    )


# --- Pages ------------------------------------------------------------------------------


def test_the_inbox_page_wants_a_login(client: FlaskClient) -> None:
    response = client.get("/inbox")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/inbox"


def test_a_member_sees_its_organisations_alerts_in_french_with_retractions_marked(
    client: FlaskClient, world: World
) -> None:
    kept = new_match(world, "Palettes à donner")
    gone = new_match(world, "Bois de chantier")
    # The seller withdraws the offer of the second match (the listings topic says so).
    withdrawn = listing_event(gone.data.offer.listing_id, world.seller, "offer", 2, "withdrawn")
    world.handler(withdrawn)
    page = logged_in(client, world.buyer, world.member, "fr").get("/inbox").get_data(as_text=True)
    assert "Boîte de réception" in page
    assert "Palettes à donner" in page and "Bois de chantier" in page
    assert "N\u2019est plus disponible" in page and "l\u2019offre a été retirée" in page
    assert f"/listings/offer-{kept.data.match_id}" in page

    def status(event: Event) -> tuple[str, str | None]:
        url = f"/api/v1/alerts?listing_id=need-{event.data.match_id}"
        [alert] = client.get(url, headers=bearer(world.buyer_token)).json
        return alert["status"], alert["retraction_reason"]

    assert status(gone) == ("retracted", "offer withdrawn")
    assert status(kept) == ("active", None), "the other offer's match still stands"
    other = world.app.test_client()
    seller_page = logged_in(other, world.seller, "someone").get("/inbox").get_data(as_text=True)
    assert "Palettes à donner" in seller_page  # the seller's side of the same match
    assert "A need nearby matches your offer" in seller_page


def test_marking_read_needs_the_csrf_token(client: FlaskClient, world: World) -> None:
    event = new_match(world)
    logged_in(client, world.buyer, world.member)
    alert_id = client.get(
        "/api/v1/alerts?listing_id=need-" + event.data.match_id,
        headers=bearer(world.buyer_token),
    ).json[0]["id"]
    assert client.post(f"/inbox/{alert_id}/read").status_code == 400
    token = csrf_token(client.get("/inbox").get_data(as_text=True))
    response = client.post(f"/inbox/{alert_id}/read", data={"csrf_token": token})
    assert response.status_code == 303
    # Read for this member (read state is per member; API clients keep their own).
    after = client.get("/api/v1/alerts?limit=200").json
    assert [a["read"] for a in after if a["id"] == alert_id] == [True]


def test_settings_form_errors_sit_beside_the_field_and_change_nothing(
    client: FlaskClient, world: World
) -> None:
    page = (
        logged_in(client, world.buyer, world.member)
        .get("/settings/notifications")
        .get_data(as_text=True)
    )
    token = csrf_token(page, "me-csrf_token")
    response = client.post(
        "/settings/notifications/me",
        data={
            "me-csrf_token": token,
            "me-email": "y",
            "me-frequency": "instant",
            "me-digest_hour": "7",
            "me-quiet_start": "22:00",
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'class="error-summary"' in html
    assert 'id="me-quiet_end-error">Give both ends of the quiet hours, or neither.' in html
    with unit_of_work(world.app.extensions["boucle.notifications"].sessions) as session:
        assert load_preferences(session, world.buyer, world.member).email is False


def test_a_member_turns_on_its_own_emails_in_a_digest(client: FlaskClient, world: World) -> None:
    page = (
        logged_in(client, world.buyer, world.member)
        .get("/settings/notifications")
        .get_data(as_text=True)
    )
    assert "chef@canteen.lu" in page and "canteen@example.org" in page
    response = client.post(
        "/settings/notifications/me",
        data={
            "me-csrf_token": csrf_token(page, "me-csrf_token"),
            "me-email": "y",
            "me-frequency": "digest",
            "me-digest_hour": "18",
            "me-muted_categories": ["ewc-15"],
        },
    )
    assert response.status_code == 303
    with unit_of_work(world.app.extensions["boucle.notifications"].sessions) as session:
        prefs = load_preferences(session, world.buyer, world.member)
    assert (prefs.email, prefs.digest, prefs.digest_hour) == (True, True, 18)
    assert prefs.muted_categories == frozenset({"ewc-15"})


def test_the_settings_page_refuses_a_private_webhook_and_shows_a_new_secret_once(
    client: FlaskClient, world: World
) -> None:
    page = (
        logged_in(client, world.seller, "owner")
        .get("/settings/notifications")
        .get_data(as_text=True)
    )
    token = csrf_token(page, "hook-csrf_token")
    refused = client.post(
        "/settings/notifications/webhooks",
        data={"hook-csrf_token": token, "hook-url": "http://192.168.1.20/hook"},
    )
    assert refused.status_code == 400
    assert "192.168.1.20, a private address" in refused.get_data(as_text=True)
    added = client.post(
        "/settings/notifications/webhooks",
        data={"hook-csrf_token": token, "hook-url": "https://93.184.216.34/hook"},
    )
    assert added.status_code == 201
    assert re.search(r'id="webhook-secret">whsec_', added.get_data(as_text=True))
    again = client.get("/settings/notifications").get_data(as_text=True)
    assert "https://93.184.216.34/hook" in again and "whsec_" not in again


def test_an_unsubscribe_link_turns_email_off_without_a_login(
    client: FlaskClient, world: World
) -> None:
    token = UnsubscribeTokens(SECRET_KEY).make(world.seller, CONTACT)
    confirm = client.get(f"/unsubscribe/{token}")
    assert confirm.status_code == 200  # a GET (a mail scanner) changes nothing
    response = client.post(
        f"/unsubscribe/{token}"
    )  # one-click, no CSRF token: the link is the proof
    assert response.status_code == 200
    with unit_of_work(world.app.extensions["boucle.notifications"].sessions) as session:
        assert load_preferences(session, world.seller, CONTACT).email is False
    assert client.post("/unsubscribe/forged-token").status_code == 404


def cursors(page: str) -> dict[str, str]:
    """Where a rendered inbox asks for news from (the live page's starting point)."""
    found = {
        name: re.search(rf'data-{name.replace("_", "-")}="([^"]+)"', page)
        for name in ("alerts_after", "notices_after")
    }
    assert all(found.values()), "the inbox names its cursors"
    return {name: match.group(1) for name, match in found.items() if match}


def test_inbox_updates_bring_what_arrived_after_the_page_in_the_readers_language(
    client: FlaskClient, world: World
) -> None:
    logged_in(client, world.buyer, world.member, "fr")
    since = cursors(client.get("/inbox").get_data(as_text=True))
    new_match(world, "Fresh apples, 200 kg")
    update = client.get("/inbox/updates", query_string=since).get_json()
    assert [a["html"].count("Fresh apples, 200 kg") for a in update["alerts"]] == [1]
    assert update["unread"] >= 1
    assert update["unread_text"].endswith(("alerte non lue", "alertes non lues"))
    # From the cursors it returns, the same alert does not come twice.
    again = client.get(
        "/inbox/updates",
        query_string={k: update[k] for k in ("alerts_after", "notices_after")},
    ).get_json()
    assert again["alerts"] == []
    anonymous = world.app.test_client().get("/inbox/updates", query_string=since)
    assert anonymous.status_code == 401


def _last_match(world: World, organisation_id: str) -> str:
    rows: list[Any] = world.app.extensions["boucle.notifications"].alerts.inbox(organisation_id)
    return str(rows[0].match_id)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/alerts?listing_id=a%00b", None),
        ("post", "/api/v1/webhooks", {"url": "https://exa\x00mple.org/h"}),
        ("post", "/api/v1/webhooks", {"url": "https://93.184.216.34/h", "description": "\x00"}),
        ("post", "/api/v1/webhooks", {"url": "https://[::1"}),
        ("post", "/api/v1/webhooks", {"url": 42}),
        ("post", "/api/v1/inbox/%00/read", None),
        ("delete", "/api/v1/webhooks/not-an-id%00", None),
        ("put", "/api/v1/notification-preferences", {"muted_categories": ["\x00"]}),
        ("put", "/api/v1/notification-preferences", ["not", "an", "object"]),
    ],
)
def test_hostile_input_gets_a_client_error_never_a_server_error(
    client: FlaskClient, world: World, method: str, path: str, body: Any
) -> None:
    response = getattr(client, method)(path, json=body, headers=bearer(world.buyer_token))
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)


def test_the_api_is_described_in_an_openapi_document(client: FlaskClient) -> None:
    document = client.get("/notifications/openapi.json").json
    assert {
        "/api/v1/alerts",
        "/api/v1/inbox",
        "/api/v1/webhooks",
        "/api/v1/notification-preferences",
    } <= set(document["paths"])


def test_the_inbox_lists_the_steps_of_exchanges_with_a_link_to_each(
    world: World, client: FlaskClient
) -> None:
    exchange_id = random_id("x")
    data = {
        "id": exchange_id,
        "listing_id": random_id("l"),
        "listing_kind": "offer",
        "listing_title": "Kisten Äpfel",
        "owner_organisation_id": world.seller,
        "requester_organisation_id": world.buyer,
        "quantity": 3.0,
        "unit": "pieces",
        "status": "countered",
        "version": 2,
        "updated_at": datetime.now(UTC),
        "author_organisation_id": world.seller,
    }
    event_type = "boucle.exchange.countered"
    world.handler(Event(event_type, "/test", exchange_id, typed_data(event_type, data)))
    page = logged_in(client, world.buyer, world.member, "fr").get("/inbox").get_data(as_text=True)
    assert "Autres conditions proposées pour « Kisten Äpfel »" in page
    assert f'href="/exchanges/{exchange_id}"' in page


def test_inbox_updates_bring_a_new_message_of_an_exchange(
    client: FlaskClient, world: World
) -> None:
    logged_in(client, world.buyer, world.member, "de")
    since = cursors(client.get("/inbox").get_data(as_text=True))
    exchange_id = random_id("x")
    data = {
        "id": exchange_id,
        "listing_id": random_id("l"),
        "listing_kind": "offer",
        "listing_title": "Bois de chantier",
        "owner_organisation_id": world.seller,
        "requester_organisation_id": world.buyer,
        "quantity": 2.0,
        "unit": "m3",
        "status": "accepted",
        "version": 3,
        "updated_at": datetime.now(UTC),
        "author_organisation_id": world.seller,
        "message": "Abholung ab 8 Uhr",
    }
    event_type = "boucle.exchange.message_posted"
    world.handler(Event(event_type, "/test", exchange_id, typed_data(event_type, data)))
    notices = client.get("/inbox/updates", query_string=since).get_json()["notices"]
    assert len(notices) == 1
    assert "Abholung ab 8 Uhr" in notices[0]["html"]
    assert f"/exchanges/{exchange_id}" in notices[0]["html"]


def test_the_badge_count_is_the_members_own_and_matches_the_inbox_heading(
    world: World,
) -> None:
    reader = logged_in(world.app.test_client(), world.buyer, random_id("reader"), "de")
    before = reader.get("/inbox/unread")
    assert before.status_code == 200
    assert before.headers["Cache-Control"] == "private, no-store"
    new_match(world, "Holzpaletten")
    new_match(world, "Obstkisten")
    answer = reader.get("/inbox/unread").get_json()
    assert answer["unread"] == before.get_json()["unread"] + 2
    page = reader.get("/inbox").get_data(as_text=True)
    heading = re.search(r'id="unread-summary"[^>]*>\s*([^<]+?)\s*<', page)
    assert heading and heading.group(1) == answer["unread_text"], "the heading's own words"
    assert answer["unread_text"] == f"{answer['unread']} ungelesene Benachrichtigungen"

    # What one member reads leaves another member's count as it was.
    other = logged_in(world.app.test_client(), world.buyer, random_id("colleague"), "fr")
    theirs = other.get("/inbox/unread").get_json()["unread"]
    reader.post("/inbox/read", data={"csrf_token": csrf_token(page)})
    assert reader.get("/inbox/unread").get_json() == {
        "unread": 0,
        "unread_text": "0 ungelesene Benachrichtigungen",
    }
    assert other.get("/inbox/unread").get_json()["unread"] == theirs
    assert world.app.test_client().get("/inbox/unread").status_code == 401
