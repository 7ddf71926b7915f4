"""Account pages: register an organisation, log in and out, manage API tokens."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from listings.accounts import AccountService
from listings.errors import Conflict
from listings.forms import LoginForm, RegisterForm, TokenForm
from listings.limits import (
    LOGINS_PER_ACCOUNT,
    LOGINS_PER_ADDRESS,
    REGISTRATIONS_PER_ADDRESS,
    TOKENS_PER_ORGANISATION,
    calling_organisation,
    limiter,
    login_account,
)
from listings.login_sessions import LoginSessions
from listings.places import PlaceError, resolve
from listings.web_support import ext as _ext
from listings.web_support import login_required as _login_required
from shared.auth import session_id_of, session_login

bp = Blueprint("account_pages", __name__, template_folder="templates")


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(REGISTRATIONS_PER_ADDRESS, methods=["POST"])
def register() -> str | Response:
    form = RegisterForm()
    if form.validate_on_submit():
        data = dict(form.data)
        try:
            data["location"] = resolve(_ext("geocoder"), f"{form.place.data}, {form.country.data}")
            registration = _ext("accounts").register(data)
        except PlaceError as exc:
            form.place.errors = [str(exc)]
        except Conflict:
            form.email.errors = [_("An account with this e-mail already exists. Log in instead.")]
        else:
            member = registration.member
            _ext("membership").request_confirmations(registration.organisation.id, member.id)
            _log_in(member.id, member.language)
            flash(
                _(
                    "Welcome! Your organisation is registered. Keep this API token, "
                    "it is shown once: %(token)s",
                    token=registration.api_token,
                )
            )
            return redirect(url_for("pages.new_listing"))
    return render_template("register.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGINS_PER_ADDRESS, methods=["POST"])
@limiter.limit(LOGINS_PER_ACCOUNT, key_func=login_account, methods=["POST"])
def login() -> str | Response:
    form = LoginForm()
    if form.validate_on_submit():
        accounts: AccountService = _ext("accounts")
        found = accounts.authenticate(form.email.data or "", form.password.data or "")
        if found is None:
            form.password.errors = [_("Wrong e-mail or password.")]
        else:
            principal, language = found
            _log_in(principal.user_id or "", language)
            target = request.args.get("next", "")
            # Only local paths: never bounce a member to another site after login.
            return redirect(
                target
                if target.startswith("/") and not target.startswith("//")
                else url_for("pages.my_listings")
            )
    return render_template("login.html", form=form)


def _log_in(member_id: str, language: str) -> None:
    logins: LoginSessions = _ext("logins")
    session_login(session, logins.open(member_id, datetime.now(UTC)), language)


@bp.post("/logout")
def logout() -> Response:
    """End this login on the server: the cookie, even if someone kept it, opens nothing."""
    session_id = session_id_of(session)
    if session_id is not None:
        _ext("logins").close(session_id, datetime.now(UTC))
    session.clear()
    flash(_("You are logged out."))
    return redirect(url_for("pages.home"))


@bp.post("/logout/everywhere")
def logout_everywhere() -> Response:
    """End every login of this member, on every device and in every service."""
    principal = _login_required()
    if isinstance(principal, Response):
        return principal
    if principal.user_id:
        _ext("logins").close_all(principal.user_id, datetime.now(UTC))
    session.clear()
    flash(_("You are logged out on every device."))
    return redirect(url_for("pages.home"))


@bp.route("/account/tokens", methods=["GET", "POST"])
def tokens() -> str | Response:
    principal = _login_required()
    if isinstance(principal, Response):
        return principal
    accounts: AccountService = _ext("accounts")
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        with limiter.limit(TOKENS_PER_ORGANISATION, key_func=calling_organisation):
            _, new_token = accounts.create_token(
                principal.organisation_id, form.name.data or "", principal.user_id
            )
    listed = accounts.tokens(principal.organisation_id)
    return render_template("tokens.html", form=form, tokens=listed, new_token=new_token)


@bp.post("/account/tokens/<token_id>/revoke")
def revoke_token(token_id: str) -> Response:
    principal = _login_required()
    if isinstance(principal, Response):
        return principal
    _ext("accounts").revoke_token(principal.organisation_id, token_id)
    flash(_("The token is revoked; scripts using it are refused from now on."))
    return redirect(url_for("account_pages.tokens"))
