"""REST API of webhook endpoints and notification preferences under /api/v1."""

from __future__ import annotations

from datetime import time
from typing import Any

from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from notifications.channels.netguard import UnsafeUrl
from notifications.preference_store import (
    add_endpoint,
    endpoints_of,
    load_preferences,
    remove_endpoint,
    save_preferences,
)
from notifications.preferences import CONTACT, Preferences
from notifications.web import api_examples as ex
from notifications.web.api import PRINTABLE
from notifications.web.context import api_error, api_organisation, is_id, services
from shared.db import unit_of_work
from shared.openapi import ApiBlueprint

blp = ApiBlueprint(
    "settings_api",
    __name__,
    url_prefix="/api/v1",
    description="Webhook endpoints and notification preferences",
)
CLOCK = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="Use HH:MM, e.g. 22:00.")


class EndpointIn(Schema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    description = fields.String(load_default="", validate=[validate.Length(max=200), PRINTABLE])


class EndpointOut(Schema):
    id = fields.String()
    url = fields.String()
    description = fields.String()
    created_at = fields.AwareDateTime()


class NewEndpointOut(EndpointOut):
    secret = fields.String(metadata={"description": "The signing secret, shown this once"})


class PreferencesSchema(Schema):
    email = fields.Boolean(load_default=True)
    webhook = fields.Boolean(load_default=True)
    inbox = fields.Boolean(load_default=True)
    digest = fields.Boolean(load_default=False)
    digest_hour = fields.Integer(load_default=7, validate=validate.Range(min=0, max=23))
    muted_categories = fields.List(
        fields.String(validate=[validate.Length(min=1, max=100), PRINTABLE]),
        load_default=list,
        validate=validate.Length(max=200),
    )
    quiet_start = fields.String(load_default=None, allow_none=True, validate=CLOCK)
    quiet_end = fields.String(load_default=None, allow_none=True, validate=CLOCK)

    @validates_schema
    def _quiet_hours_come_in_pairs(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("quiet_start") is None) != (data.get("quiet_end") is None):
            raise ValidationError("Give both ends of the quiet hours, or neither.", "quiet_end")


def preferences_document(prefs: Preferences) -> dict[str, Any]:
    """Preferences as the API shows them."""
    return {
        "email": prefs.email,
        "webhook": prefs.webhook,
        "inbox": prefs.inbox,
        "digest": prefs.digest,
        "digest_hour": prefs.digest_hour,
        "muted_categories": sorted(prefs.muted_categories),
        "quiet_start": prefs.quiet_start.strftime("%H:%M") if prefs.quiet_start else None,
        "quiet_end": prefs.quiet_end.strftime("%H:%M") if prefs.quiet_end else None,
    }


def preferences_from(document: dict[str, Any]) -> Preferences:
    """Validated API input as preferences."""
    start, end = document.get("quiet_start"), document.get("quiet_end")
    return Preferences(
        email=document["email"],
        webhook=document["webhook"],
        inbox=document["inbox"],
        digest=document["digest"],
        digest_hour=document["digest_hour"],
        muted_categories=frozenset(document["muted_categories"]),
        quiet_start=time.fromisoformat(start) if start else None,
        quiet_end=time.fromisoformat(end) if end else None,
    )


@blp.route("/webhooks")
class Webhooks(MethodView):
    @blp.token()
    @blp.response(200, EndpointOut(many=True), example=[ex.ENDPOINT])
    def get(self) -> list[Any]:
        """Your organisation's webhook endpoints (without their secrets)."""
        with unit_of_work(services().sessions) as session:
            return endpoints_of(session, api_organisation())

    @blp.token()
    @blp.arguments(EndpointIn, example=ex.ENDPOINT_IN)
    @blp.response(201, NewEndpointOut, example=ex.NEW_ENDPOINT)
    def post(self, endpoint: dict[str, Any]) -> Any:
        """Register an endpoint; the answer carries its signing secret, this once."""
        organisation_id = api_organisation()
        url = endpoint["url"].strip()
        try:
            services().check_webhook_url(url)
        except UnsafeUrl as exc:
            api_error(400, "This URL cannot receive webhooks.", {"url": [str(exc)]})
        with unit_of_work(services().sessions) as session:
            return add_endpoint(session, organisation_id, url, endpoint["description"])


@blp.route("/webhooks/<endpoint_id>")
class Webhook(MethodView):
    @blp.token(404)
    @blp.response(204)
    def delete(self, endpoint_id: str) -> None:
        """Stop sending to an endpoint."""
        organisation_id = api_organisation()
        with unit_of_work(services().sessions) as session:
            if not is_id(endpoint_id) or not remove_endpoint(session, organisation_id, endpoint_id):
                api_error(404, "No such webhook endpoint for your organisation.")


@blp.route("/notification-preferences")
class NotificationPreferences(MethodView):
    @blp.token()
    @blp.response(200, PreferencesSchema, example=ex.PREFERENCES)
    def get(self) -> dict[str, Any]:
        """Your organisation's preferences (its contact address, webhooks and inbox)."""
        organisation_id = api_organisation()
        with unit_of_work(services().sessions) as session:
            return preferences_document(load_preferences(session, organisation_id, CONTACT))

    @blp.token()
    @blp.arguments(PreferencesSchema, example=ex.PREFERENCES)
    @blp.response(200, PreferencesSchema, example=ex.PREFERENCES)
    def put(self, document: dict[str, Any]) -> dict[str, Any]:
        """Replace the preferences; they apply from the next alert on."""
        organisation_id = api_organisation()
        unknown = [c for c in document["muted_categories"] if not services().known_category(c)]
        if unknown:
            api_error(
                400, "Unknown category.", {"muted_categories": [f"unknown: {', '.join(unknown)}"]}
            )
        prefs = preferences_from(document)
        with unit_of_work(services().sessions) as session:
            save_preferences(session, organisation_id, CONTACT, prefs)
        return preferences_document(prefs)
