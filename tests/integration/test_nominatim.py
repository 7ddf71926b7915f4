"""The online geocoder path: Nominatim through geopy, against a local HTTP server."""

from __future__ import annotations

from geopy.geocoders import Nominatim
from pytest_httpserver import HTTPServer

from listings.nominatim import RateLimitedNominatim
from listings.places import resolve


def test_nominatim_answers_become_a_place_restricted_to_the_four_countries(httpserver: HTTPServer):
    httpserver.expect_request("/search").respond_with_json(
        [
            {
                "lat": "49.6116",
                "lon": "6.1319",
                "display_name": "Luxembourg, Luxembourg",
                "place_id": 1,
                "importance": 0.9,
            }
        ]
    )
    nominatim = Nominatim(
        user_agent="boucle-test", domain=f"127.0.0.1:{httpserver.port}", scheme="http", timeout=2
    )
    found = resolve(RateLimitedNominatim(nominatim, min_delay_seconds=0), "Luxembourg")
    assert (round(found["lat"], 3), round(found["lon"], 3)) == (49.612, 6.132)
    [request] = [entry[0] for entry in httpserver.log]
    assert request.args["countrycodes"] == "lu,fr,de,be"
    assert request.headers["User-Agent"] == "boucle-test"
