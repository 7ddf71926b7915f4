"""What the web app is given by its composition root, and how a request finds its caller."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import quote

from flask import abort, current_app, jsonify, redirect, request
from sqlalchemy.orm import Session, sessionmaker

from notifications.channels.netguard import Target
from notifications.organisations import OrganisationStore
from notifications.store import AlertStore
from notifications.unsubscribe import UnsubscribeTokens
from shared.auth import Principal
from shared.edge import current_principal


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


def api_organisation() -> str:
    """The calling organisation; 401 when the edge vouches for no one.

    The edge has already refused a token that is not valid (ADR 0007), so an anonymous
    request here simply sent none.
    """
    principal = current_principal()
    if principal is None:
        api_error(401, "Send your organisation's API token: Authorization: Bearer <token>.")
    return principal.organisation_id


def member() -> Principal | None:
    """The logged-in member of this page request, or None (an API token is no member)."""
    principal = current_principal()
    return principal if principal is not None and principal.user_id else None


def login_redirect() -> Any:
    """Send an anonymous visitor to the login page, coming back here afterwards."""
    return redirect(f"/login?next={quote(request.full_path.rstrip('?'))}")
