"""Luxembourgish beside French, German and English; the language switcher keeps a search; the
browse page's map data (tiles, the searched place, the legend) as the server sends it."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask.testing import FlaskClient

from tests.integration.listings_client import listings_app

pytestmark = pytest.mark.postgres


@pytest.fixture
def client(postgres_url: str) -> FlaskClient:
    return listings_app(postgres_url).test_client()


def switcher_links(page: str) -> dict[str, str]:
    """The language switcher's links, by language."""
    nav = re.search(r'<nav class="languages"[^>]*>(.*?)</nav>', page, re.S)
    assert nav, "the page has a language switcher"
    links = re.findall(r'<a href="([^"]+)" lang="(\w+)"', nav.group(1))
    return {lang: html.unescape(href) for href, lang in links}


def test_a_browser_asking_for_luxembourgish_gets_the_pages_in_luxembourgish(client: FlaskClient):
    page = client.get("/listings", headers={"Accept-Language": "lb-LU,lb;q=0.9,fr;q=0.5"})
    text = page.get_data(as_text=True)
    assert '<html lang="lb">' in text
    assert "Annoncen duerchsichen" in text and "Aloggen" in text
    assert '<strong aria-current="true" lang="lb">LB</strong>' in text


def test_luxembourgish_can_be_chosen_in_the_switcher_and_sticks(client: FlaskClient):
    assert "Lëtzebuergesch" in client.get("/register").get_data(as_text=True), "a member's language"
    client.get("/?lang=lb")
    later = client.get("/listings", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="lb">' in later and "Sichen" in later


def test_switching_language_on_a_results_page_keeps_the_search(client: FlaskClient):
    query = "place=Metz&kind=offer&radius_km=25&page=2"
    page = client.get(f"/listings?{query}&lang=de").get_data(as_text=True)
    links = switcher_links(page)
    assert set(links) == {"fr", "en", "lb"}, "every other language, the current one is not a link"
    for lang, href in links.items():
        asked = parse_qsl(urlsplit(href).query)
        assert asked == [*parse_qsl(query), ("lang", lang)], href
    french = client.get("/listings" + links["fr"]).get_data(as_text=True)
    assert '<html lang="fr">' in french
    assert 'value="Metz"' in french, "the search is still filled in"


def test_the_categories_api_answers_in_luxembourgish_with_the_german_labels(client: FlaskClient):
    answer = client.get("/api/v1/categories?lang=lb")
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    pending, labels = list(body["roots"]), {}
    while pending:
        node = pending.pop()
        labels[node["id"]] = node["label"]
        pending.extend(node["children"])
    assert labels["produce-honey"] == "Honig"


def test_the_browse_map_gets_openstreetmap_tiles_the_searched_place_and_a_legend(
    client: FlaskClient,
):
    response = client.get("/listings?place=Metz&radius_km=25&lang=lb")
    page = response.get_data(as_text=True)
    assert "https://tile.openstreetmap.org" in response.headers["Content-Security-Policy"]
    map_div = re.search(r'<div id="map"[^>]*>', page, re.S)
    assert map_div, "the map is shown for a searched place even before anything is found"
    attributes = dict(re.findall(r'data-([\w-]+)="([^"]*)"', map_div.group(0)))
    assert attributes["tiles"] == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert "OpenStreetMap" in html.unescape(attributes["attribution"])
    near = (float(attributes["near-lat"]), float(attributes["near-lon"]))
    assert abs(near[0] - 49.12) < 0.02 and abs(near[1] - 6.18) < 0.02, "Metz"
    assert attributes["radius-km"] == "25.0"
    legend = re.search(r'<ul class="map-legend"[^>]*>(.*?)</ul>', page, re.S)
    assert legend, "the map has a legend"
    assert "Offeren" in legend.group(1) and "Bedarfen" in legend.group(1)
    assert "25 km" in legend.group(1)
    for asset in (
        "/assets/vendor/leaflet.markercluster/leaflet.markercluster.js",
        "/assets/vendor/leaflet.markercluster/MarkerCluster.css",
        "/assets/map.js",
        "/assets/map.css",
    ):
        assert asset in page
        assert client.get(asset).status_code == 200, f"{asset} is served (no CDN)"


def test_tiles_can_be_turned_off_or_pointed_elsewhere(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("MAP_TILE_URL", "https://{s}.tiles.example.org/{z}/{x}/{y}.png")
    monkeypatch.setenv("MAP_TILE_ATTRIBUTION", "Example tiles")
    response = listings_app(postgres_url).test_client().get("/listings?place=Metz")
    policy = response.headers["Content-Security-Policy"]
    assert "https://*.tiles.example.org" in policy and "openstreetmap" not in policy
    assert 'data-attribution="Example tiles"' in response.get_data(as_text=True)
    monkeypatch.setenv("MAP_TILE_URL", "none")
    response = listings_app(postgres_url).test_client().get("/listings?place=Metz")
    assert 'data-tiles=""' in response.get_data(as_text=True), "country borders only"
    assert "tiles.example.org" not in response.headers["Content-Security-Policy"]
    monkeypatch.setenv("MAP_TILE_URL", "")  # as docker compose passes an unset variable
    response = listings_app(postgres_url).test_client().get("/listings?place=Metz")
    assert "https://tile.openstreetmap.org" in response.headers["Content-Security-Policy"]
