"""Account pages: the organisation's profile, your login, passwords, members, your data.

Confirmation, reset and invitation links arrive by e-mail (sent by the notifier); the pages
they open work without a login. Owners manage the profile and the members; every member
may change their own login address and password, and leave.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.exceptions import ServiceUnavailable
from werkzeug.wrappers import Response

from listings.account_forms import (
    DeleteForm,
    EmailChangeForm,
    ForgotForm,
    InvitationForm,
    InviteForm,
    PasswordChangeForm,
    ProfileForm,
    ResetForm,
)
from listings.account_links import LinkRefused
from listings.errors import Conflict, Forbidden, NotFound
from listings.leaving import OrganisationData
from listings.limits import LOGINS_PER_ADDRESS, limiter
from listings.login_sessions import LoginSessions
from listings.membership import Membership
from listings.places import PlaceError, resolve
from listings.web_support import ext, login_required
from shared.auth import Principal, session_login

bp = Blueprint("account", __name__, template_folder="templates")

#: the notifications service's part of an export, fetched for the caller
NotificationsExport = Callable[[Principal], dict[str, list[dict[str, Any]]]]


def _membership() -> Membership:
    found: Membership = ext("membership")
    return found


def _log_in_again(member_id: str, language: str) -> None:
    logins: LoginSessions = ext("logins")
    session_login(session, logins.open(member_id, datetime.now(UTC)), language)


def _refused(exc: LinkRefused) -> str:
    return {
        "expired": _("This link has expired. Ask for a new one."),
        "used": _("This link was already used. Ask for a new one if you need it."),
    }.get(exc.reason, _("This link is not valid. Ask for a new one."))


@bp.route("/account", methods=["GET", "POST"])
def account() -> str | Response:
    """The organisation's profile (owners edit it), your login, password and the members."""
    principal = login_required()
    if isinstance(principal, Response):
        return principal
    organisation = ext("accounts").organisation(principal.organisation_id)
    membership = _membership()
    owner = membership.is_owner(principal.organisation_id, principal.user_id)
    form = ProfileForm(obj=organisation, prefix="profile")
    if form.validate_on_submit():
        if not owner:
            abort(403)
        changes = {name: getattr(form, name).data for name in (
            "name", "kind", "country", "place", "description", "website",
            "contact_email", "phone", "language",
        )}  # fmt: skip
        try:
            if form.place.data != organisation.place or form.country.data != organisation.country:
                location = resolve(ext("geocoder"), f"{form.place.data}, {form.country.data}")
                changes.update(lat=location["lat"], lon=location["lon"])
            membership.update_profile(principal.organisation_id, principal.user_id or "", changes)
        except PlaceError as exc:
            form.place.errors = [str(exc)]
        else:
            flash(_("The profile is saved; every service has it within seconds."))
            return redirect(url_for("account.account"))
    members = membership.members(principal.organisation_id)
    me = next((m for m in members if m.id == principal.user_id), None)
    return render_template(
        "account.html",
        organisation=organisation,
        form=form,
        owner=owner,
        members=members,
        me=me,
        owners=sum(1 for m in members if m.organisation_role == "owner"),
        email_form=EmailChangeForm(prefix="login", data={"email": me.email if me else ""}),
        password_form=PasswordChangeForm(prefix="password"),
        invite_form=InviteForm(prefix="invite", data={"language": organisation.language}),
        delete_form=DeleteForm(prefix="delete"),
    )


@bp.post("/account/confirmations")
def resend_confirmations() -> Response:
    principal = login_required()
    if isinstance(principal, Response):
        return principal
    sent = _membership().request_confirmations(principal.organisation_id, principal.user_id or "")
    flash(
        _("A confirmation link is on its way; look in your mailbox.")
        if sent
        else _("Your addresses are already confirmed.")
    )
    return redirect(url_for("account.account"))


@bp.get("/account/confirm/<token>")
def confirm(token: str) -> Response:
    """Follow a confirmation link: the address it was sent to is confirmed."""
    try:
        address = _membership().confirm(token)
    except LinkRefused as exc:
        flash(_refused(exc), "error")
    else:
        flash(_("%(address)s is confirmed: alerts will be e-mailed to it.", address=address))
    return redirect(url_for("account.account"))


@bp.post("/account/email")
def change_email() -> str | Response:
    principal = login_required()
    if isinstance(principal, Response):
        return principal
    form = EmailChangeForm(prefix="login")
    if form.validate_on_submit():
        try:
            _membership().change_login_email(principal.user_id or "", form.email.data or "")
        except Conflict:
            flash(_("An account with this e-mail already exists."), "error")
        else:
            flash(_("Follow the link we sent to the new address to confirm it."))
    else:
        flash(_("Enter a valid e-mail address."), "error")
    return redirect(url_for("account.account"))


@bp.post("/account/password")
@limiter.limit(LOGINS_PER_ADDRESS)
def change_password() -> str | Response:
    principal = login_required()
    if isinstance(principal, Response):
        return principal
    form = PasswordChangeForm(prefix="password")
    if not form.validate_on_submit():
        flash(_("The new password needs at least 10 characters."), "error")
    elif not _membership().change_password(
        principal.user_id or "", form.current.data or "", form.new.data or ""
    ):
        flash(_("The current password is not right."), "error")
    else:
        # Every login ended, this one too: open a fresh one for the member at hand.
        _log_in_again(principal.user_id or "", str(session.get("lang") or "en"))
        flash(_("Your password is changed; every other login of yours has ended."))
    return redirect(url_for("account.account"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(LOGINS_PER_ADDRESS, methods=["POST"])
def forgot_password() -> str | Response:
    form = ForgotForm()
    if form.validate_on_submit():
        _membership().forgot_password(form.email.data or "")
        # The same answer whether or not the address has an account.
        flash(_("If an account uses this address, a link to choose a new password is on its way."))
        return redirect(url_for("account_pages.login"))
    return render_template("password_forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> str | Response:
    form = ResetForm()
    if form.validate_on_submit():
        try:
            _membership().reset_password(token, form.password.data or "")
        except LinkRefused as exc:
            flash(_refused(exc), "error")
            return redirect(url_for("account.forgot_password"))
        session.clear()
        flash(_("Your password is changed and every login has ended. Log in with it now."))
        return redirect(url_for("account_pages.login"))
    return render_template("password_reset.html", form=form)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token: str) -> str | Response:
    membership = _membership()
    try:
        organisation_name, email, role = membership.invitation(token)
    except LinkRefused as exc:
        flash(_refused(exc), "error")
        return redirect(url_for("account_pages.login"))
    # The page's language (the invitee's browser) is the likeliest choice.
    form = InvitationForm(data={"language": str(get_locale())} if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            member = membership.accept_invitation(
                token, form.name.data or "", form.password.data or "", form.language.data or "en"
            )
        except (LinkRefused, Conflict):
            flash(_("This invitation cannot be used any more. Ask for a new one."), "error")
            return redirect(url_for("account_pages.login"))
        _log_in_again(member.id, member.language)
        flash(_("Welcome to %(name)s!", name=organisation_name))
        return redirect(url_for("pages.my_listings"))
    return render_template(
        "invitation.html", form=form, organisation_name=organisation_name, email=email, role=role
    )


@bp.post("/account/members")
def invite() -> Response:
    principal = login_required()
    if isinstance(principal, Response):
        return principal
    form = InviteForm(prefix="invite")
    if not form.validate_on_submit():
        flash(_("Enter your colleague's e-mail address."), "error")
        return redirect(url_for("account.account"))
    try:
        _membership().invite(
            principal.organisation_id,
            principal.user_id or "",
            form.email.data or "",
            form.role.data or "member",
            form.language.data or "en",
        )
    except Forbidden:
        abort(403)
    except Conflict:
        flash(_("An account with this e-mail already exists."), "error")
    else:
        flash(_("The invitation is on its way to %(email)s.", email=form.email.data))
    return redirect(url_for("account.account"))


def _change_member(change: Callable[[], None]) -> bool:
    """Run an owner's change to the members; False (and why, flashed) when it may not be."""
    try:
        change()
    except Forbidden:
        abort(403)
    except NotFound:
        abort(404)
    except Conflict:
        flash(_("The organisation needs an owner: make another member an owner first."), "error")
        return False
    return True


@bp.post("/account/members/<member_id>/role")
def set_role(member_id: str) -> Response:
    principal = login_required()
    if isinstance(principal, Response):
        return principal
    role = request.form.get("role", "")
    actor = principal.user_id or ""
    if _change_member(
        lambda: _membership().set_role(principal.organisation_id, actor, member_id, role)
    ):
        flash(_("The role is changed."))
    return redirect(url_for("account.account"))


@bp.post("/account/members/<member_id>/remove")
def remove_member(member_id: str) -> Response:
    principal = login_required()
    if isinstance(principal, Response):
        return principal
    actor = principal.user_id or ""
    if not _change_member(
        lambda: _membership().remove(principal.organisation_id, actor, member_id)
    ):
        return redirect(url_for("account.account"))
    if member_id == principal.user_id:
        session.clear()
        flash(_("You left the organisation."))
        return redirect(url_for("pages.home"))
    flash(_("The member is removed; their logins and tokens stopped working."))
    return redirect(url_for("account.account"))


@bp.get("/account/export")
def export() -> Response:
    """Everything Boucle holds about the organisation, as a zip (owners only)."""
    principal = login_required()
    if isinstance(principal, Response):
        return principal
    if not _membership().is_owner(principal.organisation_id, principal.user_id):
        abort(403)
    fetch: NotificationsExport = ext("notifications_export")
    data: OrganisationData = ext("organisation_data")
    try:
        elsewhere = fetch(principal)
    except ServiceUnavailable:
        # Half an export would mislead: none, and say why.
        flash(
            _(
                "The export needs the notifications service, which did not answer. "
                "Try again in a minute."
            ),
            "error",
        )
        return redirect(url_for("account.account"))
    archive = data.export(principal.organisation_id, elsewhere)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    return Response(
        archive,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="boucle-export-{stamp}.zip"'},
    )


@bp.post("/account/delete")
def delete_organisation() -> str | Response:
    principal = login_required()
    if isinstance(principal, Response):
        return principal
    organisation = ext("accounts").organisation(principal.organisation_id)
    form = DeleteForm(prefix="delete")
    if not form.validate_on_submit() or (form.confirm.data or "").strip() != organisation.name:
        flash(_("Type the organisation's name exactly to confirm."), "error")
        return redirect(url_for("account.account"))
    try:
        ext("organisation_data").delete(
            principal.organisation_id, principal.user_id or "", principal.organisation_id
        )
    except Forbidden:
        abort(403)
    session.clear()
    flash(_("The organisation is deleted. Its listings are withdrawn and its data erased."))
    return redirect(url_for("pages.home"))


@bp.get("/admin/audit")
def audit() -> str | Response:
    """Admins: the moderation actions on record."""
    principal = login_required()
    if isinstance(principal, Response):
        return principal
    if not principal.is_admin:
        abort(403)
    return render_template("audit.html", entries=ext("audit").recent())
