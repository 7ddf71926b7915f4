"""The API's guard against cross-site requests: a change made with the login cookie must
carry the page's CSRF token.

A browser sends the session cookie with any request to our site, including one a foreign
page makes it send; it sends an API token only when our own code puts it in the
Authorization header, which another site cannot do. So a state-changing call under /api/
that is authenticated by the cookie (a member's login, no bearer token) needs the CSRF
token our pages carry (the same one flask-wtf puts in every form, kept in the shared
session), in X-CSRFToken.
"""

from __future__ import annotations

from flask import Flask, abort, request
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from shared.auth import bearer_token
from shared.edge import current_principal

CSRF_HEADER = "X-CSRFToken"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
REFUSAL = (
    "A change made with your login cookie must send the page's CSRF token in the "
    "X-CSRFToken header; scripts should use an API token instead "
    "(Authorization: Bearer <token>)."
)


def install_api_csrf(app: Flask, prefix: str = "/api/") -> None:
    """Refuse (400, nothing done) cookie-authenticated changes under `prefix` that lack the
    page's CSRF token; calls with a bearer token and anonymous calls pass unchanged."""

    @app.before_request
    def _cookie_changes_need_the_csrf_token() -> None:
        if request.method in SAFE_METHODS or not request.path.startswith(prefix):
            return
        if bearer_token(request.headers.get("Authorization")) is not None:
            return  # the token authenticates the call, and no other site can send it
        principal = current_principal()
        if principal is None or principal.user_id is None:
            # Anonymous (the view decides: public, or 401), or an organisation's API token
            # the edge already resolved: members, and only members, log in with the cookie.
            return
        try:
            validate_csrf(request.headers.get(CSRF_HEADER))
        except ValidationError:
            abort(400, REFUSAL)
