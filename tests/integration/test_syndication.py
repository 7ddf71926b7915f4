"""Feeds as feed readers and calendar apps read them: new offers as Atom per category and
place, an organisation's pick-up windows as iCalendar at its secret address."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import icalendar
import pytest
from flask.testing import FlaskClient

from tests.integration.listings_client import listing_body, listings_app, register

pytestmark = pytest.mark.postgres

NS = {"a": "http://www.w3.org/2005/Atom"}
METZ = {"lat": 49.1193, "lon": 6.1757}
SAARBRUECKEN = {"lat": 49.2402, "lon": 6.9969}


@pytest.fixture
def client(postgres_url: str) -> FlaskClient:
    return listings_app(postgres_url).test_client()


def post(client: FlaskClient, org: dict[str, Any], **fields: Any) -> dict[str, Any]:
    response = client.post("/api/v1/listings", json=listing_body(**fields), headers=org["headers"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def atom(client: FlaskClient, query: str) -> ET.Element:
    response = client.get(f"/feeds/offers.atom?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/atom+xml"
    return ET.fromstring(response.get_data())


def entry_titles(feed: ET.Element) -> list[str]:
    return [entry.findtext("a:title", namespaces=NS) for entry in feed.findall("a:entry", NS)]


def test_the_offers_feed_is_atom_filtered_by_category_and_place_newest_first(client):
    org = register(client, place="Metz", country="FR")
    tricky = 'Palettes <b>&</b> "caisses" ]]> à Metz'
    pallets_metz = post(client, org, title=tricky, location=METZ)
    post(client, org, title="Bois de charpente", category="ewc-170201", unit="m3", location=METZ)
    post(client, org, title="Paletten in Saarbrücken", location=SAARBRUECKEN)
    post(client, org, kind="need", title="Besoin de palettes", location=METZ)
    newest = post(client, org, title="Palettes neuves", location=METZ)

    feed = atom(client, "category=ewc-150103&near=Metz&radius_km=25")
    # What RFC 4287 requires of a feed and of each entry.
    for name in ("id", "title", "updated"):
        assert feed.findtext(f"a:{name}", namespaces=NS)
    assert feed.find("a:author/a:name", NS) is not None
    assert entry_titles(feed) == ["Palettes neuves", tricky]  # escaped and read back intact
    first, second = feed.findall("a:entry", NS)
    assert second.findtext("a:id", namespaces=NS) == f"urn:uuid:{pallets_metz['id']}"
    link = first.find("a:link[@rel='alternate']", NS).get("href")
    assert link == f"http://localhost/listings/{newest['id']}"
    assert client.get(link).status_code == 200
    assert first.find("a:category", NS).get("term") == "ewc-150103"
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first.findtext("a:updated", namespaces=NS)
    )
    self_link = feed.find("a:link[@rel='self']", NS).get("href")
    assert "category=ewc-150103" in self_link and "near=Metz" in self_link

    by_point = atom(client, "category=ewc-150103&near=49.1193,6.1757&radius_km=25")
    assert entry_titles(by_point) == entry_titles(feed)
    everything = entry_titles(atom(client, "radius_km=100&near=Metz"))
    assert "Paletten in Saarbrücken" in everything and "Bois de charpente" in everything
    assert "Besoin de palettes" not in everything  # needs are not offers


def test_a_feed_asked_for_something_unknown_is_refused_and_the_browse_page_links_its_feed(client):
    assert client.get("/feeds/offers.atom?category=no-such").status_code == 400
    assert client.get("/feeds/offers.atom?near=Xyzzyville").status_code == 400
    assert client.get("/feeds/offers.atom?radius_km=9000").status_code == 400
    page = client.get("/listings?place=Metz&category=ewc-150103&radius_km=25").get_data(
        as_text=True
    )
    [href] = re.findall(
        r'<link rel="alternate" type="application/atom\+xml"[^>]*href="([^"]+)"', page
    )
    href = unescape(href)
    assert href.startswith("/feeds/offers.atom?")
    assert {"category=ewc-150103", "near=Metz", "radius_km=25"} <= set(
        href.split("?")[1].split("&")
    )
    assert client.get(href).status_code == 200


def test_the_pickup_calendar_holds_the_organisations_windows_at_its_secret_address(client):
    owner = register(client, place="Metz", country="FR")
    asker = register(client, place="Saarbrücken", country="DE")
    until = datetime.now(UTC) + timedelta(days=20)
    offer = post(client, owner, title="Palettes à prendre", available_until=until.isoformat())
    start = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    asked = client.post(
        f"/api/v1/listings/{offer['id']}/exchanges",
        json={
            "quantity": 10,
            "window_from": start.isoformat(),
            "window_until": (start + timedelta(hours=2)).isoformat(),
        },
        headers=asker["headers"],
    )
    assert asked.status_code == 201, asked.get_json()

    # The address is shown to the organisation's members on "My listings".
    client.post("/login", data={**owner["login"], "csrf_token": _csrf(client, "/login")})
    mine = client.get("/my/listings").get_data(as_text=True)
    [address] = re.findall(r'value="(http://localhost/calendar/[^"]+\.ics)"', mine)
    response = client.get(address)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    events = {
        str(e["summary"]): e for e in icalendar.Calendar.from_ical(response.data).walk("VEVENT")
    }
    pickup = events["Pick-up: Palettes à prendre (10 pallets)"]
    assert pickup.decoded("dtstart") == start
    assert pickup.decoded("dtend") == start + timedelta(hours=2)
    assert str(pickup["status"]) == "TENTATIVE"  # the owner has not accepted yet
    available = events["Available: Palettes à prendre"]
    assert available.decoded("dtend").date() == until.date()
    assert str(available["url"]).endswith(f"/listings/{offer['id']}")

    other = address.replace(owner["organisation"]["id"], asker["organisation"]["id"])
    assert client.get(other).status_code == 404  # another organisation's id, same secret
    assert client.get(address[:-8] + "0" * 4 + ".ics").status_code == 404


def _csrf(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
