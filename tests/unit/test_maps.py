"""The maps' tiles: OpenStreetMap's unless configured, and the CSP follows the choice."""

from __future__ import annotations

from monitor.config import MonitorConfig
from shared.maps import OSM_TILE_URL, tile_layer
from shared.security_headers import content_security_policy, tile_source


def images_allowed(url: str) -> str:
    policy = content_security_policy([s for s in [tile_source(url)] if s])
    return next(d for d in policy.split("; ") if d.startswith("img-src"))


def test_by_default_the_maps_show_openstreetmap_tiles_with_their_credit() -> None:
    for environ in ({}, {"MAP_TILE_URL": ""}, {"MAP_TILE_URL": "  "}):
        tiles = tile_layer(environ, "MAP")
        assert tiles.url == OSM_TILE_URL
        assert "OpenStreetMap</a> contributors" in tiles.attribution
        assert "https://tile.openstreetmap.org" in images_allowed(tiles.url)
    monitor = MonitorConfig.from_env({})
    assert (monitor.tile_url, tile_layer({}, "MONITOR").attribution) == (
        OSM_TILE_URL,
        monitor.tile_attribution,
    )


def test_none_draws_borders_only_and_allows_no_tile_host() -> None:
    tiles = tile_layer({"MONITOR_TILE_URL": "none"}, "MONITOR")
    assert (tiles.url, tiles.attribution) == ("", "")
    assert images_allowed(tiles.url) == "img-src 'self' data:"


def test_a_tile_server_of_ones_own_keeps_its_own_credit() -> None:
    environ = {"MAP_TILE_URL": "https://{s}.tiles.example.org/{z}/{x}/{y}.png"}
    assert tile_layer(environ, "MAP").attribution == ""
    environ["MAP_TILE_ATTRIBUTION"] = "Tiles: Example"
    assert tile_layer(environ, "MAP").attribution == "Tiles: Example"
    assert "https://*.tiles.example.org" in images_allowed(environ["MAP_TILE_URL"])
