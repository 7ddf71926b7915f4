"""Only admins: pages send visitors to the login page and members to a 403; the API says 401/403.

Scripts may also call the API with MONITOR_API_TOKEN as a bearer token.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import abort, current_app, jsonify, redirect, render_template, request
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from shared.auth import bearer_token
from shared.edge import current_principal

F = TypeVar("F", bound=Callable[..., Any])
API_TOKEN_KEY = "boucle.monitor_api_token"
API_TOKEN_CALLER = "api-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def current_admin() -> str | None:
    """The admin's user id (or 'api-token'), or None when the caller is not an admin."""
    token = current_app.config.get(API_TOKEN_KEY)
    presented = bearer_token(request.headers.get("Authorization"))
    if token and presented and hmac.compare_digest(presented.encode(), token.encode()):
        return API_TOKEN_CALLER
    principal = current_principal()
    if principal is not None and principal.is_admin:
        return principal.user_id or principal.organisation_id
    return None


def admin_page(view: F) -> F:
    """Pages: anonymous -> /login?next=..., a member -> 403 page."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_admin() is not None:
            return view(*args, **kwargs)
        if current_principal() is None:
            return redirect("/login?" + urlencode({"next": request.full_path.rstrip("?")}))
        return render_template("monitor/forbidden.html"), 403

    return wrapper  # type: ignore[return-value]


def refuse_non_admin() -> Any:
    """None for an admin; else 401 JSON (no login) or 403 JSON (a member).

    An admin's change through its session cookie must also carry the page's CSRF token.
    """
    admin = current_admin()
    if admin is not None:
        if request.method not in SAFE_METHODS and admin != API_TOKEN_CALLER:
            _require_csrf()
        return None
    if current_principal() is None:
        response = jsonify(code=401, status="Unauthorized", message="log in as an admin")
        response.status_code = 401
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    abort(403, "only admins of the exchange may use the monitor")


def admin_api(view: F) -> F:
    """API and streams: anonymous -> 401 JSON, a member -> 403 JSON."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        refused = refuse_non_admin()
        return refused if refused is not None else view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _require_csrf() -> None:
    # A change made with the admin's session cookie must come from our own page: another
    # site could make the browser send that cookie, but cannot read the page's token.
    token = request.headers.get("X-CSRFToken") or request.form.get("csrf_token")
    try:
        validate_csrf(token)
    except ValidationError:
        abort(400, "send the page's CSRF token (X-CSRFToken header), or use the API token")
