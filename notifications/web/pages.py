"""The inbox pages: the list, marking read, and what is new since the page was shown."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
)
from flask_babel import get_locale, gettext, ngettext

from notifications.store import alert_from_row
from notifications.tables import AlertRow
from notifications.web.context import api_error, is_id, login_redirect, member, services
from notifications.wording import price_line, reason_lines, retraction_label, unit_label

bp = Blueprint("inbox", __name__, template_folder="../templates")


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
    rows = store.inbox(principal.organisation_id, limit=100, member_id=principal.user_id)
    notices = store.exchange_notices(principal.organisation_id)
    rendered_at = datetime.now(UTC)
    return render_template(
        "notifications/inbox.html",
        items=[view_of(row) for row in rows],
        unread=store.unread_count(principal.organisation_id, principal.user_id),
        notices=notices,
        # Where the live page picks up: after the newest row shown (or now, with none).
        alerts_after=max((row.created_at for row in rows), default=rendered_at).isoformat(),
        notices_after=max((n.created_at for n in notices), default=rendered_at).isoformat(),
    )


@bp.post("/inbox/read")
def read_all() -> Any:
    """Mark every alert read."""
    principal = member()
    if principal is None:
        return login_redirect()
    services().alerts.mark_read(principal.organisation_id, member_id=principal.user_id)
    return redirect("/inbox", code=303)


@bp.post("/inbox/<alert_id>/read")
def read_one(alert_id: str) -> Any:
    """Mark one alert read (only the organisation's own)."""
    principal = member()
    if principal is None:
        return login_redirect()
    if not is_id(alert_id) or services().alerts.get(principal.organisation_id, alert_id) is None:
        abort(404)
    services().alerts.mark_read(principal.organisation_id, alert_id, principal.user_id)
    return redirect(f"/inbox#alert-{alert_id}", code=303)


@bp.get("/inbox/updates")
def updates() -> Any:
    """What is new in the inbox since the page's cursors, rendered in the reader's language.

    The live feed (served by the feeds process) only says *that* the inbox changed; the page
    then asks here, so what it shows is rendered by the same templates as the inbox itself.
    """
    principal = member()
    if principal is None:
        api_error(401, "Log in to read your inbox.")
    organisation_id = principal.organisation_id
    alerts_after = _cursor(request.args.get("alerts_after"))
    notices_after = _cursor(request.args.get("notices_after"))
    store = services().alerts
    alerts = store.newer_than(organisation_id, alerts_after, principal.user_id)
    notices = store.exchange_notices_newer_than(organisation_id, notices_after)
    unread = store.unread_count(organisation_id, principal.user_id)
    response = jsonify(
        alerts=[
            {
                "id": row.id,
                "html": render_template("notifications/_alert.html", item=view_of(row)),
            }
            for row in alerts
        ],
        notices=[
            {
                "id": notice.id,
                "html": render_template("notifications/_notice.html", notice=notice),
            }
            for notice in notices
        ],
        unread=unread,
        # The same words as the page's heading, so both say the same number.
        unread_text=ngettext(
            "%(count)s unread alert", "%(count)s unread alerts", unread, count=unread
        ),
        alerts_after=(alerts[-1].created_at if alerts else alerts_after).isoformat(),
        notices_after=(notices[-1].created_at if notices else notices_after).isoformat(),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _cursor(value: str | None) -> datetime:
    """A page's cursor (ISO time of the newest row it shows); now when absent or unreadable."""
    try:
        found = datetime.fromisoformat(value) if value else None
    except ValueError:
        found = None
    if found is None:
        return datetime.now(UTC)
    return found if found.tzinfo else found.replace(tzinfo=UTC)
