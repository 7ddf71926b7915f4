"""The browse map in headless Chromium, as a member searching near a town sees it: 26 listings
posted in Esch-sur-Alzette gather into one cluster that says 26 and spreads out when selected;
the searched place has a marker and its radius a circle; a legend says what is what. Tiles come
from OpenStreetMap by default (answered here by a stand-in, there being no internet) and the
country borders stay beneath them, so the map still reads when no tile loads. Screenshots of
the page at 1280 and 390 px in every language go to BOUCLE_SCREENSHOTS when it is set."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI
from tests.e2e.test_csp_browser import served
from tests.e2e.test_monitor_browser import CHROMIUM, LAUNCH_ARGS
from tests.e2e.tiles import stand_in_tiles
from tests.integration.listings_client import listing_body, listings_app, register

pytestmark = [pytest.mark.postgres]
TIMEOUT_MS = 20_000
ESCH = {"lat": 49.4958, "lon": 5.9806}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing", pytrace=False)
        pytest.skip(f"{CHROMIUM} is missing")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def base_url(module_postgres_url: str) -> Iterator[str]:
    """Listings with 26 offers and needs in Esch-sur-Alzette and one offer in Metz."""
    app = listings_app(module_postgres_url)
    api = app.test_client()
    org = register(api)
    for n in range(26):
        kind = "need" if n % 5 == 0 else "offer"
        body = listing_body(title=f"Esch lot {n}", kind=kind, location=ESCH)
        answer = api.post("/api/v1/listings", json=body, headers=org["headers"])
        assert answer.status_code == 201, answer.get_json()
    metz = api.post("/api/v1/listings", json=listing_body(title="Metz"), headers=org["headers"])
    assert metz.status_code == 201, metz.get_json()
    with served(app) as url:
        yield url


def open_browse(chromium: Any, url: str, width: int = 1280, tiles: bool = True) -> Any:
    context = chromium.new_context(viewport={"width": width, "height": 900})
    requested = stand_in_tiles(context, load=tiles)
    page = context.new_page()
    page.requested_tiles = requested  # type: ignore[attr-defined]
    page.goto(url, timeout=TIMEOUT_MS)
    page.wait_for_selector("#map .map-cluster", timeout=TIMEOUT_MS)
    return page


def test_listings_in_one_town_gather_into_a_cluster_with_their_count(
    chromium: Any, base_url: str
) -> None:
    page = open_browse(chromium, f"{base_url}/listings?place=Esch-sur-Alzette&radius_km=25")
    cluster = page.locator("#map .map-cluster")
    assert cluster.count() == 1, "Metz lies outside 25 km: one cluster, for Esch"
    assert cluster.locator(".map-cluster-count").inner_text() == "26"
    spoken = cluster.locator(".visually-hidden").inner_text()
    assert spoken.startswith("26 listings here"), "what a screen reader says of it"
    assert "map-cluster-mixed" in (cluster.get_attribute("class") or ""), "offers and needs"

    # Every listing of the town can be reached: selecting the cluster spreads them out.
    cluster.click()
    page.wait_for_function(
        "document.querySelectorAll('#map .listing-marker').length === 26", timeout=TIMEOUT_MS
    )
    assert page.locator("#map .listing-offer").count() == 20
    assert page.locator("#map .listing-need").count() == 6
    page.locator("#map .listing-marker").first.click()
    link = page.wait_for_selector(".leaflet-popup-content a", timeout=TIMEOUT_MS)
    assert link is not None and "/listings/" in (link.get_attribute("href") or "")
    page.context.close()


def test_the_searched_place_has_a_marker_a_radius_circle_and_a_legend(
    chromium: Any, base_url: str
) -> None:
    page = open_browse(chromium, f"{base_url}/listings?place=Esch-sur-Alzette&radius_km=25")
    place = page.locator("#map .search-place")
    assert place.count() == 1
    assert "25 km" in (place.get_attribute("title") or "")
    assert page.locator("#map path.search-radius").count() == 1
    # The circle's 25 km radius: about as wide on screen as the map's view says it is.
    circle = page.locator("#map path.search-radius").bounding_box()
    west, _south, east, _north = map(float, page.get_attribute("#map", "data-view").split(","))
    map_box = page.locator("#map").bounding_box()
    km_per_px = (east - west) * 71.5 / map_box["width"]  # ~71.5 km per degree at 49.5° N
    assert 45 < circle["width"] * km_per_px < 55, "a circle 50 km across"
    legend = page.locator("#map-legend li")
    assert [text.split("\n")[-1] for text in legend.all_inner_texts()] == [
        "Offers",
        "Needs",
        "Several listings close together",
        "The place you searched and 25 km around it",
    ]
    # OpenStreetMap's tiles, credited.
    assert page.requested_tiles and all(  # type: ignore[attr-defined]
        url.startswith("https://tile.openstreetmap.org/") for url in page.requested_tiles
    )
    page.wait_for_selector("#map img.leaflet-tile-loaded", timeout=TIMEOUT_MS)
    assert "OpenStreetMap" in page.inner_text("#map .leaflet-control-attribution")
    page.context.close()


def test_without_tiles_the_borders_and_markers_still_show(chromium: Any, base_url: str) -> None:
    page = open_browse(
        chromium, f"{base_url}/listings?place=Esch-sur-Alzette&radius_km=100", tiles=False
    )
    page.wait_for_selector("#map .leaflet-borders-pane path:not([d='M0 0'])", timeout=TIMEOUT_MS)
    assert page.locator("#map img.leaflet-tile-loaded").count() == 0
    counts = [int(t) for t in page.locator("#map .map-cluster-count").all_inner_texts()]
    singles = page.locator("#map .listing-marker").count()
    assert sum(counts) + singles == 27, "Esch's 26 and Metz's one, within 100 km"
    page.context.close()


def test_a_browse_page_without_a_place_opens_on_the_greater_region(
    chromium: Any, base_url: str
) -> None:
    page = open_browse(chromium, f"{base_url}/listings?kind=")
    west, south, east, north = map(float, page.get_attribute("#map", "data-view").split(","))
    assert west <= 2.8 and east >= 8.6 and south <= 47.8 and north >= 51.0, "all of it"
    assert north - south < 2 * (51.0 - 47.8), "and not half of Europe"
    page.context.close()


def test_screenshots_in_every_language_at_desk_and_phone_widths(
    chromium: Any, base_url: str
) -> None:
    folder = os.environ.get("BOUCLE_SCREENSHOTS")
    for lang in ("fr", "de", "en", "lb"):
        for width in (1280, 390):
            url = f"{base_url}/listings?place=Esch-sur-Alzette&radius_km=25&lang={lang}"
            page = open_browse(chromium, url, width=width, tiles=False)  # borders show
            assert page.get_attribute("html", "lang") == lang
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{lang} at {width} px scrolls sideways"
            if folder:
                path = Path(folder) / f"browse-{lang}-{width}.png"
                page.screenshot(path=str(path), full_page=True)
                page.locator("#map .map-cluster").click()  # the town's listings spread out
                page.wait_for_selector("#map .listing-marker", timeout=TIMEOUT_MS)
                page.locator("#map").screenshot(path=str(path.with_suffix(".map.png")))
            page.context.close()
