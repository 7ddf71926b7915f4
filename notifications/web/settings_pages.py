"""The settings page (preferences and webhooks) and the unsubscribe page."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template
from flask_babel import get_locale, gettext

from notifications.channels.netguard import UnsafeUrl
from notifications.organisations import Organisation
from notifications.preference_store import (
    add_endpoint,
    endpoints_of,
    load_preferences,
    remove_endpoint,
    save_preferences,
)
from notifications.preferences import CONTACT, Preferences
from notifications.web.context import is_id, login_redirect, member, services
from notifications.web.forms import MemberPreferencesForm, OrganisationPreferencesForm, WebhookForm
from shared.auth import Principal
from shared.db import unit_of_work

bp = Blueprint("settings", __name__, template_folder="../templates")
PAGE = "/settings/notifications"


def _forms() -> tuple[OrganisationPreferencesForm, MemberPreferencesForm, WebhookForm]:
    choices = services().category_choices(str(get_locale()))
    organisation = OrganisationPreferencesForm(prefix="org")
    mine = MemberPreferencesForm(prefix="me")
    for form in (organisation, mine):
        form.muted_categories.choices = choices
    return organisation, mine, WebhookForm(prefix="hook")


def _render(principal: Principal, status: int = 200, new_secret: Any = None, **forms: Any) -> Any:
    organisation_form, member_form, webhook_form = _forms()
    organisation_form = forms.get("organisation_form", organisation_form)
    member_form = forms.get("member_form", member_form)
    webhook_form = forms.get("webhook_form", webhook_form)
    organisation = services().organisations.get(principal.organisation_id)
    with unit_of_work(services().sessions) as session:
        if "organisation_form" not in forms:
            organisation_form.fill(load_preferences(session, principal.organisation_id, CONTACT))
        if "member_form" not in forms:
            member_form.fill(_member_preferences(session, principal))
        endpoints = endpoints_of(session, principal.organisation_id)
    page = render_template(
        "notifications/settings.html",
        organisation=organisation,
        my_email=_my_email(organisation, principal),
        # Addresses held back until confirmed: the page says why no e-mail comes.
        unconfirmed=organisation.unconfirmed() if organisation else set(),
        organisation_form=organisation_form,
        member_form=member_form,
        webhook_form=webhook_form,
        endpoints=endpoints,
        new_secret=new_secret,
    )
    return page, status


def _member_preferences(session: Any, principal: Principal) -> Preferences:
    return load_preferences(session, principal.organisation_id, principal.user_id or "")


def _my_email(organisation: Organisation | None, principal: Principal) -> str | None:
    entry = organisation.member(principal.user_id or "") if organisation else None
    return entry["email"] if entry else None


@bp.get(PAGE)
def settings_page() -> Any:
    """Preferences of the organisation and of the member, and the webhook endpoints."""
    principal = member()
    return login_redirect() if principal is None else _render(principal)


@bp.post(f"{PAGE}/organisation")
def save_organisation() -> Any:
    """Save the organisation's preferences."""
    return _save(OrganisationPreferencesForm, "organisation_form", for_member=False)


@bp.post(f"{PAGE}/me")
def save_mine() -> Any:
    """Save the member's own preferences."""
    return _save(MemberPreferencesForm, "member_form", for_member=True)


def _save(form_class: type[MemberPreferencesForm], name: str, for_member: bool) -> Any:
    principal = member()
    if principal is None:
        return login_redirect()
    form = form_class(prefix="me" if for_member else "org")
    form.muted_categories.choices = services().category_choices(str(get_locale()))
    if not form.validate():
        return _render(principal, 400, **{name: form})
    subscriber = (principal.user_id or "") if for_member else CONTACT
    with unit_of_work(services().sessions) as session:
        current = load_preferences(session, principal.organisation_id, subscriber)
        save_preferences(session, principal.organisation_id, subscriber, form.preferences(current))
    flash(gettext("Saved. The next alerts follow these settings."), "success")
    return redirect(PAGE, code=303)


@bp.post(f"{PAGE}/webhooks")
def add_webhook() -> Any:
    """Register an endpoint and show its signing secret, this once."""
    principal = member()
    if principal is None:
        return login_redirect()
    form = WebhookForm(prefix="hook")
    if form.validate():
        try:
            services().check_webhook_url(form.url.data.strip())
        except UnsafeUrl as exc:
            form.url.errors = [
                *form.url.errors,
                gettext("This URL cannot receive webhooks: %(reason)s", reason=str(exc)),
            ]
    if form.errors or form.url.errors:
        return _render(principal, 400, webhook_form=form)
    with unit_of_work(services().sessions) as session:
        created = add_endpoint(
            session, principal.organisation_id, form.url.data.strip(), form.description.data or ""
        )
    return _render(principal, 201, new_secret=created)


@bp.post(f"{PAGE}/webhooks/<endpoint_id>/delete")
def delete_webhook(endpoint_id: str) -> Any:
    """Stop sending to one of the organisation's endpoints."""
    principal = member()
    if principal is None:
        return login_redirect()
    with unit_of_work(services().sessions) as session:
        if not is_id(endpoint_id) or not remove_endpoint(
            session, principal.organisation_id, endpoint_id
        ):
            abort(404)
    flash(gettext("The endpoint was removed."), "success")
    return redirect(PAGE, code=303)


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str) -> Any:
    """Ask to confirm (a GET changes nothing: mail scanners follow links)."""
    if services().unsubscribe_tokens.read(token) is None:
        return render_template("notifications/unsubscribe.html", invalid=True), 404
    return render_template("notifications/unsubscribe.html", token=token, done=False)


@bp.post("/unsubscribe/<token>")
def unsubscribe(token: str) -> Any:
    """Turn e-mail off for the recipient the token names (also RFC 8058 one-click)."""
    recipient = services().unsubscribe_tokens.read(token)
    if recipient is None:
        return render_template("notifications/unsubscribe.html", invalid=True), 404
    organisation_id, member_id = recipient
    with unit_of_work(services().sessions) as session:
        current = load_preferences(session, organisation_id, member_id)
        save_preferences(session, organisation_id, member_id, replace(current, email=False))
    return render_template("notifications/unsubscribe.html", done=True)
