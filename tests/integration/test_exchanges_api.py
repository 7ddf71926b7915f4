"""Exchanges over the API on a real PostgreSQL: request, counter, accept, talk, hand over;
quantities that never oversell, whatever the timing."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shared.contracts import ListingChanged
from tests.integration.listings_client import listing_body, listings_app, register
from tests.integration.test_listings_api import outbox_events

pytestmark = pytest.mark.postgres


@pytest.fixture
def app(postgres_url: str) -> Flask:
    # Twenty organisations register from one address here: the limits are not the subject.
    return listings_app(postgres_url, RATE_LIMITS="off")


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def offer(client: FlaskClient, owner: dict[str, Any], quantity: float = 40) -> dict[str, Any]:
    response = client.post(
        "/api/v1/listings", json=listing_body(quantity=quantity), headers=owner["headers"]
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def ask(client: FlaskClient, who: dict[str, Any], listing_id: str, quantity: float, **extra: Any):
    return client.post(
        f"/api/v1/listings/{listing_id}/exchanges",
        json={"quantity": quantity, **extra},
        headers=who["headers"],
    )


def test_a_request_countered_accepted_talked_over_and_handed_over_completes(
    client: FlaskClient, postgres_url: str
) -> None:
    farm = register(client, language="de")
    canteen = register(client, language="fr", phone="+352 621 123 456")
    pallets = offer(client, farm, 40)
    asked = ask(client, canteen, pallets["id"], 15, message="Pour la cantine, lundi ?")
    assert asked.status_code == 201, asked.get_json()
    exchange = asked.get_json()
    assert (exchange["status"], exchange["awaiting"]) == ("requested", farm["organisation"]["id"])
    assert exchange["owner"]["contact_email"] is None, "no contact before it is accepted"
    assert exchange["requester"]["contact_phone"] is None
    path = f"/api/v1/exchanges/{exchange['id']}"

    countered = client.post(f"{path}/counter", json={"quantity": 10}, headers=farm["headers"])
    assert countered.get_json()["awaiting"] == canteen["organisation"]["id"]
    too_early = client.post(f"{path}/answer", json={"action": "accept"}, headers=farm["headers"])
    assert too_early.status_code == 409 and "other side" in too_early.get_json()["message"]
    accepted = client.post(f"{path}/answer", json={"action": "accept"}, headers=canteen["headers"])
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["owner"]["contact_email"], "contacts shown once accepted"
    seen_by_farm = client.get(f"/api/v1/exchanges/{exchange['id']}", headers=farm["headers"])
    assert seen_by_farm.get_json()["requester"]["contact_phone"] == "+352 621 123 456"
    listing = client.get(f"/api/v1/listings/{pallets['id']}").get_json()
    assert (listing["remaining_quantity"], listing["status"]) == (30, "published")

    client.post(
        f"{path}/messages", json={"text": "Lieferung Montag 8 Uhr"}, headers=farm["headers"]
    )
    client.post(
        f"{path}/handover", json={"quantity": 10, "reference": "W-17"}, headers=farm["headers"]
    )
    done = client.post(f"{path}/handover", json={"quantity": 10}, headers=canteen["headers"])
    assert done.get_json()["status"] == "completed"
    thread = client.get(path, headers=canteen["headers"]).get_json()["messages"]
    assert [m["text"] for m in thread] == ["Pour la cantine, lundi ?", "Lieferung Montag 8 Uhr"]

    steps = [
        e.type.rsplit(".", 1)[1]
        for e in outbox_events(postgres_url)
        if e.type.startswith("boucle.exchange.")
    ]
    assert steps == [
        "requested",
        "countered",
        "accepted",
        "message_posted",
        "handed_over",
        "handed_over",
        "completed",
    ]
    changes = [e.data for e in outbox_events(postgres_url) if isinstance(e.data, ListingChanged)]
    assert changes[-1].remaining_quantity == 30, "matching learns what is left"


def test_twenty_concurrent_accepts_of_five_against_forty_accept_exactly_eight(
    app: Flask, client: FlaskClient, postgres_url: str
) -> None:
    farm = register(client)
    pallets = offer(client, farm, 40)
    requests = []
    for _ in range(20):
        canteen = register(client)
        answer = ask(client, canteen, pallets["id"], 5)
        assert answer.status_code == 201
        requests.append(answer.get_json()["id"])
    start = threading.Barrier(20)
    outcomes: list[int] = []
    lock = threading.Lock()

    def accept(exchange_id: str) -> None:
        own = app.test_client()  # one client per thread, as separate browsers would be
        start.wait()
        answer = own.post(
            f"/api/v1/exchanges/{exchange_id}/answer",
            json={"action": "accept"},
            headers=farm["headers"],
        )
        with lock:
            outcomes.append(answer.status_code)

    threads = [threading.Thread(target=accept, args=(r,)) for r in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == [200] * 8 + [409] * 12
    listing = client.get(f"/api/v1/listings/{pallets['id']}", headers=farm["headers"]).get_json()
    assert (listing["remaining_quantity"], listing["status"]) == (0, "reserved")
    accepted = [e for e in outbox_events(postgres_url) if e.type == "boucle.exchange.accepted"]
    assert len(accepted) == 8


def test_cancelling_an_accepted_exchange_gives_the_quantity_back_and_publishes_again(
    client: FlaskClient,
) -> None:
    farm, shop = register(client), register(client)
    pallets = offer(client, farm, 5)
    exchange = ask(client, shop, pallets["id"], 5).get_json()
    path = f"/api/v1/exchanges/{exchange['id']}"
    client.post(f"{path}/answer", json={"action": "accept"}, headers=farm["headers"])
    assert (
        client.get(f"/api/v1/listings/{pallets['id']}", headers=farm["headers"]).get_json()[
            "status"
        ]
        == "reserved"
    )
    cancelled = client.delete(path, headers=shop["headers"])
    assert cancelled.get_json()["status"] == "cancelled"
    listing = client.get(f"/api/v1/listings/{pallets['id']}").get_json()
    assert (listing["remaining_quantity"], listing["status"]) == (5, "published")


def test_others_cannot_see_or_touch_an_exchange_and_bad_input_says_which_field(
    client: FlaskClient,
) -> None:
    farm, shop, stranger = register(client), register(client), register(client)
    pallets = offer(client, farm, 10)
    exchange = ask(client, shop, pallets["id"], 4).get_json()
    path = f"/api/v1/exchanges/{exchange['id']}"
    assert client.get(path, headers=stranger["headers"]).status_code == 404
    answer = client.post(f"{path}/answer", json={"action": "accept"}, headers=stranger["headers"])
    assert answer.status_code == 404
    assert client.get(path).status_code == 401
    too_much = ask(client, shop, pallets["id"], 11)
    assert too_much.status_code == 409 and "10 pallets left" in too_much.get_json()["message"]
    bad = ask(client, shop, pallets["id"], -1)
    assert bad.status_code in (400, 422) and "quantity" in str(bad.get_json())
    own = ask(client, farm, pallets["id"], 1)
    assert own.status_code == 409 and "itself" in own.get_json()["message"]
    mine = client.get("/api/v1/exchanges", headers=farm["headers"]).get_json()
    assert [e["id"] for e in mine] == [exchange["id"]]


def test_a_weekly_listing_makes_a_standing_order_that_repeats_until_stopped(
    client: FlaskClient, postgres_url: str
) -> None:
    farm, canteen = register(client), register(client)
    veg = client.post(
        "/api/v1/listings",
        json=listing_body(quantity=50, unit="kg", recurrence="weekly", title="Weekly vegetables"),
        headers=farm["headers"],
    ).get_json()
    monday = "2027-03-01T08:00:00+00:00"
    exchange = ask(client, canteen, veg["id"], 10, window_from=monday).get_json()
    assert exchange["repeats"] == "weekly"
    path = f"/api/v1/exchanges/{exchange['id']}"
    client.post(f"{path}/answer", json={"action": "accept"}, headers=farm["headers"])
    for who in (farm, canteen):
        client.post(f"{path}/handover", json={"quantity": 10}, headers=who["headers"])
    mine = client.get("/api/v1/exchanges", headers=canteen["headers"]).get_json()
    following = next(e for e in mine if e["occurrence"] == 2)
    assert following["status"] == "accepted" and following["series_id"] == exchange["id"]
    assert following["window_from"].startswith("2027-03-08")
    listing = client.get(f"/api/v1/listings/{veg['id']}").get_json()
    assert listing["remaining_quantity"] == 40, "the standing order keeps its quantity"

    second = f"/api/v1/exchanges/{following['id']}"
    stopped = client.post(f"{second}/stop-repeating", headers=canteen["headers"])
    assert stopped.get_json()["repeats"] == "one-off"
    for who in (farm, canteen):
        client.post(f"{second}/handover", json={"quantity": 10}, headers=who["headers"])
    mine = client.get("/api/v1/exchanges", headers=canteen["headers"]).get_json()
    assert sorted(e["occurrence"] for e in mine) == [1, 2], "no third occurrence"


def test_a_need_says_the_highest_price_it_accepts_and_an_offer_may_not(client: FlaskClient) -> None:
    canteen = register(client)
    need = client.post(
        "/api/v1/listings",
        json=listing_body(kind="need", radius_km=50, max_price=0),
        headers=canteen["headers"],
    )
    assert need.status_code == 201 and need.get_json()["max_price"] == 0
    wrong = client.post(
        "/api/v1/listings", json=listing_body(max_price=2), headers=canteen["headers"]
    )
    assert wrong.status_code in (400, 422) and "max_price" in str(wrong.get_json())


def test_a_phone_number_with_letters_is_refused_with_its_field(client: FlaskClient) -> None:
    answer = client.post(
        "/api/v1/organisations",
        json={
            "name": "Ferme Test",
            "kind": "farm",
            "country": "LU",
            "place": "Esch-sur-Alzette",
            "contact_email": "ferme@example.org",
            "email": "anne-phone@example.org",
            "password": "a long enough password",
            "phone": "call me maybe",
        },
    )
    assert answer.status_code in (400, 422) and "phone" in str(answer.get_json())
