"""Exchange pages: ask for a listing, answer, talk, confirm the hand-over. Thin views: a form
is validated, a use case called, and the page redirected to the exchange."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from listings.errors import Conflict
from listings.exchange_forms import HandOverForm, MessageForm, ProblemForm, RequestForm, TermsForm
from listings.exchange_service import ExchangeService
from listings.web_support import ext, login_required
from shared.impact.table import impact_csv, impact_row_dict

bp = Blueprint("exchange_pages", __name__, template_folder="templates")

STEPS = ("accept", "decline", "counter", "message", "handover", "problem", "cancel", "stop")


def _service() -> ExchangeService:
    return ext("exchanges")


@bp.post("/listings/<listing_id>/ask")
def ask(listing_id: str) -> ResponseReturnValue:
    principal = login_required()
    if isinstance(principal, Response):
        return principal
    form = RequestForm()
    if form.validate_on_submit():
        try:
            view = _service().request(
                listing_id, {**_terms(form), "message": form.message.data or ""}, principal
            )
        except Conflict as exc:
            form.quantity.errors = [str(exc)]
        else:
            flash(_("Your request is sent. You will be told when they answer."))
            return redirect(url_for("exchange_pages.exchange_page", exchange_id=view.exchange.id))
    listing = ext("listing_service").get(listing_id, principal)
    return render_template("ask.html", form=form, listing=listing), 400


@bp.get("/exchanges")
def my_exchanges() -> ResponseReturnValue:
    principal = login_required()
    if isinstance(principal, Response):
        return principal
    views = _service().of_organisation(principal)
    return render_template("exchanges.html", views=views, me=principal.organisation_id)


@bp.get("/my/impact")
def my_impact() -> ResponseReturnValue:
    principal = login_required()
    if isinstance(principal, Response):
        return principal
    rows, total = ext("impact").of(principal.organisation_id)
    return render_template(
        "my_impact.html",
        rows=[impact_row_dict(row) for row in rows],
        total=impact_row_dict(total),
    )


@bp.get("/my/impact.csv")
def my_impact_csv() -> ResponseReturnValue:
    principal = login_required()
    if isinstance(principal, Response):
        return principal
    rows, total = ext("impact").of(principal.organisation_id)
    return Response(
        impact_csv(rows, total),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=boucle-impact.csv"},
    )


@bp.get("/exchanges/<exchange_id>")
def exchange_page(exchange_id: str) -> ResponseReturnValue:
    principal = login_required()
    if isinstance(principal, Response):
        return principal
    return _page(exchange_id, principal.organisation_id, principal)


@bp.get("/exchanges/<exchange_id>/cancel")
def confirm_cancel(exchange_id: str) -> ResponseReturnValue:
    principal = login_required()
    if isinstance(principal, Response):
        return principal
    view = _service().get(exchange_id, principal)
    return render_template("exchange_cancel.html", view=view)


@bp.post("/exchanges/<exchange_id>/<step>")
def exchange_step(exchange_id: str, step: str) -> ResponseReturnValue:
    principal = login_required()
    if isinstance(principal, Response):
        return principal
    if step not in STEPS:
        flash(_("Unknown action."), "error")
        return redirect(url_for("exchange_pages.exchange_page", exchange_id=exchange_id))
    forms = _forms()
    try:
        done = _apply(step, exchange_id, principal, forms)
    except Conflict as exc:
        flash(str(exc), "error")
        done = True
    if done:
        return redirect(url_for("exchange_pages.exchange_page", exchange_id=exchange_id))
    return _page(exchange_id, principal.organisation_id, principal, forms, status=400)


def _apply(step: str, exchange_id: str, principal: Any, forms: dict[str, Any]) -> bool:
    """Run the step; False when its form has errors (the page shows them)."""
    service = _service()
    if step in ("accept", "decline"):
        service.answer(exchange_id, step, principal)
        flash(_("Accepted.") if step == "accept" else _("Declined."))
    elif step == "cancel":
        service.cancel(exchange_id, principal)
        flash(_("The exchange is cancelled."))
    elif step == "stop":
        service.stop_repeating(exchange_id, principal)
        flash(_("The standing order ends with this exchange."))
    elif step == "counter" and forms["counter"].validate_on_submit():
        service.answer(exchange_id, "counter", principal, _terms(forms["counter"]))
        flash(_("Your proposal is sent."))
    elif step == "message" and forms["message"].validate_on_submit():
        service.post_message(exchange_id, forms["message"].text.data, principal)
    elif step == "handover" and forms["handover"].validate_on_submit():
        form = forms["handover"]
        service.hand_over(
            exchange_id, float(form.quantity.data), form.reference.data or "", principal
        )
        flash(_("Thank you: your confirmation is recorded."))
    elif step == "problem" and forms["problem"].validate_on_submit():
        service.report_problem(exchange_id, forms["problem"].text.data, principal)
        flash(_("The problem is reported; the other side and the admins see it."))
    else:
        return step not in forms
    return True


def _forms() -> dict[str, Any]:
    # Each form only reads the request when it is the one posted.
    posted = request.view_args.get("step") if request.view_args else None
    make = {
        "counter": TermsForm,
        "message": MessageForm,
        "handover": HandOverForm,
        "problem": ProblemForm,
    }
    return {
        name: cls(prefix=name) if name == posted else cls(prefix=name, formdata=None)
        for name, cls in make.items()
    }


def _page(
    exchange_id: str,
    me: str,
    principal: Any,
    forms: dict[str, Any] | None = None,
    status: int = 200,
) -> Any:
    view = _service().get(exchange_id, principal)
    return render_template("exchange.html", view=view, me=me, forms=forms or _forms()), status


def _terms(form: TermsForm) -> dict[str, Any]:
    return {
        "quantity": float(form.quantity.data),
        "window_from": _moment(form.window_from.data, time.min),
        "window_until": _moment(form.window_until.data, time.max),
    }


def _moment(day: date | None, at: time) -> datetime | None:
    return datetime.combine(day, at, tzinfo=UTC) if day else None
