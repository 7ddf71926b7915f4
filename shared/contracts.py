"""Typed event contracts: one frozen dataclass per kind of event data. Plain Python.

`shared.event_schemas` holds the marshmallow schema of each (the wire contract and its
validation, per version); decoding an event gives one of these, so handlers dispatch on the
type (`match event.data: case MatchFound(): ...`) instead of taking dicts apart by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

PUBLISHED = "published"
#: How an offer is priced; the matcher stores a mode as its position here.
PRICE_MODES = ("free", "per_unit", "negotiable")


@dataclass(frozen=True, slots=True)
class Location:
    """A point, and the place and country it was resolved to when known."""

    lat: float
    lon: float
    place: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class Price:
    """How an offer is priced; `amount` per unit when `mode` is "per_unit"."""

    mode: str
    amount: float | None = None
    currency: str = "EUR"


@dataclass(frozen=True, slots=True)
class ListingChanged:
    """A listing's full current state (every `boucle.listing.*` event carries one).

    `radius_km` is how far a need's poster will collect (for an offer: 0, or how far it
    delivers, as `delivery_radius_km`); `available_until` and `use_by` bound its life.
    """

    id: str
    organisation_id: str
    kind: str
    status: str
    title: str
    category: str
    quantity: float
    unit: str
    location: Location
    radius_km: float
    version: int
    updated_at: datetime
    description: str = ""
    min_quantity: float | None = None
    delivery_radius_km: float | None = None
    available_from: datetime | None = None
    available_until: datetime | None = None
    use_by: date | None = None
    recurrence: str = "one-off"
    price: Price | None = None
    #: What accepted exchanges have not taken yet; None: all of `quantity`.
    remaining_quantity: float | None = None
    #: A need's highest price per unit it accepts (0: free offers only; None: any price).
    max_price: float | None = None

    @property
    def available(self) -> float:
        """The quantity still on offer (or still needed): what matching uses."""
        return self.quantity if self.remaining_quantity is None else self.remaining_quantity

    @property
    def is_published(self) -> bool:
        """True while the listing is open to matching."""
        return self.status == PUBLISHED


@dataclass(frozen=True, slots=True)
class Member:
    """A person who logs in for an organisation."""

    id: str
    email: str
    name: str = ""
    language: str = "en"
    role: str = "member"
    #: Whether the member confirmed this address; nothing is e-mailed to it until then.
    #: Events from before confirmation existed say nothing, and are read as confirmed.
    email_verified: bool = True
    #: owner (manages the organisation, its members and its data) or member
    organisation_role: str = "owner"


@dataclass(frozen=True, slots=True)
class OrganisationChanged:
    """An organisation's full current state (compacted topic, keyed by organisation id).

    `api_token_hashes` are SHA-256 digests of its live API tokens, so every service can
    authenticate a bearer token without reading the listings tables.
    """

    id: str
    name: str
    kind: str
    country: str
    contact_email: str
    language: str
    version: int
    updated_at: datetime
    place: str = ""
    location: Location | None = None
    members: tuple[Member, ...] = ()
    api_token_hashes: tuple[str, ...] = ()
    contact_email_verified: bool = True
    description: str = ""
    website: str = ""


@dataclass(frozen=True, slots=True)
class OrganisationDeleted:
    """An organisation left Boucle: every service erases what it holds about it.

    Published on the organisations topic, followed by a tombstone for its key, so a
    consumer reading the compacted topic from the start finds nothing of it.
    """

    id: str
    deleted_at: datetime


@dataclass(frozen=True, slots=True)
class AccountMailRequested:
    """An e-mail the listings service needs sent to a person (the notifier sends it).

    `kind` says which (confirm an address, reset a password, an invitation); `link` is
    the signed, expiring, single-use link the message carries.
    """

    id: str
    kind: str
    to: str
    language: str
    link: str
    expires_at: datetime
    organisation_id: str
    organisation_name: str = ""
    member_name: str = ""
    invited_by: str = ""


@dataclass(frozen=True, slots=True)
class MatchSide:
    """One listing of a match, at the version the match was computed from.

    `version` 0 means unknown (events written before schema version 2 of matches).
    """

    listing_id: str
    organisation_id: str
    title: str
    category: str
    quantity: float
    unit: str
    location: Location
    version: int = 0
    min_quantity: float | None = None
    available_until: datetime | None = None
    #: what the offer costs (None: not said); shown with every alert
    price: Price | None = None


@dataclass(frozen=True, slots=True)
class MatchReasons:
    """Why the pair was made; every field is shown to the two parties."""

    distance_km: float
    category_relation: str
    quantity_fit: str = "full"
    days_left: int | None = None
    cross_border: bool = False
    countries: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MatchFound:
    """An offer and a need that fit, as of the two listing versions named in the sides."""

    match_id: str
    offer: MatchSide
    need: MatchSide
    score: float
    reasons: MatchReasons

    def side(self, listing_id: str) -> MatchSide | None:
        """The side of `listing_id`, or None when it is not part of the match."""
        return next((s for s in (self.offer, self.need) if s.listing_id == listing_id), None)


@dataclass(frozen=True, slots=True)
class MatchRetracted:
    """A pair that no longer holds as of the versions named in the sides, and why."""

    match_id: str
    offer: MatchSide
    need: MatchSide
    score: float
    reasons: MatchReasons
    reason: str = "match retracted"


@dataclass(frozen=True, slots=True)
class MatchesSettled:
    """The matcher has published every current match of a listing at `version`.

    It follows those matches on the same partition (all keyed by the listing id), so a
    reader that sees it knows that a match of this listing computed from an older version,
    and not found again, no longer holds; and none holds once the listing left `published`.
    """

    listing_id: str
    kind: str
    version: int
    status: str

    @property
    def is_published(self) -> bool:
        """True while the listing is open to matching."""
        return self.status == PUBLISHED


MatchEvent = MatchFound | MatchRetracted | MatchesSettled


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """The outcome of one attempt to deliver one alert on one channel."""

    delivery_id: str
    match_id: str
    organisation_id: str
    recipient: str  # an e-mail address, an endpoint id, an organisation id (inbox)
    channel: str
    outcome: str
    attempt: int
    error: str | None = None
    next_attempt_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ExchangeChanged:
    """An exchange's full state after one step (`boucle.exchange.<step>`).

    `owner_organisation_id` posted the listing; `requester_organisation_id` asked for it.
    `awaiting` is the organisation whose answer is awaited (None once answered). On
    `message_posted`, `message` and `author_organisation_id` carry the new message.
    """

    id: str
    listing_id: str
    listing_kind: str
    listing_title: str
    owner_organisation_id: str
    requester_organisation_id: str
    quantity: float
    unit: str
    status: str
    version: int
    updated_at: datetime
    awaiting: str | None = None
    window_from: datetime | None = None
    window_until: datetime | None = None
    expires_at: datetime | None = None
    owner_handed_over: float | None = None
    requester_handed_over: float | None = None
    problem: str | None = None
    message: str | None = None
    author_organisation_id: str | None = None
    repeats: str = "one-off"
    series_id: str | None = None
    occurrence: int = 1


EventData = (
    ListingChanged
    | OrganisationChanged
    | MatchFound
    | MatchRetracted
    | MatchesSettled
    | DeliveryOutcome
    | ExchangeChanged
    | OrganisationDeleted
    | AccountMailRequested
)
