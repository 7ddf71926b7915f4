"""The inbox pages: the list, marking read, and the live feed (server-sent events)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    stream_with_context,
)
from flask_babel import get_locale, gettext, ngettext

from notifications.store import alert_from_row
from notifications.tables import AlertRow
from notifications.web.context import is_id, login_redirect, member, services
from notifications.wording import price_line, reason_lines, retraction_label, unit_label

bp = Blueprint("inbox", __name__, template_folder="../templates")
KEEP_ALIVE_S = 15.0


def view_of(row: AlertRow) -> dict[str, Any]:
    """What the inbox shows of one alert, in the page's language."""
    alert = alert_from_row(row)
    return {
        "row": row,
        "unit": unit_label(row.unit, gettext),
        "category": services().category_label(row.category, str(get_locale())),
        "reasons": reason_lines(alert, gettext, ngettext),
        "price": price_line(alert, gettext) if alert.role == "buyer" else "",
        "link": f"/listings/{row.counterpart_listing_id}",
        "retraction": retraction_label(row.retraction_reason, gettext),
    }


@bp.get("/notifications")
def notifications_home() -> Any:
    """The old address of the inbox."""
    return redirect("/inbox")


@bp.get("/inbox")
def inbox() -> Any:
    """The member's organisation's alerts, newest first, unread ones marked."""
    principal = member()
    if principal is None:
        return login_redirect()
    store = services().alerts
    rows = store.inbox(principal.organisation_id, limit=100)
    return render_template(
        "notifications/inbox.html",
        items=[view_of(row) for row in rows],
        unread=store.unread_count(principal.organisation_id),
        notices=store.exchange_notices(principal.organisation_id),
    )


@bp.post("/inbox/read")
def read_all() -> Any:
    """Mark every alert read."""
    principal = member()
    if principal is None:
        return login_redirect()
    services().alerts.mark_read(principal.organisation_id)
    return redirect("/inbox", code=303)


@bp.post("/inbox/<alert_id>/read")
def read_one(alert_id: str) -> Any:
    """Mark one alert read (only the organisation's own)."""
    principal = member()
    if principal is None:
        return login_redirect()
    if not is_id(alert_id) or services().alerts.get(principal.organisation_id, alert_id) is None:
        abort(404)
    services().alerts.mark_read(principal.organisation_id, alert_id)
    return redirect(f"/inbox#alert-{alert_id}", code=303)


@bp.get("/inbox/stream")
def stream() -> Any:
    """Server-sent events: each new alert (as the inbox shows it) and the unread count."""
    principal = member()
    if principal is None:
        abort(401)
    organisation_id = principal.organisation_id
    since = _since(request.headers.get("Last-Event-ID"))
    response = Response(
        stream_with_context(_events(organisation_id, since)), mimetype="text/event-stream"
    )
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response


def _since(last_event_id: str | None) -> datetime:
    try:
        return datetime.fromisoformat(last_event_id) if last_event_id else datetime.now(UTC)
    except ValueError:
        return datetime.now(UTC)


def _events(organisation_id: str, since: datetime) -> Iterator[str]:
    web = services()
    # A comment first, so proxies and the browser see the stream open at once.
    yield ": live feed of new alerts\nretry: 3000\n\n"
    deadline = time.monotonic() + web.stream_lifetime_s
    unread = -1
    quiet_since = time.monotonic()
    notices_since = since
    while time.monotonic() < deadline:
        for row in web.alerts.newer_than(organisation_id, since):
            since = row.created_at
            html = render_template("notifications/_alert.html", item=view_of(row))
            data = json.dumps({"id": row.id, "html": html})
            yield f"id: {since.isoformat()}\nevent: alert\ndata: {data}\n\n"
        for notice in web.alerts.exchange_notices_newer_than(organisation_id, notices_since):
            notices_since = notice.created_at
            html = render_template("notifications/_notice.html", notice=notice)
            yield f"event: notice\ndata: {json.dumps({'id': notice.id, 'html': html})}\n\n"
        count = web.alerts.unread_count(organisation_id)
        if count != unread:
            unread = count
            yield f"event: unread\ndata: {count}\n\n"
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > KEEP_ALIVE_S:
            yield ": keep-alive\n\n"
            quiet_since = time.monotonic()
        time.sleep(web.stream_poll_s)
    # The browser reconnects by itself (EventSource), sending Last-Event-ID.
