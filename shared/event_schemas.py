"""Wire schemas of the event data, one per event type, with the version each type is at.

Consumers are tolerant readers: unknown fields are dropped, so a producer may add optional
fields without breaking them. Removing or changing a field means a new schema version.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

LISTING_KINDS = ("offer", "need")
LISTING_STATUSES = ("draft", "published", "reserved", "closed", "withdrawn", "expired")
UNITS = ("kg", "t", "m3", "l", "pieces", "pallets")
RECURRENCES = ("one-off", "weekly", "monthly")
PRICE_MODES = ("free", "per_unit", "negotiable")
LANGUAGES = ("fr", "de", "en")
ORGANISATION_KINDS = ("business", "association", "farm", "public_body", "other")
ROLES = ("member", "admin")
CHANNELS = ("email", "webhook", "inbox")
DELIVERY_OUTCOMES = ("sent", "failed", "retried", "dead_lettered", "skipped")


class _Tolerant(Schema):
    class Meta:
        unknown = EXCLUDE


class LocationSchema(_Tolerant):
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    place = fields.String(load_default=None, allow_none=True)
    country = fields.String(load_default=None, allow_none=True, validate=validate.Length(equal=2))


class PriceSchema(_Tolerant):
    mode = fields.String(required=True, validate=validate.OneOf(PRICE_MODES))
    amount = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0))
    currency = fields.String(load_default="EUR")


class ListingDataSchema(_Tolerant):
    """A listing's full current state: compaction keeps exactly what a restart needs.

    `radius_km` is how far a need's poster will collect (for an offer: 0, or how far it
    will deliver, the same as `delivery_radius_km`). `available_until` is when the listing
    expires; produce may carry a `use_by` date, which bounds it too.
    """

    id = fields.String(required=True)
    organisation_id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(LISTING_KINDS))
    status = fields.String(required=True, validate=validate.OneOf(LISTING_STATUSES))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="")
    category = fields.String(required=True, validate=validate.Length(min=1, max=100))
    quantity = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False))
    min_quantity = fields.Float(load_default=None, allow_none=True)
    unit = fields.String(required=True, validate=validate.OneOf(UNITS))
    location = fields.Nested(LocationSchema, required=True)
    radius_km = fields.Float(required=True, validate=validate.Range(min=0, max=1000))
    delivery_radius_km = fields.Float(load_default=None, allow_none=True)
    available_from = fields.AwareDateTime(load_default=None, allow_none=True)
    available_until = fields.AwareDateTime(load_default=None, allow_none=True)
    use_by = fields.Date(load_default=None, allow_none=True)
    recurrence = fields.String(load_default="one-off", validate=validate.OneOf(RECURRENCES))
    price = fields.Nested(PriceSchema, load_default=None, allow_none=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    updated_at = fields.AwareDateTime(required=True)


class MatchSideSchema(_Tolerant):
    listing_id = fields.String(required=True)
    organisation_id = fields.String(required=True)
    title = fields.String(required=True)
    category = fields.String(required=True)
    quantity = fields.Float(required=True)
    min_quantity = fields.Float(load_default=None, allow_none=True)
    unit = fields.String(required=True)
    location = fields.Nested(LocationSchema, required=True)
    available_until = fields.AwareDateTime(load_default=None, allow_none=True)


class MatchReasonsSchema(_Tolerant):
    """Why the pair was made; every field is shown to the two parties."""

    distance_km = fields.Float(required=True, validate=validate.Range(min=0))
    category_relation = fields.String(
        required=True, validate=validate.OneOf(("same", "parent", "ancestor"))
    )
    quantity_fit = fields.String(load_default="full", validate=validate.OneOf(("full", "partial")))
    days_left = fields.Integer(load_default=None, allow_none=True)
    cross_border = fields.Boolean(load_default=False)
    countries = fields.List(fields.String(), load_default=list)


class MatchDataSchema(_Tolerant):
    """A pairing of one offer and one need, with why they were paired.

    On `boucle.match.retracted` the same data says which pair no longer holds, and
    `retraction_reason` why (e.g. "offer withdrawn", "need expired", "out of range").
    """

    match_id = fields.String(required=True)
    offer = fields.Nested(MatchSideSchema, required=True)
    need = fields.Nested(MatchSideSchema, required=True)
    score = fields.Float(required=True, validate=validate.Range(min=0, max=1))
    reasons = fields.Nested(MatchReasonsSchema, required=True)
    retraction_reason = fields.String(load_default=None, allow_none=True)


class MemberSchema(_Tolerant):
    id = fields.String(required=True)
    email = fields.Email(required=True)
    name = fields.String(load_default="")
    language = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))
    role = fields.String(load_default="member", validate=validate.OneOf(ROLES))


class OrganisationDataSchema(_Tolerant):
    """An organisation's full current state (compacted topic, keyed by organisation id).

    `api_token_hashes` are SHA-256 hex digests of the organisation's live API tokens, so
    any service can authenticate a bearer token without reading the listings tables; a
    revoked token disappears from the next event.
    """

    id = fields.String(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(ORGANISATION_KINDS))
    country = fields.String(required=True, validate=validate.Length(equal=2))
    place = fields.String(load_default="")
    location = fields.Nested(LocationSchema, load_default=None, allow_none=True)
    contact_email = fields.Email(required=True)
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
    members = fields.List(fields.Nested(MemberSchema), load_default=list)
    api_token_hashes = fields.List(fields.String(), load_default=list)
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    updated_at = fields.AwareDateTime(required=True)


class DeliveryDataSchema(_Tolerant):
    """The outcome of one attempt to deliver one alert on one channel."""

    delivery_id = fields.String(required=True)
    match_id = fields.String(required=True)
    organisation_id = fields.String(required=True)
    recipient = fields.String(required=True)  # an e-mail address, an endpoint id, a member id
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    outcome = fields.String(required=True, validate=validate.OneOf(DELIVERY_OUTCOMES))
    attempt = fields.Integer(required=True, validate=validate.Range(min=1))
    error = fields.String(load_default=None, allow_none=True)
    next_attempt_at = fields.AwareDateTime(load_default=None, allow_none=True)


_LISTING = ListingDataSchema()
_MATCH = MatchDataSchema()
_ORGANISATION = OrganisationDataSchema()
_DELIVERY = DeliveryDataSchema()

LISTING_EVENT_TYPES = tuple(
    f"boucle.listing.{change}"
    for change in ("published", "updated", "reserved", "closed", "withdrawn", "expired")
)
MATCH_FOUND = "boucle.match.found"
MATCH_RETRACTED = "boucle.match.retracted"
ORGANISATION_REGISTERED = "boucle.organisation.registered"
ORGANISATION_UPDATED = "boucle.organisation.updated"
DELIVERY_EVENT_TYPES = tuple(f"boucle.delivery.{outcome}" for outcome in DELIVERY_OUTCOMES)

#: event type -> (newest schema version this code reads and writes, data schema)
EVENT_SCHEMAS: dict[str, tuple[int, Schema]] = {
    **{event_type: (1, _LISTING) for event_type in LISTING_EVENT_TYPES},
    MATCH_FOUND: (1, _MATCH),
    MATCH_RETRACTED: (1, _MATCH),
    ORGANISATION_REGISTERED: (1, _ORGANISATION),
    ORGANISATION_UPDATED: (1, _ORGANISATION),
    **{event_type: (1, _DELIVERY) for event_type in DELIVERY_EVENT_TYPES},
}
