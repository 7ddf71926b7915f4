"""The API takes a category's EWC code wherever it takes the category's id."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.integration.listings_client import listing_body, listings_app, register

pytestmark = pytest.mark.postgres


@pytest.fixture
def client(postgres_url: str) -> FlaskClient:
    return listings_app(postgres_url).test_client()


@pytest.mark.parametrize("code", ["15 01 03", "150103", "EWC 15 01 03"])
def test_a_listing_posted_with_an_ewc_code_is_filed_under_its_category(
    client: FlaskClient, code: str
) -> None:
    org = register(client)
    posted = client.post(
        "/api/v1/listings", json=listing_body(category=code), headers=org["headers"]
    )
    assert posted.status_code == 201, posted.get_json()
    assert posted.get_json()["category"] == "ewc-150103"

    found = client.get("/api/v1/listings", query_string={"category": code.replace(" ", "")})
    assert found.status_code == 200
    assert posted.get_json()["id"] in [hit["listing"]["id"] for hit in found.get_json()["hits"]]


def test_an_unknown_ewc_code_is_refused_naming_the_code(client: FlaskClient) -> None:
    org = register(client)
    refused = client.post(
        "/api/v1/listings", json=listing_body(category="150199"), headers=org["headers"]
    )
    assert refused.status_code == 400
    message = refused.get_json()["errors"]["category"][0]
    assert "15 01 99" in message and "/api/v1/categories" in message

    searched = client.get("/api/v1/listings", query_string={"category": "15 01 99"})
    assert searched.status_code == 400
    assert "15 01 99" in searched.get_json()["errors"]["category"][0]
