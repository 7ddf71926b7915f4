"""The installable web app: its manifest and its service worker (which shows push alerts).

The service worker is served at /sw.js, not under /static/, because a worker controls only
the paths below its own; the manifest names the app in the visitor's language.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, jsonify, send_file
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

bp = Blueprint("app_shell", __name__)
STATIC = Path(__file__).with_name("static") / "app"


@bp.get("/sw.js")
def service_worker() -> Response:
    response = send_file(STATIC / "sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/"
    # A new worker must reach browsers at once; they check it on each visit.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    document = {
        "name": _("Boucle — resource exchange"),
        "short_name": "Boucle",
        "description": _("Offers and needs of materials, goods and produce in the Greater Region."),
        "lang": str(get_locale()),
        "start_url": "/my/listings",
        "scope": "/",
        "display": "standalone",
        "background_color": "#fafaf7",
        "theme_color": "#1f6f43",
        "icons": [
            {"src": "/static/app/icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": "/static/app/icon-512.png", "sizes": "512x512", "type": "image/png"},
            {
                "src": "/static/app/icon-512.png",
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    response = jsonify(document)
    response.mimetype = "application/manifest+json"
    return response
