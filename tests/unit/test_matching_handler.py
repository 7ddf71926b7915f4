"""The work handler: matches published best first, retractions when a match stops holding."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from matching.handler import MatchingHandler
from matching.index import ListingIndex
from matching.replica import Replica, active_listing_from
from shared.event_schemas import MATCH_FOUND, MATCH_RETRACTED
from shared.events import Event, decode_event, encode_event
from shared.taxonomy import Taxonomy

TAXONOMY = Taxonomy.load_default()
NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)
METZ = (49.1193, 6.1757)
LUXEMBOURG = (49.6116, 6.1319)
NEAR_LUXEMBOURG = (49.60, 6.13)


def listing_event(
    listing_id: str, kind: str, where: tuple[float, float], version: int = 1, **data: Any
) -> Event:
    status = data.pop("status", "published")
    body: dict[str, Any] = {
        "id": listing_id,
        "organisation_id": f"org-{listing_id}",
        "kind": kind,
        "status": status,
        "title": f"{kind} {listing_id}",
        "category": "ewc-150103",
        "quantity": 10.0,
        "unit": "pallets",
        "location": {"lat": where[0], "lon": where[1], "place": None, "country": None},
        "radius_km": 80.0 if kind == "need" else 0.0,
        "version": version,
        "updated_at": NOW,
        **data,
    }
    change = "published" if status == "published" and version == 1 else status
    change = "updated" if change == "published" and version > 1 else change
    # Through the wire format, as the consumer would see it.
    return decode_event(encode_event(Event(f"boucle.listing.{change}", "/test", listing_id, body)))


class World:
    """A replica, a handler and what it published, without Kafka."""

    def __init__(self) -> None:
        self.published: list[Event] = []
        self.replica = Replica(ListingIndex(TAXONOMY))
        self.handler = MatchingHandler(self.replica, self._publish, clock=NOW.timestamp)

    def _publish(self, event: Event) -> None:
        decode_event(encode_event(event))  # the contract holds
        self.published.append(event)

    def arrive(self, *events: Event) -> list[Event]:
        """Replica catches up on all, then the work handler takes each (like one batch)."""
        start = len(self.published)
        for event in events:
            self.replica.apply(event)
        for event in events:
            self.handler(event)
        return self.published[start:]


def kinds(events: list[Event]) -> list[tuple[str, str]]:
    return [(e.type.rsplit(".", 1)[1], e.data["offer"]["listing_id"]) for e in events]


def test_a_new_need_gets_its_offers_published_best_first_with_reasons() -> None:
    world = World()
    world.arrive(
        listing_event("far", "offer", METZ), listing_event("near", "offer", NEAR_LUXEMBOURG)
    )
    published = world.arrive(listing_event("n", "need", LUXEMBOURG))
    assert kinds(published) == [("found", "near"), ("found", "far")]
    reasons = published[1].data["reasons"]
    assert 54 < reasons["distance_km"] < 56
    assert reasons["category_relation"] == "same" and reasons["quantity_fit"] == "full"
    assert published[0].data["score"] > published[1].data["score"]
    assert published[0].subject == published[0].data["match_id"]


def test_a_need_moved_out_of_range_retracts_its_match_and_says_why() -> None:
    world = World()
    world.arrive(listing_event("o", "offer", METZ), listing_event("n", "need", LUXEMBOURG))
    published = world.arrive(listing_event("n", "need", LUXEMBOURG, version=2, radius_km=20.0))
    [retraction] = published
    assert retraction.type == MATCH_RETRACTED
    assert retraction.data["retraction_reason"] == "need updated: out of range"


@pytest.mark.parametrize("status", ["withdrawn", "reserved", "closed", "expired"])
def test_a_listing_that_stops_being_published_retracts_every_match(status: str) -> None:
    world = World()
    world.arrive(
        listing_event("n1", "need", LUXEMBOURG),
        listing_event("n2", "need", NEAR_LUXEMBOURG),
        listing_event("o", "offer", METZ),
    )
    published = world.arrive(listing_event("o", "offer", METZ, version=2, status=status))
    assert {e.type for e in published} == {MATCH_RETRACTED}
    assert {e.data["need"]["listing_id"] for e in published} == {"n1", "n2"}
    assert {e.data["retraction_reason"] for e in published} == {f"offer {status}"}


def test_an_update_that_keeps_a_match_republishes_it_with_fresh_reasons() -> None:
    world = World()
    world.arrive(listing_event("o", "offer", METZ), listing_event("n", "need", LUXEMBOURG))
    [first] = world.arrive(listing_event("o", "offer", METZ, version=2, quantity=4.0))
    assert first.type == MATCH_FOUND and first.data["reasons"]["quantity_fit"] == "partial"


def test_a_version_already_replaced_in_the_replica_is_left_to_the_later_event() -> None:
    world = World()
    world.arrive(listing_event("o", "offer", METZ))
    world.arrive(listing_event("n", "need", LUXEMBOURG))
    # v2 moves out of range, v3 comes back: both reach the replica before the handler.
    published = world.arrive(
        listing_event("n", "need", LUXEMBOURG, version=2, radius_km=10.0),
        listing_event("n", "need", LUXEMBOURG, version=3, radius_km=90.0),
    )
    assert [e.type for e in published] == [MATCH_FOUND]


def test_after_a_restart_the_rebuilt_replica_still_retracts_on_a_redelivered_withdrawal() -> None:
    history = [
        listing_event("o", "offer", METZ),
        listing_event("n", "need", LUXEMBOURG),
        listing_event("o", "offer", METZ, version=2, status="withdrawn"),
    ]
    restarted = World()
    for event in history:
        restarted.replica.apply(event)  # rebuilt from the topic
    restarted.handler(history[-1])  # the uncommitted tail, handled again
    [retraction] = restarted.published
    assert retraction.data["retraction_reason"] == "offer withdrawn"


def test_a_failed_publish_is_retried_without_losing_the_retractions() -> None:
    world = World()
    world.arrive(listing_event("o", "offer", METZ), listing_event("n", "need", LUXEMBOURG))
    withdrawal = listing_event("n", "need", LUXEMBOURG, version=2, status="withdrawn")
    world.replica.apply(withdrawal)
    calls = {"n": 0}
    original = world.handler._publish

    def flaky(event: Event) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("broker away")
        original(event)

    world.handler._publish = flaky
    with pytest.raises(ConnectionError):
        world.handler(withdrawal)
    world.handler(withdrawal)
    assert [e.type for e in world.published[-1:]] == [MATCH_RETRACTED]


def test_replaced_versions_are_forgotten_after_their_time_to_live() -> None:
    clock = {"now": 0.0}
    replica = Replica(ListingIndex(TAXONOMY), ttl_s=60, clock=lambda: clock["now"])
    replica.apply(listing_event("n", "need", LUXEMBOURG))
    replica.apply(listing_event("n", "need", LUXEMBOURG, version=2, radius_km=5.0))
    assert [v.version for v in replica.superseded("n")] == [1]
    clock["now"] = 61.0
    replica.apply(listing_event("x", "need", METZ))
    assert replica.superseded("n") == []


def test_an_event_becomes_the_matchers_view_of_a_listing() -> None:
    until = NOW + timedelta(days=10)
    event = listing_event(
        "o",
        "offer",
        METZ,
        radius_km=25.0,
        available_until=until,
        use_by=date(2027, 3, 5),
        location={"lat": METZ[0], "lon": METZ[1], "place": "Metz", "country": "FR"},
    )
    listing = active_listing_from(event.data)
    assert listing.delivery_radius_km == 25.0  # an offer's radius is how far it delivers
    assert listing.ends_at == datetime(2027, 3, 6, tzinfo=UTC).timestamp()  # use-by, end of day
    assert (listing.place, listing.country) == ("Metz", "FR")
