"""What the web app is given by its composition root, and how a request finds its caller."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import quote

from flask import abort, current_app, jsonify, redirect, request, session
from sqlalchemy.orm import Session, sessionmaker

from notifications.channels.netguard import Target
from notifications.organisations import OrganisationStore
from notifications.store import AlertStore
from notifications.unsubscribe import UnsubscribeTokens
from shared.auth import Principal, bearer_token, principal_from_session


@dataclass(frozen=True)
class WebServices:
    """The stores and helpers the views use."""

    sessions: sessionmaker[Session]
    alerts: AlertStore
    organisations: OrganisationStore
    check_webhook_url: Callable[[str], Target]
    unsubscribe_tokens: UnsubscribeTokens
    known_category: Callable[[str], bool]
    category_label: Callable[[str, str], str]
    category_choices: Callable[[str], list[tuple[str, str]]]
    base_url: str
    stream_poll_s: float = 2.0
    stream_lifetime_s: float = 300.0


def services() -> WebServices:
    """The services of the running app."""
    found: WebServices = current_app.extensions["boucle.notifications"]
    return found


def api_error(status: int, message: str, errors: dict[str, Any] | None = None) -> NoReturn:
    """Stop the request with the house JSON error `{code, status, message, errors?}`."""
    body: dict[str, Any] = {
        "code": status,
        "status": _STATUS_NAMES.get(status, ""),
        "message": message,
    }
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    abort(response)


_STATUS_NAMES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}


def is_id(value: str) -> bool:
    """True for the shape of our ids (UUIDs): anything else cannot name a row of ours."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def token_organisation() -> str | None:
    """The organisation whose API token the request carries; 401 for a token we don't know."""
    token = bearer_token(request.headers.get("Authorization"))
    if token is None:
        return None
    organisation_id = services().organisations.organisation_for_token(token)
    if organisation_id is None:
        api_error(401, "The API token is not valid (or was revoked).")
    return organisation_id


def api_organisation() -> str:
    """The calling organisation; 401 when the request carries no valid bearer token."""
    organisation_id = token_organisation()
    if organisation_id is None:
        api_error(401, "Send your organisation's API token: Authorization: Bearer <token>.")
    return organisation_id


def member() -> Principal | None:
    """The logged-in member of this page request, or None."""
    return principal_from_session(session)


def login_redirect() -> Any:
    """Send an anonymous visitor to the login page, coming back here afterwards."""
    return redirect(f"/login?next={quote(request.full_path.rstrip('?'))}")
