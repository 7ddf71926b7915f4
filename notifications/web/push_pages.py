"""Push alerts on a member's devices: the settings page's JavaScript subscribes a browser
here (with the page's CSRF token), and the page lists the member's devices to remove.

The browser's push service address is checked like a webhook's (no private networks
unless allowed, https outside development) before it is stored.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, request
from flask_babel import get_locale, gettext
from werkzeug.http import HTTP_STATUS_CODES

from notifications.channels.netguard import UnsafeUrl
from notifications.push_store import devices_of, subscribe, unsubscribe
from notifications.web.context import is_id, login_redirect, member, services
from shared.db import unit_of_work

bp = Blueprint("push", __name__)
PAGE = "/settings/notifications"
#: where the composition root puts VAPID_PUBLIC_KEY (none: push is not offered)
PUBLIC_KEY = "BOUCLE_VAPID_PUBLIC_KEY"


@bp.post(f"{PAGE}/push")
def subscribe_browser() -> Any:
    """Store this browser's subscription: {endpoint, keys: {p256dh, auth}} as the Push API's
    PushSubscription.toJSON() gives it."""
    principal = member()
    if principal is None:
        abort(401)
    if not current_app.config.get(PUBLIC_KEY):
        return _refused(503, "push alerts are not configured on this exchange")
    body = request.get_json(silent=True) or {}
    endpoint = body.get("endpoint")
    keys: dict[str, Any] = body["keys"] if isinstance(body.get("keys"), dict) else {}
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    if not isinstance(endpoint, str) or len(endpoint) > 2000:
        return _refused(400, "endpoint: a push service URL is required")
    if _key_length(p256dh) != 65 or _key_length(auth) != 16:
        return _refused(400, "keys: p256dh (65 bytes) and auth (16 bytes) in base64url")
    try:
        services().check_webhook_url(endpoint)
    except UnsafeUrl as exc:
        return _refused(400, f"endpoint: {exc}")
    device = request.user_agent.string or ""
    with unit_of_work(services().sessions) as session:
        row = subscribe(
            session,
            principal.organisation_id,
            principal.user_id or "",
            endpoint,
            (str(p256dh), str(auth)),
            str(get_locale()),
            device,
        )
        created = {"id": row.id}
    return jsonify(created), 201


@bp.post(f"{PAGE}/push/<subscription_id>/delete")
def remove_browser(subscription_id: str) -> Any:
    """Stop push alerts to one of the member's devices (a form: works without JavaScript)."""
    principal = member()
    if principal is None:
        return login_redirect()
    with unit_of_work(services().sessions) as session:
        if not is_id(subscription_id) or not unsubscribe(
            session, principal.organisation_id, principal.user_id or "", subscription_id
        ):
            abort(404)
    flash(gettext("Push alerts are off on that device."), "success")
    return redirect(PAGE, code=303)


@bp.app_context_processor
def _push_settings() -> dict[str, Any]:
    return {"push_settings": push_settings}


def push_settings() -> dict[str, Any]:
    """What the settings page shows of push: the public key the browser subscribes with
    (empty: not configured) and the member's devices."""
    principal = member()
    devices = []
    if principal is not None:
        with unit_of_work(services().sessions) as session:
            devices = [
                {"id": row.id, "device": row.device, "since": row.created_at}
                for row in devices_of(session, principal.organisation_id, principal.user_id or "")
            ]
    return {"public_key": current_app.config.get(PUBLIC_KEY, ""), "devices": devices}


def _key_length(value: Any) -> int:
    if not isinstance(value, str) or len(value) > 200:
        return -1
    try:
        return len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, ValueError):
        return -1


def _refused(status: int, message: str) -> Any:
    answer = {"code": status, "status": HTTP_STATUS_CODES[status], "message": message}
    return jsonify(answer), status
