"""Who is calling the listings service: a bearer token (API) or a logged-in member (pages).

Listings owns accounts, so it can answer for a cookie or a token itself; it also answers the
edge's question for every other service (`GET /auth/identity`, ADR 0007).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, jsonify, request, session
from werkzeug.exceptions import Unauthorized

from listings.accounts import AccountService
from listings.login_sessions import LoginSessions
from shared.auth import LANGUAGE, Principal, bearer_token, session_id_of
from shared.edge import current_principal
from shared.identity import ANONYMOUS, IDENTITY_HEADER, Identity, IdentitySigner

bp = Blueprint("edge_auth", __name__)
#: Paths whose service accepts a bearer token of its own (MONITOR_API_TOKEN for scripts).
OWN_TOKEN_PATHS = ("/api/v1/monitor/",)

__all__ = ["bp", "current_principal", "require_principal", "resolve_caller"]


def resolve_caller() -> Principal | None:
    """The caller from the request's own credentials; 401 for a token that is not valid."""
    token = bearer_token(request.headers.get("Authorization"))
    if token is not None:
        accounts: AccountService = current_app.extensions["boucle.accounts"]
        principal = accounts.principal_for_token(token)
        if principal is None:
            raise Unauthorized("The API token is not valid (or was revoked).")
        return principal
    session_id = session_id_of(session)
    if session_id is None:
        return None
    logins: LoginSessions = current_app.extensions["boucle.logins"]
    return logins.principal(session_id, datetime.now(UTC))


def require_principal() -> Principal:
    """The caller, or 401 asking for a token or a login."""
    principal = current_principal()
    if principal is None:
        raise Unauthorized("send Authorization: Bearer <API token>, or log in")
    return principal


@bp.get("/auth/identity")
def identity() -> Response:
    """The edge's question, once per request: who sends these credentials, signed.

    200 with the signed identity for a member or a token, 200 without it for an anonymous
    visitor (public pages stay public), 401 for a bearer token that is not valid: the edge
    returns that answer to the client as it is.
    """
    try:
        principal = resolve_caller()
    except Unauthorized as exc:
        if request.headers.get("X-Forwarded-Uri", "").startswith(OWN_TOKEN_PATHS):
            # That service checks its own script token.
            return Response(status=200, headers={IDENTITY_HEADER: ANONYMOUS})

        refused = jsonify(code=401, status="Unauthorized", message=exc.description)
        refused.status_code = 401
        refused.headers["WWW-Authenticate"] = "Bearer"
        return refused
    answer = Response(status=200)
    answer.headers["Cache-Control"] = "no-store"
    answer.headers[IDENTITY_HEADER] = ANONYMOUS
    if principal is not None:
        signer: IdentitySigner = current_app.extensions["boucle.identity_signer"]
        language = str(session.get(LANGUAGE) or "") if principal.user_id else ""
        answer.headers[IDENTITY_HEADER] = signer.sign(
            Identity(principal, language), datetime.now(UTC)
        )
    return answer
