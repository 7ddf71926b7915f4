"""OpenStreetMap's tile server as the browser tests see it: there is no internet here, so every
tile request is answered by a 1x1 grey PNG (or refused, to see the map without tiles)."""

from __future__ import annotations

import base64
from typing import Any

OSM_TILES = "https://tile.openstreetmap.org/**"
TILE_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGO4DwABAQEAWjOJ3wAAAABJRU5ErkJggg=="
)


def stand_in_tiles(context: Any, *, load: bool = True) -> list[str]:
    """Answer the context's tile requests; the list of URLs asked for, filled as they come."""
    requested: list[str] = []

    def tile(route: Any) -> None:
        requested.append(route.request.url)
        if load:
            route.fulfill(status=200, content_type="image/png", body=TILE_PNG)
        else:
            route.abort("internetdisconnected")

    context.route(OSM_TILES, tile)
    return requested
