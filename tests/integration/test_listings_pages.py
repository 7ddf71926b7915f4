"""The listings web pages, as a member uses them: forms with CSRF, errors beside the field,
three languages, and nobody changing another organisation's listing."""

from __future__ import annotations

import json
import re

import pytest
from flask.testing import FlaskClient

from tests.conftest import random_id
from tests.integration.listings_client import listing_body, listings_app, register

pytestmark = pytest.mark.postgres


@pytest.fixture
def client(postgres_url: str) -> FlaskClient:
    return listings_app(postgres_url).test_client()


def csrf(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def field_errors(page: str, field_id: str) -> list[str]:
    """Error messages shown right before the field with this id."""
    pattern = rf'<p class="error" id="{field_id}-error">([^<]+)</p>'
    return re.findall(pattern, page)


def sign_up(client: FlaskClient, **overrides: str) -> str:
    email = f"{random_id('m')}@example.org"
    form = {
        "csrf_token": csrf(client, "/register"),
        "name": "Repair Café Esch",
        "kind": "association",
        "country": "LU",
        "place": "Esch-sur-Alzette",
        "contact_email": email,
        "language": "fr",
        "member_name": "Anne",
        "email": email,
        "password": "a long enough password",
        **overrides,
    }
    response = client.post("/register", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    return email


def listing_form(client: FlaskClient, **overrides: str) -> dict[str, str]:
    return {
        "csrf_token": csrf(client, "/listings/new"),
        "kind": "offer",
        "title": "Chutes de bois",
        "description": "",
        "category": "ewc-170201",
        "quantity": "3",
        "unit": "m3",
        "min_quantity": "",
        "place": "Metz",
        "radius_km": "0",
        "available_until": "",
        "use_by": "",
        "recurrence": "one-off",
        "price_mode": "free",
        "price_amount": "",
        **overrides,
    }


def test_an_organisation_registers_through_the_form_and_is_logged_in(client):
    sign_up(client)
    page = client.get("/my/listings").get_data(as_text=True)
    assert "Chutes" not in page and client.get("/my/listings").status_code == 200


def test_a_form_posted_without_its_csrf_token_is_refused(client):
    response = client.post("/login", data={"email": "a@example.org", "password": "x" * 12})
    assert response.status_code == 400


def test_a_listing_form_with_mistakes_shows_each_error_beside_its_field_and_stores_nothing(client):
    sign_up(client)
    form = listing_form(client, title="", quantity="-2", place="Xyzzyville")
    page = client.post("/listings/new", data=form).get_data(as_text=True)
    assert field_errors(page, "title"), "the title error sits beside the title field"
    assert field_errors(page, "quantity")
    assert 'class="error-summary"' in page and 'href="#title"' in page
    assert 'aria-invalid="true"' in page
    assert client.get("/my/listings").get_data(as_text=True).count("<tr>") == 2  # head + empty row


def test_control_characters_are_refused_beside_the_field(client):
    sign_up(client)
    page = client.post("/listings/new", data=listing_form(client, title="Bois\x00"))
    assert page.status_code == 200
    assert field_errors(page.get_data(as_text=True), "title")


def test_an_unknown_place_is_explained_beside_the_place_field(client):
    sign_up(client)
    page = client.post("/listings/new", data=listing_form(client, place="Xyzzyville"))
    [error] = field_errors(page.get_data(as_text=True), "place")
    assert "Xyzzyville" in error


def test_a_posted_listing_appears_on_its_page_and_in_my_listings(client):
    sign_up(client)
    response = client.post("/listings/new", data=listing_form(client))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Chutes de bois" in page and "Metz" in page
    assert "Chutes de bois" in client.get("/my/listings").get_data(as_text=True)


def test_another_organisation_cannot_edit_or_withdraw_a_listing(client, postgres_url):
    owner = register(client)
    listing = client.post(
        "/api/v1/listings", json=listing_body(), headers=owner["headers"]
    ).get_json()
    sign_up(client)
    edit = client.post(
        f"/listings/{listing['id']}/edit", data=listing_form(client, title="Mine now")
    )
    assert edit.status_code == 403
    token = csrf(client, f"/listings/{listing['id']}")
    withdraw = client.post(
        f"/listings/{listing['id']}/action", data={"csrf_token": token, "action": "withdraw"}
    )
    assert withdraw.status_code == 403
    assert client.get(f"/api/v1/listings/{listing['id']}").get_json()["status"] == "published"


def log_in(client: FlaskClient, email: str, password: str) -> None:
    form = {"csrf_token": csrf(client, "/login"), "email": email, "password": password}
    assert client.post("/login", data=form).status_code == 302


def test_a_wrong_password_is_refused_beside_the_field(client):
    email = sign_up(client)
    client.post("/logout", data={"csrf_token": csrf(client, "/my/listings")})
    form = {"csrf_token": csrf(client, "/login"), "email": email, "password": "not the password"}
    page = client.post("/login", data=form).get_data(as_text=True)
    assert field_errors(page, "password")
    assert client.get("/my/listings").status_code == 302  # still logged out


def test_logins_are_rate_limited(postgres_url):
    client = listings_app(postgres_url).test_client()
    form = {
        "csrf_token": csrf(client, "/login"),
        "email": "x@example.org",
        "password": "wrong-password",
    }
    codes = [client.post("/login", data=form).status_code for _ in range(12)]
    assert codes[:10] == [200] * 10
    assert codes[-1] == 429


def test_pages_follow_the_browser_language_and_the_switcher(client):
    german = client.get("/listings", headers={"Accept-Language": "de-DE,de;q=0.9"})
    page = german.get_data(as_text=True)
    assert '<html lang="de">' in page and "Anzeigen durchsuchen" in page and "Anmelden" in page
    french = client.get("/login?lang=fr").get_data(as_text=True)
    assert '<html lang="fr">' in french and "Se connecter" in french
    # The choice sticks for the next page, whatever the browser says.
    later = client.get("/listings", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="fr">' in later and "Browse listings" not in later


def test_form_errors_speak_the_page_language(client):
    sign_up(client)
    form = listing_form(client, title="")
    page = client.post("/listings/new?lang=de", data=form).get_data(as_text=True)
    [error] = field_errors(page, "title")
    assert "required" not in error.lower()


def test_a_member_creates_a_token_on_its_page_and_revokes_it(client):
    sign_up(client)
    form = {"csrf_token": csrf(client, "/account/tokens"), "name": "ERP export"}
    page = client.post("/account/tokens", data=form).get_data(as_text=True)
    token = re.search(r'<code id="new-token">([^<]+)</code>', page).group(1)  # type: ignore[union-attr]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/organisations/me", headers=auth).status_code == 200
    listed = client.get("/account/tokens").get_data(as_text=True)
    row = re.search(r"ERP export</td>.*?/account/tokens/([^/]+)/revoke", listed, re.S)
    token_id = row.group(1)  # type: ignore[union-attr]
    assert token not in listed, "a token is shown once, never again"
    client.post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf(client, "/account/tokens")}
    )
    assert client.get("/api/v1/organisations/me", headers=auth).status_code == 401


def test_an_admin_moderates_another_organisations_listing(client):
    owner = register(client)
    listing = client.post(
        "/api/v1/listings", json=listing_body(), headers=owner["headers"]
    ).get_json()
    admin_email = f"{random_id('admin')}@example.org"
    client.application.extensions["boucle.accounts"].make_admin(admin_email, "a long passphrase")
    log_in(client, admin_email, "a long passphrase")
    token = csrf(client, f"/listings/{listing['id']}")
    client.post(
        f"/listings/{listing['id']}/action", data={"csrf_token": token, "action": "withdraw"}
    )
    assert (
        client.get(f"/api/v1/listings/{listing['id']}", headers=owner["headers"]).get_json()[
            "status"
        ]
        == "withdrawn"
    )


def test_the_api_has_an_interactive_page_served_without_a_cdn(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/listings", "/api/v1/organisations", "/api/v1/categories"} <= set(spec["paths"])


def test_a_missing_page_is_a_page_in_the_visitors_language_and_the_api_answers_json(client):
    page = client.get("/listings/00000000-0000-4000-8000-000000000000?lang=de")
    assert page.status_code == 404
    assert "Nicht gefunden" in page.get_data(as_text=True)
    api = client.get("/api/v1/listings/00000000-0000-4000-8000-000000000000")
    assert (api.status_code, api.get_json()["code"]) == (404, 404)


def test_search_results_come_with_a_map_of_them(client):
    org = register(client)
    body = listing_body(title="Pallets in Metz")
    client.post("/api/v1/listings", json=body, headers=org["headers"])
    page = client.get("/listings?place=Metz&radius_km=25").get_data(as_text=True)
    markers = re.search(r'<script type="application/json" id="map-markers">(.+?)</script>', page)
    assert markers, "the results page carries the map's markers"
    [marker] = json.loads(markers.group(1))
    assert marker["label"].endswith("Pallets in Metz (40 pallets)")
    assert (round(marker["lat"], 2), round(marker["lon"], 2)) == (49.12, 6.18)
    assert client.get("/assets/vendor/leaflet/leaflet.js").status_code == 200, "no CDN"


def test_the_edit_form_shows_the_listing_as_it_is_and_saves_changes(client):
    sign_up(client)
    posted = client.post("/listings/new", data=listing_form(client, available_until="2027-01-15"))
    url = posted.headers["Location"]
    page = client.get(f"{url}/edit").get_data(as_text=True)
    assert 'value="Chutes de bois"' in page and 'value="2027-01-15"' in page
    assert 'value="Metz"' in page
    form = listing_form(client, title="Chutes de bois sec", available_until="2027-01-20")
    form["csrf_token"] = csrf(client, f"{url}/edit")
    assert client.post(f"{url}/edit", data=form).status_code == 302
    assert "Chutes de bois sec" in client.get(url).get_data(as_text=True)
