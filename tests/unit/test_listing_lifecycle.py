"""The listing lifecycle and expiry rules, as plain data."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from listings.domain import Listing, TransitionError, apply_action, event_type_for
from shared.events import Event, encode_event

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def listing(**overrides: object) -> Listing:
    base: dict[str, object] = dict(
        kind="offer",
        title="Apples",
        category="produce-fruit-apples",
        quantity=100,
        unit="kg",
        lat=49.5,
        lon=6.0,
        radius_km=0,
        organisation_id="org",
        status="published",
    )
    base.update(overrides)
    return Listing(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("start", "action", "end"),
    [
        ("draft", "publish", "published"),
        ("published", "reserve", "reserved"),
        ("reserved", "release", "published"),
        ("reserved", "close", "closed"),
        ("published", "withdraw", "withdrawn"),
        ("draft", "withdraw", "withdrawn"),
    ],
)
def test_allowed_actions_move_the_listing_on_and_bump_its_version(start, action, end):
    changed = apply_action(listing(status=start), action, NOW)
    assert (changed.status, changed.version, changed.updated_at) == (end, 2, NOW)


@pytest.mark.parametrize(
    ("start", "action"),
    [
        ("closed", "reserve"),
        ("withdrawn", "publish"),
        ("published", "publish"),
        ("expired", "close"),
    ],
)
def test_actions_the_status_does_not_allow_are_refused(start, action):
    with pytest.raises(TransitionError, match=action):
        apply_action(listing(status=start), action, NOW)


def test_a_listing_expires_at_the_earlier_of_its_window_and_its_use_by_date():
    produce = listing(available_until=NOW + timedelta(days=10), use_by=date(2026, 11, 28))
    assert produce.expires_at() == datetime(2026, 11, 28, 23, 59, 59, 999999, tzinfo=UTC)
    assert not produce.is_due_to_expire(NOW)
    assert produce.is_due_to_expire(NOW + timedelta(days=3))


def test_closed_or_open_ended_listings_never_expire():
    assert not listing(status="closed", use_by=date(2020, 1, 1)).is_due_to_expire(NOW)
    assert not listing().is_due_to_expire(NOW + timedelta(days=3650))


def test_drafts_publish_nothing_and_other_changes_say_what_happened():
    assert event_type_for(listing(status="draft"), first_publication=True) is None
    assert event_type_for(listing(), first_publication=True) == "boucle.listing.published"
    assert event_type_for(listing(), first_publication=False) == "boucle.listing.updated"
    assert event_type_for(listing(status="withdrawn"), False) == "boucle.listing.withdrawn"


def test_an_offer_with_a_delivery_radius_says_so_in_its_event():
    assert listing(radius_km=30).event_data().delivery_radius_km == 30
    assert listing(radius_km=0).event_data().delivery_radius_km is None
    assert listing(kind="need", radius_km=30).event_data().delivery_radius_km is None
    offer = listing(radius_km=30)
    wire = json.loads(
        encode_event(Event("boucle.listing.published", "/t", offer.id, offer.event_data()))
    )
    assert wire["data"]["delivery_radius_km"] == 30
