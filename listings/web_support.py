"""What the listings pages share: the wired services, and sending visitors to log in."""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, request, url_for
from werkzeug.wrappers import Response

from listings.auth import current_principal
from shared.auth import Principal


def ext(name: str) -> Any:
    """A service wired into the app by the composition root."""
    return current_app.extensions[f"boucle.{name}"]


def login_required() -> Principal | Response:
    """The logged-in member, or a redirect to the login page that comes back here."""
    principal = current_principal()
    if principal is None:
        return redirect(url_for("account_pages.login", next=request.full_path))
    return principal
