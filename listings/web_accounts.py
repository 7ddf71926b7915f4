"""Account pages: register an organisation, log in and out, manage API tokens."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from listings.accounts import AccountService
from listings.errors import Conflict
from listings.forms import LoginForm, RegisterForm, TokenForm
from listings.limits import limiter
from listings.places import PlaceError, resolve
from listings.web_support import ext as _ext
from listings.web_support import login_required as _login_required
from shared.auth import Principal, session_login

bp = Blueprint("account_pages", __name__, template_folder="templates")


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("10/hour", methods=["POST"])
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
            principal = Principal(registration.organisation.id, member.id, member.role)
            session_login(session, principal, member.language, datetime.now(UTC))
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
@limiter.limit("10/minute", methods=["POST"])
def login() -> str | Response:
    form = LoginForm()
    if form.validate_on_submit():
        accounts: AccountService = _ext("accounts")
        found = accounts.authenticate(form.email.data or "", form.password.data or "")
        if found is None:
            form.password.errors = [_("Wrong e-mail or password.")]
        else:
            principal, language = found
            session_login(session, principal, language, datetime.now(UTC))
            target = request.args.get("next", "")
            # Only local paths: never bounce a member to another site after login.
            return redirect(
                target
                if target.startswith("/") and not target.startswith("//")
                else url_for("pages.my_listings")
            )
    return render_template("login.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    flash(_("You are logged out."))
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
        _, new_token = accounts.create_token(principal.organisation_id, form.name.data or "")
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
