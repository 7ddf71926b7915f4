"""Wire schemas of the listings REST API (the OpenAPI document is generated from them)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.category_search import category_of_code, ewc_code
from shared.event_schemas import (
    LANGUAGES,
    LISTING_KINDS,
    ORGANISATION_KINDS,
    PRICE_MODES,
    RECURRENCES,
    UNITS,
)
from shared.text import CONTROL_CHARACTERS

COUNTRIES = ("LU", "FR", "DE", "BE")


class Text(fields.String):
    """A string without control characters (tabs and line breaks allowed): what people type."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if CONTROL_CHARACTERS.search(text):
            raise ValidationError("contains control characters")
        return text


class CategoryId(Text):
    """A category id, or the EWC code of one ("15 01 03" or "150103" is `ewc-150103`)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        taxonomy = current_app.extensions["boucle.taxonomy"]
        if text in taxonomy or ewc_code(text) is None:
            return text
        found = category_of_code(taxonomy, text)
        if found is None:
            raise ValidationError(
                f"no category has the EWC code {ewc_code(text)}; see GET /api/v1/categories"
            )
        return found


ACTIONS = ("publish", "reserve", "release", "close", "withdraw")


class LocationIn(Schema):
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))


class PriceIn(Schema):
    mode = Text(required=True, validate=validate.OneOf(PRICE_MODES))
    amount = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0))

    @validates_schema
    def _amount_for_unit_price(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("mode") == "per_unit" and data.get("amount") is None:
            raise ValidationError("a price per unit needs an amount", "amount")


class ListingIn(Schema):
    """An offer or a need. Give either `location` (lat/lon) or `place` (a place name)."""

    kind = Text(required=True, validate=validate.OneOf(LISTING_KINDS))
    title = Text(required=True, validate=validate.Length(min=3, max=200))
    description = Text(load_default="", validate=validate.Length(max=5000))
    category = CategoryId(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "a category id, or its EWC code (15 01 03 or 150103)"},
    )
    quantity = fields.Float(
        required=True, validate=validate.Range(min=0, min_inclusive=False, max=1e9)
    )
    min_quantity = fields.Float(
        load_default=None, allow_none=True, validate=validate.Range(min=0, min_inclusive=False)
    )
    unit = Text(required=True, validate=validate.OneOf(UNITS))
    location = fields.Nested(LocationIn, load_default=None)
    place = Text(load_default=None, validate=validate.Length(min=2, max=200))
    radius_km = fields.Float(required=True, validate=validate.Range(min=0, max=500))
    available_from = fields.AwareDateTime(load_default=None, allow_none=True)
    available_until = fields.AwareDateTime(load_default=None, allow_none=True)
    use_by = fields.Date(load_default=None, allow_none=True)
    recurrence = Text(load_default="one-off", validate=validate.OneOf(RECURRENCES))
    price = fields.Nested(PriceIn, load_default=None, allow_none=True)
    max_price = fields.Float(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=0, max=1e6),
        metadata={"description": "needs only: highest price per unit accepted, 0 for free only"},
    )
    draft = fields.Boolean(load_default=False)

    @validates_schema
    def _consistent(self, data: dict[str, Any], partial: Any = None, **_: Any) -> None:
        taxonomy = current_app.extensions["boucle.taxonomy"]
        errors: dict[str, list[str]] = {}
        if "category" in data and data["category"] not in taxonomy:
            errors["category"] = ["unknown category; see GET /api/v1/categories"]
        if not partial and data.get("location") is None and not data.get("place"):
            errors["location"] = ["give a location (lat, lon) or a place name"]
        start, end = data.get("available_from"), data.get("available_until")
        if start and end and end <= start:
            errors["available_until"] = ["must be after available_from"]
        minimum, quantity = data.get("min_quantity"), data.get("quantity")
        if data.get("max_price") is not None and data.get("kind") == "offer":
            errors["max_price"] = ["only a need has a maximum price; an offer states its price"]
        if minimum is not None and data.get("kind") == "offer":
            errors["min_quantity"] = ["only a need has a minimum quantity"]
        elif minimum is not None and quantity is not None and minimum > quantity:
            errors["min_quantity"] = ["cannot exceed the quantity"]
        if errors:
            raise ValidationError(errors)


class ListingPatchIn(ListingIn):
    """The fields to change (use with partial=True); the kind of a listing cannot change."""


class LocationOut(Schema):
    lat = fields.Float()
    lon = fields.Float()
    place = fields.String()
    country = fields.String(allow_none=True)


class ListingOut(Schema):
    id = fields.String()
    organisation_id = fields.String()
    kind = fields.String()
    status = fields.String()
    title = fields.String()
    description = fields.String()
    category = fields.String()
    quantity = fields.Float()
    remaining_quantity = fields.Function(
        lambda listing: listing.available,
        metadata={"description": "what accepted exchanges have not taken yet"},
    )
    min_quantity = fields.Float(allow_none=True)
    max_price = fields.Float(allow_none=True)
    unit = fields.String()
    location = fields.Function(
        lambda listing: {
            "lat": listing.lat,
            "lon": listing.lon,
            "place": listing.place,
            "country": listing.country,
        }
    )
    radius_km = fields.Float()
    available_from = fields.AwareDateTime(allow_none=True)
    available_until = fields.AwareDateTime(allow_none=True)
    use_by = fields.Date(allow_none=True)
    expires_at = fields.Function(lambda listing: _iso(listing.expires_at()))
    recurrence = fields.String()
    price = fields.Function(lambda item: {"mode": item.price_mode, "amount": item.price_amount})
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


class ActionIn(Schema):
    action = Text(required=True, validate=validate.OneOf(ACTIONS))


class SearchArgs(Schema):
    kind = Text(validate=validate.OneOf(LISTING_KINDS))
    category = CategoryId(metadata={"description": "a category id, or its EWC code"})
    near = Text(metadata={"description": "lat,lon"})
    place = Text()
    radius_km = fields.Float(load_default=50, validate=validate.Range(min=0, max=500))
    q = Text(validate=validate.Length(max=100))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))

    @validates_schema
    def _known_category_and_point(self, data: dict[str, Any], **_: Any) -> None:
        if "category" in data and data["category"] not in current_app.extensions["boucle.taxonomy"]:
            raise ValidationError("unknown category; see GET /api/v1/categories", "category")
        if "near" in data:
            try:
                lat, lon = (float(part) for part in data["near"].split(","))
            except ValueError as exc:
                raise ValidationError("expected lat,lon e.g. 49.61,6.13", "near") from exc
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValidationError("latitude or longitude out of range", "near")


class SearchHitOut(Schema):
    listing = fields.Nested(ListingOut)
    distance_km = fields.Float(allow_none=True)


class SearchPageOut(Schema):
    hits = fields.List(fields.Nested(SearchHitOut))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class MatchOut(Schema):
    match_id = fields.String()
    counterpart_id = fields.String()
    counterpart_title = fields.String()
    counterpart_organisation_id = fields.String()
    counterpart_organisation_name = fields.String()
    score = fields.Float()
    reasons = fields.Dict()


class RegistrationIn(Schema):
    name = Text(required=True, validate=validate.Length(min=2, max=200))
    kind = Text(required=True, validate=validate.OneOf(ORGANISATION_KINDS))
    country = Text(required=True, validate=validate.OneOf(COUNTRIES))
    place = Text(required=True, validate=validate.Length(min=2, max=200))
    contact_email = fields.Email(required=True)
    phone = Text(
        load_default="",
        validate=validate.Regexp(
            r"^[0-9+()./ -]{0,40}$", error="digits, spaces and + ( ) . / - only"
        ),
        metadata={"description": "shown to the other side of an exchange once accepted"},
    )
    language = Text(load_default="en", validate=validate.OneOf(LANGUAGES))
    email = fields.Email(required=True, metadata={"description": "the first member's login"})
    password = Text(required=True, load_only=True, validate=validate.Length(min=10, max=200))
    member_name = Text(load_default="", validate=validate.Length(max=200))


class OrganisationOut(Schema):
    id = fields.String()
    name = fields.String()
    kind = fields.String()
    country = fields.String()
    place = fields.String()
    contact_email = fields.String()
    language = fields.String()
    description = fields.String()
    website = fields.String()
    phone = fields.String()
    contact_email_verified = fields.Boolean()


class ProfileIn(Schema):
    """The profile's fields to change (owners); a new contact e-mail is confirmed again."""

    name = Text(validate=validate.Length(min=2, max=200))
    kind = Text(validate=validate.OneOf(ORGANISATION_KINDS))
    description = Text(validate=validate.Length(max=2000))
    website = fields.Url(validate=validate.Length(max=300))
    contact_email = fields.Email()
    phone = Text(
        validate=validate.Regexp(
            r"^[0-9+()./ -]{0,40}$", error="digits, spaces and + ( ) . / - only"
        )
    )
    language = Text(validate=validate.OneOf(LANGUAGES))


class MemberOut(Schema):
    id = fields.String()
    name = fields.String()
    email = fields.String()
    language = fields.String()
    organisation_role = fields.String(metadata={"description": "owner or member"})
    email_verified = fields.Boolean()


class InviteIn(Schema):
    email = fields.Email(required=True)
    role = Text(load_default="member", validate=validate.OneOf(("owner", "member")))
    language = Text(load_default="en", validate=validate.OneOf(LANGUAGES))


class RoleIn(Schema):
    role = Text(required=True, validate=validate.OneOf(("owner", "member")))


class ForgotIn(Schema):
    email = fields.Email(required=True)


class RegistrationOut(Schema):
    organisation = fields.Nested(OrganisationOut)
    member_id = fields.String()
    api_token = fields.String(metadata={"description": "shown once; store it now"})


class TokenIn(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=100))


class TokenOut(Schema):
    id = fields.String()
    name = fields.String()
    created_at = fields.AwareDateTime()
    revoked_at = fields.AwareDateTime(allow_none=True)
    token = fields.String(metadata={"description": "only when just created"})


class CategoriesQuery(Schema):
    lang = Text(
        load_default="en",
        validate=validate.OneOf(LANGUAGES),
        metadata={"description": "language of each `label` (`labels` has them all)"},
    )


class CategoryOut(Schema):
    id = fields.String()
    label = fields.String(metadata={"description": "in the language asked for"})
    labels = fields.Dict(keys=fields.String(), values=fields.String())
    ewc = fields.String(allow_none=True, metadata={"description": "EU List of Waste code"})
    children = fields.List(fields.Nested(lambda: CategoryOut()))


class CategoryTreeOut(Schema):
    roots = fields.List(fields.Nested(CategoryOut))
