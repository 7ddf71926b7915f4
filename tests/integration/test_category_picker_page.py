"""The posting form as a browser without JavaScript gets it: a grouped category list with
nothing chosen and a clear error, and places typed the way the region writes them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.integration.listings_client import listings_app, register

pytestmark = pytest.mark.postgres

TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@pytest.fixture
def client(postgres_url: str) -> FlaskClient:
    client = listings_app(postgres_url).test_client()
    member = register(client, language="de")
    login = client.get("/login").get_data(as_text=True)
    answer = client.post("/login", data={"csrf_token": _token(login), **member["login"]})
    assert answer.status_code == 302
    return client


def _token(html: str) -> str:
    found = TOKEN.search(html)
    assert found
    return found.group(1)


def _post(client: FlaskClient, lang: str, **fields: Any) -> Any:
    form = client.get(f"/listings/new?lang={lang}").get_data(as_text=True)
    data = {
        "csrf_token": _token(form),
        "kind": "offer",
        "title": "Kartoffeln vom Hof",
        "quantity": "200",
        "unit": "kg",
        "radius_km": "10",
        "recurrence": "one-off",
        "price_mode": "free",
        **fields,
    }
    return client.post(f"/listings/new?lang={lang}", data=data)


def test_the_category_list_is_grouped_by_family_with_nothing_chosen(client: FlaskClient) -> None:
    html = client.get("/listings/new?lang=de").get_data(as_text=True)
    select = html[html.index('<select class="category-picker"') :]
    select = select[: select.index("</select>")]
    first = re.search(r"<option[^>]*>", select)
    assert first is not None and 'value=""' in first.group(0)
    assert "selected" not in select  # the browser shows the empty first option
    assert "Kategorie wählen" in select
    vegetables = select[select.index('<optgroup label="Gemüse">') :]
    vegetables = vegetables[: vegetables.index("</optgroup>")]
    assert "Kartoffeln" in vegetables and "Gemüse (alle)" in vegetables
    assert "Verpackungen aus Holz (15 01 03)" in select
    assert "Materialien \u203a" not in select  # short labels, the group says where
    assert '<script src="/assets/category_picker.js" defer></script>' in html


def test_no_category_chosen_is_a_clear_error_in_the_pages_language(client: FlaskClient) -> None:
    answer = _post(client, "de", place="Metz", category="")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Wählen Sie eine Kategorie." in html
    assert 'href="#category"' in html  # the error summary leads to the list


@pytest.mark.parametrize("place", ["Esch/Alzette", "Eschsuralzette", "Esch-Uelzecht"])
def test_the_regions_way_of_writing_a_place_is_understood(client: FlaskClient, place: str) -> None:
    answer = _post(client, "fr", place=place, category="produce-vegetables-potatoes")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    listing = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Esch-sur-Alzette" in listing


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("fr", "lieu inconnu « Xyzzyville »"),
        ("de", "unbekannter Ort „Xyzzyville“"),
        ("en", "unknown place “Xyzzyville”"),
    ],
)
def test_an_unknown_place_is_explained_in_the_pages_language(
    client: FlaskClient, lang: str, message: str
) -> None:
    answer = _post(client, lang, place="Xyzzyville", category="produce-vegetables-potatoes")
    assert answer.status_code == 200
    assert message in answer.get_data(as_text=True)
