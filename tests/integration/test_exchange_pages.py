"""Exchange pages as two members use them, each in their language: ask from the listing's
page, an error beside the field, counter, accept, talk, hand over, cancel with a question."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.integration.listings_client import listing_body, listings_app, register
from tests.integration.test_listings_pages import csrf, field_errors, listing_form, sign_up

pytestmark = pytest.mark.postgres


@pytest.fixture
def app(postgres_url: str) -> Flask:
    return listings_app(postgres_url)


def member(app: Flask, language: str) -> FlaskClient:
    """A logged-in browser of a new organisation (registration logs in)."""
    client = app.test_client()
    sign_up(client, language=language)
    client.get(f"/?lang={language}")
    return client


def test_a_canteen_asks_a_farm_for_part_of_its_offer_and_they_agree_in_their_languages(
    app: Flask,
) -> None:
    api = app.test_client()
    farm_api = register(api)
    pallets = api.post(
        "/api/v1/listings", json=listing_body(quantity=40), headers=farm_api["headers"]
    ).get_json()
    canteen = member(app, "fr")

    page = canteen.get(f"/listings/{pallets['id']}").get_data(as_text=True)
    assert "Le demander" in page and "Jusqu’à 40 palettes" in page  # noqa: RUF001

    token = csrf(canteen, f"/listings/{pallets['id']}")
    refused = canteen.post(
        f"/listings/{pallets['id']}/ask", data={"csrf_token": token, "quantity": "0"}
    )
    assert refused.status_code == 400
    assert field_errors(refused.get_data(as_text=True), "quantity") == [
        "Plus de 0, s’il vous plaît."  # noqa: RUF001
    ]

    asked = canteen.post(
        f"/listings/{pallets['id']}/ask",
        data={"csrf_token": token, "quantity": "15", "message": "Pour lundi ?"},
    )
    assert asked.status_code == 302
    exchange_url = asked.headers["Location"]
    page = canteen.get(exchange_url).get_data(as_text=True)
    assert "demandé" in page and "Pour lundi ?" in page

    # The farm answers over the API (its own tools), proposing 10 instead.
    exchange_id = exchange_url.rsplit("/", 1)[1]
    countered = api.post(
        f"/api/v1/exchanges/{exchange_id}/counter",
        json={"quantity": 10},
        headers=farm_api["headers"],
    )
    assert countered.status_code == 200
    page = canteen.get(exchange_url).get_data(as_text=True)
    assert "votre réponse est attendue" in page and "Accepter" in page

    token = csrf(canteen, exchange_url)
    canteen.post(f"{exchange_url}/accept", data={"csrf_token": token})
    page = canteen.get(exchange_url).get_data(as_text=True)
    assert "accepté" in page and "mailto:" in page, "contacts are shown once accepted"
    canteen.post(f"{exchange_url}/message", data={"csrf_token": token, "message-text": "Merci !"})
    canteen.post(
        f"{exchange_url}/handover",
        data={"csrf_token": token, "handover-quantity": "10", "handover-reference": ""},
    )
    page = canteen.get(exchange_url).get_data(as_text=True)
    assert "Merci !" in page and "Reçu, selon" in page
    listing = canteen.get(f"/listings/{pallets['id']}").get_data(as_text=True)
    assert "reste 30" in listing


def test_cancelling_asks_first_and_says_what_happens(app: Flask) -> None:
    api = app.test_client()
    farm_api = register(api)
    wood = api.post(
        "/api/v1/listings", json=listing_body(quantity=5), headers=farm_api["headers"]
    ).get_json()
    shop = member(app, "de")
    token = csrf(shop, f"/listings/{wood['id']}")
    exchange_url = shop.post(
        f"/listings/{wood['id']}/ask", data={"csrf_token": token, "quantity": "5"}
    ).headers["Location"]
    question = shop.get(f"{exchange_url}/cancel").get_data(as_text=True)
    assert "Austausch stornieren?" in question and "Nein, behalten" in question
    shop.post(f"{exchange_url}/cancel", data={"csrf_token": csrf(shop, f"{exchange_url}/cancel")})
    assert "storniert" in shop.get(exchange_url).get_data(as_text=True)
    mine = shop.get("/exchanges").get_data(as_text=True)
    assert "Meine Austausche" in mine and "storniert" in mine


def test_a_stranger_sees_no_exchange_and_withdrawing_a_listing_asks_first(app: Flask) -> None:
    api = app.test_client()
    farm_api = register(api)
    wood = api.post("/api/v1/listings", json=listing_body(), headers=farm_api["headers"]).get_json()
    shop = member(app, "en")
    exchange_url = shop.post(
        f"/listings/{wood['id']}/ask",
        data={"csrf_token": csrf(shop, f"/listings/{wood['id']}"), "quantity": "2"},
    ).headers["Location"]
    stranger = member(app, "en")
    assert stranger.get(exchange_url).status_code == 404
    owner = app.test_client()
    sign_up(owner)
    mine = owner.post("/listings/new", data=listing_form(owner)).headers["Location"]
    question = owner.get(f"{mine}/withdraw").get_data(as_text=True)
    assert "Retirer cette annonce ?" in question and "Oui, la retirer" in question
    assert "Chutes de bois" in owner.get(mine).get_data(as_text=True), "still there until confirmed"


def test_the_owner_sees_who_posted_and_what_awaits_its_answer(app: Flask) -> None:
    owner = app.test_client()
    sign_up(owner, name="Menuiserie Weber", language="en")
    owner.get("/?lang=en")
    mine = owner.post("/listings/new", data=listing_form(owner)).headers["Location"]
    listing_id = mine.rsplit("/", 1)[1]
    shop = member(app, "fr")
    assert "publiée par Menuiserie Weber" in shop.get(mine).get_data(as_text=True)
    assert "awaits your answer" not in owner.get("/my/listings").get_data(as_text=True)
    shop.post(
        f"/listings/{listing_id}/ask",
        data={"csrf_token": csrf(shop, mine), "quantity": "1"},
    )
    assert "1 exchange awaits your answer" in owner.get("/my/listings").get_data(as_text=True)


def test_each_side_sees_its_impact_once_both_confirmed_the_hand_over(app: Flask) -> None:
    owner = app.test_client()
    sign_up(owner, language="en")
    owner.get("/?lang=en")
    wood = owner.post("/listings/new", data=listing_form(owner)).headers["Location"]  # 3 m3
    shop = member(app, "en")
    exchange_url = shop.post(
        f"{wood}/ask", data={"csrf_token": csrf(shop, wood), "quantity": "3"}
    ).headers["Location"]
    owner.post(f"{exchange_url}/accept", data={"csrf_token": csrf(owner, exchange_url)})
    assert "No completed exchange yet" in shop.get("/my/impact").get_data(as_text=True)
    for side in (owner, shop):
        side.post(
            f"{exchange_url}/handover",
            data={"csrf_token": csrf(side, exchange_url), "handover-quantity": "3"},
        )
    page = shop.get("/my/impact").get_data(as_text=True)
    assert "Wood" in page and "1.350" in page  # 3 m3 of wood at 0.45 t/m3
    lines = shop.get("/my/impact.csv").get_data(as_text=True).splitlines()
    assert lines[0].startswith("material,transfers,tonnes")
    assert lines[1].startswith("Wood,1,1.35,")
    assert "Wood,1,1.35," in owner.get("/my/impact.csv").get_data(as_text=True)


def test_a_need_without_matches_shows_the_nearest_offers_and_what_would_make_them_match(
    app: Flask,
) -> None:
    api = app.test_client()
    farm = register(api)
    for body in (
        listing_body(quantity=40, title="Palettes à Metz"),  # 55 km from Luxembourg
        listing_body(
            quantity=300, unit="kg", title="Palettes au kilo", location={"lat": 49.61, "lon": 6.13}
        ),
    ):
        assert api.post("/api/v1/listings", json=body, headers=farm["headers"]).status_code == 201
    canteen = member(app, "en")
    form = listing_form(
        canteen, kind="need", title="Pallets for the canteen", category="ewc-150103"
    )
    form.update(
        quantity="10", unit="pallets", min_quantity="10", place="Luxembourg", radius_km="20"
    )
    need = canteen.post("/listings/new", data=form).headers["Location"]
    page = canteen.get(need).get_data(as_text=True)
    assert "The nearest offers, and what would make them match" in page
    assert "collect up to 56 km instead of 20 km" in page
    assert "counted in kg: ask in kg, or without a minimum" in page


def test_fields_carry_no_empty_aria_attributes_and_errors_point_at_their_message(
    app: Flask,
) -> None:
    client = app.test_client()
    page = client.get("/register").get_data(as_text=True)
    assert '="None"' not in page, "an attribute with nothing in it"
    refused = client.post("/register", data={"csrf_token": csrf(client, "/register")})
    html = refused.get_data(as_text=True)
    assert 'aria-invalid="true"' in html and 'aria-describedby="name-error"' in html
    assert '="None"' not in html
