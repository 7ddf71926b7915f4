"""The maps' tile layer: OpenStreetMap's by default, another server (or none) when configured.

`<PREFIX>_TILE_URL` (MAP_ for the listings' browse page, MONITOR_ for the monitor) is a
Leaflet URL template; unset or empty means OpenStreetMap's (docker compose passes unset
variables as empty), `none` draws country borders only, e.g. on a machine without internet.
`<PREFIX>_TILE_ATTRIBUTION` credits a server of one's own; OpenStreetMap's tiles carry their
required credit unless it is replaced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

OSM_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
NO_TILES = "none"
OSM_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)


@dataclass(frozen=True)
class TileLayer:
    url: str  # "" draws no tiles
    attribution: str


def tile_layer(environ: Mapping[str, str], prefix: str) -> TileLayer:
    """The tile layer configured under `prefix` (MAP or MONITOR) in `environ`."""
    url = environ.get(f"{prefix}_TILE_URL", "").strip() or OSM_TILE_URL
    if url.lower() == NO_TILES:
        return TileLayer("", "")
    credit = environ.get(f"{prefix}_TILE_ATTRIBUTION", "")
    if not credit and url == OSM_TILE_URL:
        credit = OSM_ATTRIBUTION
    return TileLayer(url, credit)
