"""The work handler and what readers make of it: current matches stand, the rest go."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from matching.handler import MatchingHandler
from matching.index import ListingIndex
from matching.replica import Replica, active_listing_from
from monitor.domain.activity import ActivityProjection
from shared.contracts import MatchesSettled, MatchFound
from shared.event_schemas import MATCH_FOUND, MATCHES_SETTLED
from shared.events import Event, decode_event, encode_event, typed_data
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
    event_type = f"boucle.listing.{change}"
    # Through the wire format, as the consumer would see it.
    event = Event(event_type, "/test", listing_id, typed_data(event_type, body))
    return decode_event(encode_event(event))


class World:
    """A replica, a handler, what it published (with keys) and a reader of it, no Kafka."""

    def __init__(self, now: datetime = NOW) -> None:
        self.published: list[tuple[str, Event]] = []
        self.replica = Replica(ListingIndex(TAXONOMY))
        self.handler = MatchingHandler(self.replica, self._publish, clock=now.timestamp)
        self.reader = ActivityProjection()

    def _publish(self, event: Event, key: str) -> None:
        decoded = decode_event(encode_event(event))  # the contract holds
        self.published.append((key, decoded))
        self.reader.apply(decoded.type, decoded.time, decoded.data)

    def arrive(self, *events: Event) -> list[Event]:
        """Replica catches up on all, then the work handler takes each (like one batch)."""
        start = len(self.published)
        for event in events:
            self.replica.apply(event)
            self.reader.apply(event.type, event.time, event.data)
        for event in events:
            self.handler(event)
        return [event for _, event in self.published[start:]]

    def standing(self) -> set[tuple[str, str]]:
        """(offer, need) of every match the reader shows."""
        return {
            (m["offer"]["listing_id"], m["need"]["listing_id"])
            for m in self.reader.matches.values()
        }


def found(events: list[Event]) -> list[MatchFound]:
    return [e.data for e in events if isinstance(e.data, MatchFound)]


def test_a_new_need_gets_its_offers_published_best_first_with_reasons() -> None:
    world = World()
    world.arrive(
        listing_event("far", "offer", METZ), listing_event("near", "offer", NEAR_LUXEMBOURG)
    )
    published = world.arrive(listing_event("n", "need", LUXEMBOURG))
    assert [e.type for e in published] == [MATCH_FOUND, MATCH_FOUND, MATCHES_SETTLED]
    near, far = found(published)
    assert (near.offer.listing_id, far.offer.listing_id) == ("near", "far")
    assert 54 < far.reasons.distance_km < 56
    assert far.reasons.category_relation == "same" and far.reasons.quantity_fit == "full"
    assert near.score > far.score
    assert (near.offer.version, near.need.version) == (1, 1)
    assert published[0].subject == near.match_id
    assert world.standing() == {("near", "n"), ("far", "n")}


def test_everything_published_for_a_listing_is_keyed_by_it_and_settled_last() -> None:
    world = World()
    world.arrive(listing_event("o", "offer", METZ))
    world.arrive(listing_event("n", "need", LUXEMBOURG))
    keys = [key for key, _ in world.published]
    assert keys == ["o", "n", "n"]
    settled = world.published[-1][1].data
    assert settled == MatchesSettled("n", "need", 1, "published")


def test_a_need_moved_out_of_range_loses_its_match_at_every_reader() -> None:
    world = World()
    world.arrive(listing_event("o", "offer", METZ), listing_event("n", "need", LUXEMBOURG))
    assert world.standing() == {("o", "n")}
    published = world.arrive(listing_event("n", "need", LUXEMBOURG, version=2, radius_km=20.0))
    assert [e.type for e in published] == [MATCHES_SETTLED]
    assert world.standing() == set()


@pytest.mark.parametrize("status", ["withdrawn", "reserved", "closed", "expired"])
def test_a_listing_that_stops_being_published_takes_every_match_with_it(status: str) -> None:
    world = World()
    world.arrive(
        listing_event("n1", "need", LUXEMBOURG),
        listing_event("n2", "need", NEAR_LUXEMBOURG),
        listing_event("o", "offer", METZ),
    )
    assert world.standing() == {("o", "n1"), ("o", "n2")}
    published = world.arrive(listing_event("o", "offer", METZ, version=2, status=status))
    assert [e.data for e in published] == [MatchesSettled("o", "offer", 2, status)]
    assert world.standing() == set()


def test_an_update_that_keeps_a_match_republishes_it_with_fresh_reasons() -> None:
    world = World()
    world.arrive(listing_event("o", "offer", METZ), listing_event("n", "need", LUXEMBOURG))
    [first] = found(world.arrive(listing_event("o", "offer", METZ, version=2, quantity=4.0)))
    assert first.reasons.quantity_fit == "partial" and first.offer.version == 2
    assert world.standing() == {("o", "n")}


def test_both_sides_leaving_a_match_in_one_batch_retract_it() -> None:
    world = World()
    world.arrive(listing_event("o", "offer", METZ), listing_event("n", "need", LUXEMBOURG))
    world.arrive(
        listing_event("o", "offer", METZ, version=2, status="reserved"),
        listing_event("n", "need", LUXEMBOURG, version=2, status="closed"),
    )
    assert world.standing() == set()


def test_both_sides_moving_apart_together_retract_the_match() -> None:
    # Each change alone breaks the pair: the gap ADR 0002 used to accept.
    world = World()
    world.arrive(listing_event("o", "offer", METZ), listing_event("n", "need", LUXEMBOURG))
    world.arrive(
        listing_event("o", "offer", METZ, version=2, quantity=0.5, radius_km=10.0),
        listing_event("n", "need", LUXEMBOURG, version=2, radius_km=10.0),
    )
    assert world.standing() == set()


def test_a_version_already_replaced_in_the_replica_is_left_to_the_later_event() -> None:
    world = World()
    world.arrive(listing_event("o", "offer", METZ))
    world.arrive(listing_event("n", "need", LUXEMBOURG))
    # v2 moves out of range, v3 comes back: both reach the replica before the handler.
    published = world.arrive(
        listing_event("n", "need", LUXEMBOURG, version=2, radius_km=10.0),
        listing_event("n", "need", LUXEMBOURG, version=3, radius_km=90.0),
    )
    assert [e.type for e in published] == [MATCH_FOUND, MATCHES_SETTLED]
    assert found(published)[0].need.version == 3
    assert world.standing() == {("o", "n")}


def test_after_a_restart_a_redelivered_withdrawal_still_retracts() -> None:
    history = [
        listing_event("o", "offer", METZ),
        listing_event("n", "need", LUXEMBOURG),
        listing_event("o", "offer", METZ, version=2, status="withdrawn"),
    ]
    first = World()
    first.arrive(*history[:2])
    restarted = World()
    restarted.reader = first.reader  # the reader outlives the matcher
    for event in history:
        restarted.replica.apply(event)  # rebuilt from the topic
    restarted.handler(history[-1])  # the uncommitted tail, handled again
    assert restarted.standing() == set()


def test_a_stale_match_arriving_after_the_withdrawal_is_dropped() -> None:
    world = World()
    world.arrive(listing_event("o", "offer", METZ))
    late = world.arrive(listing_event("n", "need", LUXEMBOURG))[0]  # found at o v1, n v1
    world.arrive(listing_event("o", "offer", METZ, version=2, status="withdrawn"))
    world.reader.apply(late.type, late.time, late.data)  # another matcher's late copy
    assert world.standing() == set()


def test_an_expired_offer_takes_its_matches_with_it() -> None:
    world = World()
    until = NOW + timedelta(days=1)
    world.arrive(
        listing_event("o", "offer", METZ, available_until=until),
        listing_event("n", "need", LUXEMBOURG),
    )
    assert world.standing() == {("o", "n")}
    later = World(NOW + timedelta(days=2))
    later.reader, later.replica = world.reader, world.replica
    later.handler = MatchingHandler(
        later.replica, later._publish, clock=(NOW + timedelta(days=2)).timestamp
    )
    later.arrive(
        listing_event("o", "offer", METZ, version=2, status="expired", available_until=until)
    )
    assert later.standing() == set()


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


def test_an_offer_matches_by_what_its_accepted_exchanges_left() -> None:
    world = World()
    world.arrive(listing_event("n", "need", LUXEMBOURG, min_quantity=10.0))
    world.arrive(listing_event("o", "offer", METZ, quantity=40.0))
    assert world.standing() == {("o", "n")}
    world.arrive(
        listing_event("o", "offer", METZ, version=2, quantity=40.0, remaining_quantity=4.0)
    )
    assert world.standing() == set(), "4 pallets left no longer reach a minimum of 10"


def test_a_need_that_takes_free_offers_only_does_not_meet_a_paid_one() -> None:
    world = World()
    world.arrive(listing_event("n", "need", LUXEMBOURG, max_price=0.0))
    paid = {"mode": "per_unit", "amount": 3.0}
    world.arrive(listing_event("o", "offer", METZ, price=paid))
    assert world.standing() == set()
    world.arrive(listing_event("g", "offer", METZ, price={"mode": "free"}))
    assert world.standing() == {("g", "n")}
