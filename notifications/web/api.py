"""REST API of the alerts and the inbox under /api/v1 (bearer tokens, no session, no CSRF)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from notifications.export import export_organisation
from notifications.organisations import OWNER
from notifications.tables import AlertRow
from notifications.web import api_examples as ex
from notifications.web.context import (
    api_error,
    api_organisation,
    is_id,
    services,
)
from shared.db import unit_of_work
from shared.edge import current_principal
from shared.openapi import ApiBlueprint
from shared.text import SINGLE_LINE

PRINTABLE = validate.Regexp(SINGLE_LINE, error="Control characters are not allowed.")
blp = ApiBlueprint(
    "alerts_api", __name__, url_prefix="/api/v1", description="Alerts and the in-app inbox"
)


class AlertQuery(Schema):
    listing_id = fields.String(validate=[validate.Length(min=1, max=36), PRINTABLE])
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class InboxQuery(Schema):
    unread = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class AlertOut(Schema):
    id = fields.String()
    match_id = fields.String()
    listing_id = fields.String()
    organisation_id = fields.String()
    role = fields.String(metadata={"description": "buyer: your need matched; seller: your offer"})
    own_title = fields.String()
    counterpart_listing_id = fields.String()
    counterpart_title = fields.String()
    counterpart_place = fields.String(allow_none=True)
    category = fields.String()
    quantity = fields.Float()
    unit = fields.String()
    distance_km = fields.Float()
    score = fields.Float()
    reasons = fields.Dict()
    available_until = fields.AwareDateTime(allow_none=True)
    status = fields.String(metadata={"description": "active, or retracted: no longer available"})
    retraction_reason = fields.String(allow_none=True)
    read = fields.Function(lambda alert: alert.read_at is not None)
    created_at = fields.AwareDateTime()


class InboxOut(Schema):
    unread = fields.Integer()
    items = fields.List(fields.Nested(AlertOut))


class MarkedOut(Schema):
    marked = fields.Integer()


class ExportOut(Schema):
    organisation_id = fields.String()
    exported_at = fields.String()
    alerts = fields.List(fields.Dict())
    alert_reads = fields.List(fields.Dict(), metadata={"description": "which member read what"})
    deliveries = fields.List(fields.Dict())
    exchange_notices = fields.List(fields.Dict())
    preferences = fields.List(fields.Dict())
    webhooks = fields.List(fields.Dict(), metadata={"description": "without signing secrets"})


MISSING_LISTING = {"listing_id": ["Missing data for required field."]}


def _member_id() -> str | None:
    """The calling member, whose read state the inbox shows; None for an API token, which
    stands for the organisation (its clients share one read state)."""
    principal = current_principal()
    return principal.user_id if principal is not None else None


def _caller_organisation() -> str | None:
    principal = current_principal()
    return None if principal is None else principal.organisation_id


@blp.route("/alerts")
class Alerts(MethodView):
    @blp.token_optional(403)
    @blp.arguments(AlertQuery, location="query")
    @blp.response(200, AlertOut(many=True), example=[ex.ALERT])
    def get(self, query: dict[str, Any]) -> list[AlertRow]:
        """Your organisation's alerts (with a token), or those of one anonymous listing."""
        listing_id = query.get("listing_id")
        store = services().alerts
        if listing_id is None:
            caller = _caller_organisation()
            if caller is None:
                api_error(400, "Give a listing_id, or an API token.", MISSING_LISTING)
            return store.inbox(caller, limit=query["limit"], member_id=_member_id())
        owner = store.owner_of_listing(listing_id)
        if owner is None:
            return []  # nothing to show, nothing to protect
        caller = _caller_organisation()
        if caller is None and services().organisations.get(owner) is not None:
            api_error(401, "This listing belongs to an organisation: send its API token.")
        if caller is not None and caller != owner:
            api_error(403, "This listing belongs to another organisation.")
        return store.for_listing(listing_id)


@blp.route("/inbox")
class Inbox(MethodView):
    @blp.token()
    @blp.arguments(InboxQuery, location="query")
    @blp.response(200, InboxOut, example=ex.INBOX)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The inbox: unread count and alerts, newest first.

        Read state is the logged-in member's own; called with an API token (no member), it
        is the organisation's API clients' shared read state.
        """
        organisation_id, member_id = api_organisation(), _member_id()
        store = services().alerts
        return {
            "unread": store.unread_count(organisation_id, member_id),
            "items": store.inbox(
                organisation_id, query["limit"], unread_only=query["unread"], member_id=member_id
            ),
        }


@blp.route("/inbox/read")
class ReadAll(MethodView):
    @blp.token()
    @blp.response(200, MarkedOut, example=ex.MARKED)
    def post(self) -> dict[str, int]:
        """Mark every alert read."""
        return {"marked": services().alerts.mark_read(api_organisation(), member_id=_member_id())}


@blp.route("/inbox/<alert_id>/read")
class ReadOne(MethodView):
    @blp.token(404)
    @blp.response(200, MarkedOut, example=ex.MARKED)
    def post(self, alert_id: str) -> dict[str, int]:
        """Mark one alert read."""
        organisation_id = api_organisation()
        store = services().alerts
        if not is_id(alert_id) or store.get(organisation_id, alert_id) is None:
            api_error(404, "No such alert in your inbox.")
        return {"marked": store.mark_read(organisation_id, alert_id, _member_id())}


@blp.route("/organisations/me/export/notifications")
class NotificationsExport(MethodView):
    @blp.token(403)
    @blp.response(200, ExportOut, example=ex.EXPORT)
    def get(self) -> dict[str, Any]:
        """Everything the notifications service holds about your organisation (GDPR export).

        For an owner of the organisation, logged in (the listings service calls it for the
        export archive with the owner's identity). The signed identity does not carry the
        organisation role, so the role is the one the organisations topic last said; an API
        token, which is no person, is refused.
        """
        principal = current_principal()
        if principal is None:
            api_error(401, "Log in as an owner of the organisation.")
        organisation = services().organisations.get(principal.organisation_id)
        entry = (
            organisation.member(principal.user_id) if organisation and principal.user_id else None
        )
        if entry is None or entry.get("organisation_role", OWNER) != OWNER:
            api_error(403, "Only an owner of the organisation may export its data.")
        with unit_of_work(services().sessions) as session:
            return export_organisation(session, principal.organisation_id, datetime.now(UTC))
