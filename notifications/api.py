"""REST API of the notifier under /api/v1."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from notifications.store import AlertStore
from shared.web import Blueprint

blp = Blueprint("alerts_api", __name__, url_prefix="/api/v1", description="Alerts")


class AlertQuery(Schema):
    listing_id = fields.String(required=True, validate=validate.Length(min=1, max=36))


class AlertOut(Schema):
    id = fields.String()
    match_id = fields.String()
    listing_id = fields.String()
    organisation_id = fields.String()
    role = fields.String()
    counterpart_listing_id = fields.String()
    counterpart_title = fields.String()
    category = fields.String()
    quantity = fields.Float()
    unit = fields.String()
    distance_km = fields.Float()
    score = fields.Float()
    status = fields.String()
    created_at = fields.AwareDateTime()


@blp.route("/alerts")
class Alerts(MethodView):
    @blp.arguments(AlertQuery, location="query")
    @blp.response(200, AlertOut(many=True))
    def get(self, query: dict[str, Any]) -> list[Any]:
        """Alerts about one listing, newest first."""
        store: AlertStore = current_app.extensions["boucle.alert_store"]
        return store.for_listing(query["listing_id"])
