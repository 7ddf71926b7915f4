"""Wire schemas of the event data, one per event type, with the version each type is at.

Consumers are tolerant readers: unknown fields are dropped, so a producer may add optional
fields without breaking them. Removing or changing a field means a new schema version.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

LISTING_KINDS = ("offer", "need")
LISTING_STATUSES = ("draft", "published", "reserved", "closed", "withdrawn", "expired")
UNITS = ("kg", "t", "m3", "l", "pieces", "pallets")


class _Tolerant(Schema):
    class Meta:
        unknown = EXCLUDE


class LocationSchema(_Tolerant):
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    place = fields.String(load_default=None, allow_none=True)
    country = fields.String(load_default=None, allow_none=True, validate=validate.Length(equal=2))


class ListingDataSchema(_Tolerant):
    """A listing's full current state: compaction keeps exactly what a restart needs."""

    id = fields.String(required=True)
    organisation_id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(LISTING_KINDS))
    status = fields.String(required=True, validate=validate.OneOf(LISTING_STATUSES))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    category = fields.String(required=True, validate=validate.Length(min=1, max=100))
    quantity = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False))
    min_quantity = fields.Float(load_default=None, allow_none=True)
    unit = fields.String(required=True, validate=validate.OneOf(UNITS))
    location = fields.Nested(LocationSchema, required=True)
    radius_km = fields.Float(required=True, validate=validate.Range(min=0, max=1000))
    delivery_radius_km = fields.Float(load_default=None, allow_none=True)
    available_from = fields.AwareDateTime(load_default=None, allow_none=True)
    available_until = fields.AwareDateTime(load_default=None, allow_none=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    updated_at = fields.AwareDateTime(required=True)


class MatchSideSchema(_Tolerant):
    listing_id = fields.String(required=True)
    organisation_id = fields.String(required=True)
    title = fields.String(required=True)
    category = fields.String(required=True)
    quantity = fields.Float(required=True)
    unit = fields.String(required=True)
    location = fields.Nested(LocationSchema, required=True)


class MatchReasonsSchema(_Tolerant):
    distance_km = fields.Float(required=True, validate=validate.Range(min=0))
    category_relation = fields.String(
        required=True, validate=validate.OneOf(("same", "parent", "ancestor"))
    )


class MatchDataSchema(_Tolerant):
    """A pairing of one offer and one need, with why they were paired."""

    match_id = fields.String(required=True)
    offer = fields.Nested(MatchSideSchema, required=True)
    need = fields.Nested(MatchSideSchema, required=True)
    score = fields.Float(required=True, validate=validate.Range(min=0, max=1))
    reasons = fields.Nested(MatchReasonsSchema, required=True)


_LISTING = ListingDataSchema()
_MATCH = MatchDataSchema()

LISTING_EVENT_TYPES = tuple(
    f"boucle.listing.{change}"
    for change in ("published", "updated", "reserved", "closed", "withdrawn", "expired")
)
MATCH_FOUND = "boucle.match.found"
MATCH_RETRACTED = "boucle.match.retracted"

#: event type -> (newest schema version this code reads and writes, data schema)
EVENT_SCHEMAS: dict[str, tuple[int, Schema]] = {
    **{event_type: (1, _LISTING) for event_type in LISTING_EVENT_TYPES},
    MATCH_FOUND: (1, _MATCH),
    MATCH_RETRACTED: (1, _MATCH),
}
