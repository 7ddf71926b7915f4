"""The header's unread badge on every page: one count, asked once per page by boucle.js.

Every page of every service carries the badge; only this service knows the count. The
page's script asks here through the edge (which forwards the member's identity) once when
the page loads and again when its tab comes back into view; nothing stays connected.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask_babel import ngettext

from notifications.web.context import api_error, member, services

bp = Blueprint("unread", __name__)


@bp.get("/inbox/unread")
def unread() -> Any:
    """The member's unread alerts: the number for the badge, the words of the inbox heading."""
    principal = member()
    if principal is None:
        api_error(401, "Log in to read your inbox.")
    count = services().alerts.unread_count(principal.organisation_id, principal.user_id)
    response = jsonify(
        unread=count,
        # The inbox heading's own words, so the heading and the badge say the same number.
        unread_text=ngettext(
            "%(count)s unread alert", "%(count)s unread alerts", count, count=count
        ),
    )
    # Per member and changing: never stored by a browser or a proxy.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Vary"] = "Cookie, X-Boucle-Identity"
    return response
