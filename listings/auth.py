"""Who is calling the listings service: a bearer token (API) or a logged-in member (pages)."""

from __future__ import annotations

from flask import current_app, g, request, session
from werkzeug.exceptions import Unauthorized

from listings.accounts import AccountService
from shared.auth import Principal, bearer_token, principal_from_session


def current_principal() -> Principal | None:
    """The caller, or None for an anonymous visitor; 401 for a token that is not valid."""
    if "principal" in g:
        return g.principal
    token = bearer_token(request.headers.get("Authorization"))
    if token is not None:
        accounts: AccountService = current_app.extensions["boucle.accounts"]
        principal = accounts.principal_for_token(token)
        if principal is None:
            raise Unauthorized("invalid or revoked API token")
    else:
        principal = principal_from_session(session)
    g.principal = principal
    return principal


def require_principal() -> Principal:
    """The caller, or 401 asking for a token or a login."""
    principal = current_principal()
    if principal is None:
        raise Unauthorized("send Authorization: Bearer <API token>, or log in")
    return principal
