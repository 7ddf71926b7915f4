"""REST API of the listings service under /api/v1 (OpenAPI from these schemas)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from werkzeug.exceptions import NotFound

from listings.domain import Listing
from listings.service import ListingService
from shared.event_schemas import LISTING_KINDS, UNITS
from shared.web import Blueprint

blp = Blueprint("listings_api", __name__, url_prefix="/api/v1", description="Offers and needs")


class LocationIn(Schema):
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))


class ListingIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(LISTING_KINDS))
    title = fields.String(required=True, validate=validate.Length(min=3, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    category = fields.String(required=True, validate=validate.Length(min=1, max=100))
    quantity = fields.Float(
        required=True, validate=validate.Range(min=0, min_inclusive=False, max=1e9)
    )
    unit = fields.String(required=True, validate=validate.OneOf(UNITS))
    location = fields.Nested(LocationIn, required=True)
    radius_km = fields.Float(required=True, validate=validate.Range(min=0, max=500))
    draft = fields.Boolean(load_default=False)

    @validates_schema
    def _category_is_known(self, data: dict[str, Any], **_: Any) -> None:
        known = current_app.extensions["boucle.categories"]
        if known is not None and data.get("category") not in known:
            raise ValidationError("unknown category; see GET /api/v1/categories", "category")


class ListingOut(Schema):
    id = fields.String()
    organisation_id = fields.String()
    kind = fields.String()
    status = fields.String()
    title = fields.String()
    description = fields.String()
    category = fields.String()
    quantity = fields.Float()
    unit = fields.String()
    location = fields.Method("_location")
    radius_km = fields.Float()
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()

    def _location(self, listing: Listing) -> dict[str, float]:
        return {"lat": listing.lat, "lon": listing.lon}


def _service() -> ListingService:
    return current_app.extensions["boucle.listing_service"]


@blp.route("/listings")
class Listings(MethodView):
    @blp.arguments(ListingIn)
    @blp.response(201, ListingOut)
    def post(self, payload: dict[str, Any]) -> Listing:
        """Post an offer or a need; it is published at once unless saved as a draft."""
        return _service().create(payload)


@blp.route("/listings/<listing_id>")
class ListingById(MethodView):
    @blp.response(200, ListingOut)
    def get(self, listing_id: str) -> Listing:
        """One listing by id."""
        listing = _service().get(listing_id)
        if listing is None:
            raise NotFound("no such listing")
        return listing
