"""The whole path over HTTP, Kafka and PostgreSQL: an offer and a need posted -> both alerted."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from services.router import HEALTH_BACKENDS
from services.stack import ServiceStack
from tests.conftest import random_id
from tests.integration.kafka_helpers import wait_for
from tests.integration.whole_stack import whole_stack

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def call(
    method: str, url: str, body: dict[str, Any] | None = None, token: str | None = None
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


@pytest.fixture(scope="module")
def stack(kafka_bootstrap: str, module_postgres_url: str) -> Iterator[ServiceStack]:
    with whole_stack(
        kafka_bootstrap, module_postgres_url, "e2e", env={"RATE_LIMITS": "off"}
    ) as running:
        yield running


def listing(kind: str, lat: float, lon: float, radius_km: float) -> dict[str, Any]:
    return {
        "kind": kind,
        "title": f"{kind}: wooden pallets",
        "category": "ewc-150103",
        "quantity": 25,
        "unit": "pallets",
        "location": {"lat": lat, "lon": lon},
        "radius_km": radius_km,
    }


def register(base: str, place: str, country: str) -> str:
    tag = random_id("org")
    status, body = call(
        "POST",
        f"{base}/api/v1/organisations",
        {
            "name": f"Org {tag}",
            "kind": "association",
            "country": country,
            "place": place,
            "contact_email": f"{tag}@example.org",
            "email": f"m-{tag}@example.org",
            "password": "a long enough password",
        },
    )
    assert status == 201, body
    return str(body["api_token"])


def test_an_offer_and_a_need_posted_over_http_alert_both_parties(stack: ServiceStack):
    base = stack.base_url
    seller, buyer = register(base, "Metz", "FR"), register(base, "Luxembourg", "LU")
    status, offer = call(
        "POST", f"{base}/api/v1/listings", listing("offer", 49.1193, 6.1757, 0), seller
    )
    assert status == 201
    # A need in Luxembourg City, 55 km from the offer in Metz, collecting up to 80 km away.
    status, need = call(
        "POST", f"{base}/api/v1/listings", listing("need", 49.6116, 6.1319, 80), buyer
    )
    assert status == 201
    tokens = {offer["id"]: seller, need["id"]: buyer}

    def alerts(listing_id: str) -> list[dict[str, Any]]:
        status, body = call(
            "GET", f"{base}/api/v1/alerts?listing_id={listing_id}", token=tokens[listing_id]
        )
        assert status == 200
        return list(body)

    [buyer_alert] = wait_for(lambda: alerts(need["id"]), timeout=60, what="the buyer's alert")
    [seller_alert] = wait_for(lambda: alerts(offer["id"]), timeout=30, what="the seller's alert")
    assert buyer_alert["role"] == "buyer"
    assert buyer_alert["counterpart_listing_id"] == offer["id"]
    assert seller_alert["role"] == "seller"
    assert seller_alert["counterpart_listing_id"] == need["id"]
    assert buyer_alert["match_id"] == seller_alert["match_id"]
    assert 50 < buyer_alert["distance_km"] < 60

    def matches(listing_id: str, token: str) -> list[dict[str, Any]]:
        status, body = call("GET", f"{base}/api/v1/listings/{listing_id}/matches", token=token)
        assert status == 200, body
        return list(body)

    [need_match] = wait_for(lambda: matches(need["id"], buyer), timeout=30, what="the read model")
    assert need_match["counterpart_id"] == offer["id"]
    assert need_match["match_id"] == buyer_alert["match_id"]
    assert need_match["reasons"]["distance_km"] == buyer_alert["distance_km"]
    status, _ = call("GET", f"{base}/api/v1/listings/{need['id']}/matches", token=seller)
    assert status == 404, "another organisation does not see a listing's matches"


def test_the_base_url_reports_every_service_healthy(stack: ServiceStack):
    status, body = call("GET", f"{stack.base_url}/health")
    assert status == 200
    assert set(body["services"]) == set(HEALTH_BACKENDS)
    assert {"listings", "listings-matches", "matcher", "notifier", "monitor"} <= set(
        HEALTH_BACKENDS
    )
    assert {entry["status"] for entry in body["services"].values()} == {"up"}


def test_alerts_without_a_listing_id_get_400_naming_the_parameter(stack: ServiceStack):
    status, body = call("GET", f"{stack.base_url}/api/v1/alerts")
    assert status == 400
    assert "listing_id" in body["errors"]
