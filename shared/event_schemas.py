"""Wire schemas of the event data, one per event type, with the version each type is at.

Consumers are tolerant readers: unknown fields are dropped, so a producer may add optional
fields without breaking them. Removing or changing a field means a new schema version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, post_load, validate

from shared import contracts

LISTING_KINDS = ("offer", "need")
LISTING_STATUSES = ("draft", "published", "reserved", "closed", "withdrawn", "expired")
UNITS = ("kg", "g", "t", "m3", "l", "pieces", "pallets", "crates")
RECURRENCES = ("one-off", "weekly", "monthly")
PRICE_MODES = contracts.PRICE_MODES
LANGUAGES = ("fr", "de", "en", "lb")
ORGANISATION_KINDS = ("business", "association", "farm", "public_body", "other")
ROLES = ("member", "admin")
#: A member's place in its own organisation (ROLES is its place in the exchange).
ORGANISATION_ROLES = ("owner", "member")
ACCOUNT_MAIL_KINDS = ("confirm_email", "reset_password", "invitation")
CHANNELS = ("email", "webhook", "inbox")
DELIVERY_OUTCOMES = ("sent", "failed", "retried", "dead_lettered", "skipped")
EXCHANGE_STATUSES = (
    "requested",
    "countered",
    "accepted",
    "declined",
    "cancelled",
    "expired",
    "completed",
)
#: every status is also the step that leads to it; then the steps that keep the status
EXCHANGE_STEPS = (
    *EXCHANGE_STATUSES,
    "message_posted",
    "handed_over",
    "problem_reported",
    "repeat_stopped",
)


class _Tolerant(Schema):
    """Drops unknown fields; `load` builds the contract's dataclass (`made_of`)."""

    made_of: type | None = None

    class Meta:
        unknown = EXCLUDE

    @post_load
    def _make(self, data: dict[str, Any], **_kwargs: Any) -> Any:
        if self.made_of is None:
            return data
        # Lists become tuples: the dataclasses are frozen, and so should their parts be.
        return self.made_of(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


class LocationSchema(_Tolerant):
    made_of = contracts.Location

    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    place = fields.String(load_default=None, allow_none=True)
    country = fields.String(load_default=None, allow_none=True, validate=validate.Length(equal=2))


class PriceSchema(_Tolerant):
    made_of = contracts.Price

    mode = fields.String(required=True, validate=validate.OneOf(PRICE_MODES))
    amount = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0))
    currency = fields.String(load_default="EUR")


class ListingDataSchema(_Tolerant):
    """A listing's full current state: compaction keeps exactly what a restart needs.

    `radius_km` is how far a need's poster will collect (for an offer: 0, or how far it
    will deliver, the same as `delivery_radius_km`). `available_until` is when the listing
    expires; produce may carry a `use_by` date, which bounds it too.
    """

    made_of = contracts.ListingChanged

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
    remaining_quantity = fields.Float(
        load_default=None, allow_none=True, validate=validate.Range(min=0)
    )
    max_price = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0))


class MatchSideSchema(_Tolerant):
    made_of = contracts.MatchSide

    listing_id = fields.String(required=True)
    organisation_id = fields.String(required=True)
    title = fields.String(required=True)
    category = fields.String(required=True)
    quantity = fields.Float(required=True)
    min_quantity = fields.Float(load_default=None, allow_none=True)
    unit = fields.String(required=True)
    location = fields.Nested(LocationSchema, required=True)
    version = fields.Integer(required=True, validate=validate.Range(min=0))
    price = fields.Nested(PriceSchema, load_default=None, allow_none=True)
    available_until = fields.AwareDateTime(load_default=None, allow_none=True)


class MatchReasonsSchema(_Tolerant):
    """Why the pair was made; every field is shown to the two parties."""

    made_of = contracts.MatchReasons

    distance_km = fields.Float(required=True, validate=validate.Range(min=0))
    category_relation = fields.String(
        required=True, validate=validate.OneOf(("same", "parent", "ancestor"))
    )
    quantity_fit = fields.String(load_default="full", validate=validate.OneOf(("full", "partial")))
    days_left = fields.Integer(load_default=None, allow_none=True)
    cross_border = fields.Boolean(load_default=False)
    countries = fields.List(fields.String(), load_default=list)


class MatchFoundSchema(_Tolerant):
    """A pairing of one offer and one need, with why they were paired.

    Version 2: each side names the listing `version` the match was computed from, so a
    reader can drop a match computed from versions older than ones it has seen.
    """

    made_of: type | None = contracts.MatchFound

    match_id = fields.String(required=True)
    offer = fields.Nested(MatchSideSchema, required=True)
    need = fields.Nested(MatchSideSchema, required=True)
    score = fields.Float(required=True, validate=validate.Range(min=0, max=1))
    reasons = fields.Nested(MatchReasonsSchema, required=True)


class MatchRetractedSchema(MatchFoundSchema):
    """The pair no longer holds as of the sides' versions; `retraction_reason` says why."""

    made_of = contracts.MatchRetracted

    reason = fields.String(
        data_key="retraction_reason",
        load_default="match retracted",
        validate=validate.Length(max=500),
    )


class MatchesSettledSchema(_Tolerant):
    """Every current match of the listing at `version` has been published before this."""

    made_of = contracts.MatchesSettled

    listing_id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(LISTING_KINDS))
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    status = fields.String(required=True, validate=validate.OneOf(LISTING_STATUSES))


class MemberSchema(_Tolerant):
    made_of = contracts.Member

    id = fields.String(required=True)
    email = fields.Email(required=True)
    name = fields.String(load_default="")
    language = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))
    role = fields.String(load_default="member", validate=validate.OneOf(ROLES))
    email_verified = fields.Boolean(load_default=True)
    organisation_role = fields.String(
        load_default="owner", validate=validate.OneOf(ORGANISATION_ROLES)
    )


class OrganisationDataSchema(_Tolerant):
    """An organisation's full current state (compacted topic, keyed by organisation id).

    `api_token_hashes` are SHA-256 hex digests of the organisation's live API tokens, so
    any service can authenticate a bearer token without reading the listings tables; a
    revoked token disappears from the next event.
    """

    made_of = contracts.OrganisationChanged

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
    contact_email_verified = fields.Boolean(load_default=True)
    description = fields.String(load_default="", validate=validate.Length(max=2000))
    website = fields.String(load_default="", validate=validate.Length(max=300))


class OrganisationDeletedSchema(_Tolerant):
    """An organisation left Boucle; its key's tombstone follows on the same topic."""

    made_of = contracts.OrganisationDeleted

    id = fields.String(required=True)
    deleted_at = fields.AwareDateTime(required=True)


class AccountMailSchema(_Tolerant):
    """An e-mail to a person about their account, sent by the notifier in their language."""

    made_of = contracts.AccountMailRequested

    id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(ACCOUNT_MAIL_KINDS))
    to = fields.Email(required=True)
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
    link = fields.Url(required=True, require_tld=False)
    expires_at = fields.AwareDateTime(required=True)
    organisation_id = fields.String(required=True)
    organisation_name = fields.String(load_default="")
    member_name = fields.String(load_default="")
    invited_by = fields.String(load_default="")


class DeliveryDataSchema(_Tolerant):
    """The outcome of one attempt to deliver one alert on one channel."""

    made_of = contracts.DeliveryOutcome

    delivery_id = fields.String(required=True)
    match_id = fields.String(required=True)
    organisation_id = fields.String(required=True)
    recipient = fields.String(required=True)  # an e-mail address, an endpoint id, a member id
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    outcome = fields.String(required=True, validate=validate.OneOf(DELIVERY_OUTCOMES))
    attempt = fields.Integer(required=True, validate=validate.Range(min=1))
    error = fields.String(load_default=None, allow_none=True)
    next_attempt_at = fields.AwareDateTime(load_default=None, allow_none=True)


LISTING_EVENT_TYPES = tuple(
    f"boucle.listing.{change}"
    for change in ("published", "updated", "reserved", "closed", "withdrawn", "expired")
)
MATCH_FOUND = "boucle.match.found"
MATCH_RETRACTED = "boucle.match.retracted"
MATCHES_SETTLED = "boucle.match.settled"
ORGANISATION_REGISTERED = "boucle.organisation.registered"
ORGANISATION_UPDATED = "boucle.organisation.updated"
ORGANISATION_DELETED = "boucle.organisation.deleted"
ACCOUNT_MAIL_REQUESTED = "boucle.account.mail_requested"
DELIVERY_EVENT_TYPES = tuple(f"boucle.delivery.{outcome}" for outcome in DELIVERY_OUTCOMES)
EXCHANGE_EVENT_TYPES = tuple(f"boucle.exchange.{step}" for step in EXCHANGE_STEPS)

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Contract:
    """An event type's current schema version, its schema, and how older versions upcast.

    `upcasters[v]` turns version v's data into version v + 1's; every published version
    stays readable by chaining them.
    """

    version: int
    schema: Schema
    upcasters: dict[int, Upcaster] = field(default_factory=dict)

    @property
    def made_of(self) -> type:
        """The dataclass this type's data decodes to."""
        made_of = getattr(self.schema, "made_of", None)
        assert made_of is not None
        return made_of

    def upcast(self, data: dict[str, Any], version: int) -> dict[str, Any]:
        """Version `version`'s raw data brought to the current version."""
        for step in range(version, self.version):
            data = self.upcasters[step](data)
        return data


def _sides_of_unknown_version(data: dict[str, Any]) -> dict[str, Any]:
    # Version 1 of matches did not say which listing versions a match came from.
    upcast = dict(data)
    for side in ("offer", "need"):
        if isinstance(upcast.get(side), dict):
            upcast[side] = {"version": 0, **upcast[side]}
    return upcast


class ExchangeDataSchema(_Tolerant):
    """An exchange's full state after one of its steps."""

    made_of = contracts.ExchangeChanged

    id = fields.String(required=True)
    listing_id = fields.String(required=True)
    listing_kind = fields.String(required=True, validate=validate.OneOf(LISTING_KINDS))
    listing_title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    owner_organisation_id = fields.String(required=True)
    requester_organisation_id = fields.String(required=True)
    quantity = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False))
    unit = fields.String(required=True, validate=validate.OneOf(UNITS))
    status = fields.String(required=True, validate=validate.OneOf(EXCHANGE_STATUSES))
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    updated_at = fields.AwareDateTime(required=True)
    awaiting = fields.String(load_default=None, allow_none=True)
    window_from = fields.AwareDateTime(load_default=None, allow_none=True)
    window_until = fields.AwareDateTime(load_default=None, allow_none=True)
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True)
    owner_handed_over = fields.Float(load_default=None, allow_none=True)
    requester_handed_over = fields.Float(load_default=None, allow_none=True)
    problem = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    message = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000))
    author_organisation_id = fields.String(load_default=None, allow_none=True)
    repeats = fields.String(load_default="one-off", validate=validate.OneOf(RECURRENCES))
    series_id = fields.String(load_default=None, allow_none=True)
    occurrence = fields.Integer(load_default=1, validate=validate.Range(min=1))


_LISTING = Contract(1, ListingDataSchema())
_ORGANISATION = Contract(1, OrganisationDataSchema())
_DELIVERY = Contract(1, DeliveryDataSchema())

#: event type -> its contract (the newest schema version this code reads and writes)
EVENT_SCHEMAS: dict[str, Contract] = {
    **{event_type: _LISTING for event_type in LISTING_EVENT_TYPES},
    MATCH_FOUND: Contract(2, MatchFoundSchema(), {1: _sides_of_unknown_version}),
    MATCH_RETRACTED: Contract(2, MatchRetractedSchema(), {1: _sides_of_unknown_version}),
    MATCHES_SETTLED: Contract(1, MatchesSettledSchema()),
    ORGANISATION_REGISTERED: _ORGANISATION,
    ORGANISATION_UPDATED: _ORGANISATION,
    ORGANISATION_DELETED: Contract(1, OrganisationDeletedSchema()),
    ACCOUNT_MAIL_REQUESTED: Contract(1, AccountMailSchema()),
    **{event_type: _DELIVERY for event_type in DELIVERY_EVENT_TYPES},
    **{event_type: Contract(1, ExchangeDataSchema()) for event_type in EXCHANGE_EVENT_TYPES},
}
