"""Organisations and their members as plain data, and the event that tells other services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from shared import contracts

SOURCE = "/boucle/listings/organisations"
ADMIN_ORGANISATION_NAME = "Boucle administrators"


@dataclass(frozen=True)
class Member:
    """A person who logs in for an organisation."""

    email: str
    organisation_id: str
    password_hash: str
    name: str = ""
    language: str = "en"
    role: str = "member"
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    email_verified: bool = False
    #: owner (manages the organisation, its members and its data) or member
    organisation_role: str = "owner"


@dataclass(frozen=True)
class Organisation:
    """A business, association, farm or public body of the exchange."""

    name: str
    kind: str
    country: str
    place: str
    contact_email: str
    language: str
    lat: float | None = None
    lon: float | None = None
    #: given to the other side of an exchange once it is accepted (never shown publicly)
    phone: str = ""
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    contact_email_verified: bool = False
    description: str = ""
    website: str = ""
    version: int = 1
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def organisation_event_data(
    organisation: Organisation, members: list[Member], token_digests: list[str]
) -> contracts.OrganisationChanged:
    """What the organisations topic carries: the full current state, live token digests."""
    location = None
    if organisation.lat is not None and organisation.lon is not None:
        location = contracts.Location(organisation.lat, organisation.lon, organisation.place)
    return contracts.OrganisationChanged(
        id=organisation.id,
        name=organisation.name,
        kind=organisation.kind,
        country=organisation.country,
        place=organisation.place,
        location=location,
        contact_email=organisation.contact_email,
        language=organisation.language,
        members=tuple(
            contracts.Member(
                m.id, m.email, m.name, m.language, m.role, m.email_verified, m.organisation_role
            )
            for m in members
        ),
        api_token_hashes=tuple(sorted(token_digests)),
        version=organisation.version,
        updated_at=organisation.updated_at,
        contact_email_verified=organisation.contact_email_verified,
        description=organisation.description,
        website=organisation.website,
    )
