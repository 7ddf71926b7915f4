"""Whether a consumer keeps up, and whose a dead letter is, decided without I/O."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from monitor.domain import pace as p
from monitor.domain.activity import ActivityProjection
from monitor.domain.dead_letters import dead_letter_from
from monitor.domain.letter_context import letter_context, mask_email
from monitor.domain.records import RawRecord
from monitor.domain.streams import GroupState, Member, PartitionLag, Series
from monitor.domain.tail import TailFilter, TailItem, organisation_choices
from shared.contracts import DeliveryOutcome
from shared.event_schemas import MATCH_FOUND, MATCH_RETRACTED
from tests.unit.test_monitor_impact import listing_changed, match_event

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
RUNNING = (Member("m-1", "notifier-1", "/10.0.0.7", (("matches", 0),)),)


def group(lag: int, end: int = 1000, members: tuple[Member, ...] = RUNNING) -> GroupState:
    return GroupState(
        "notifier", "Stable", members, (PartitionLag("matches", 0, end - lag, end, lag),)
    )


def sampled(*values: float, every_s: float = 15) -> Series:
    series = Series()
    for n, value in enumerate(values):
        series.add(T0 + timedelta(seconds=every_s * n), value)
    return series


def at(series: Series) -> datetime:
    return series.samples[-1][0]


def test_nothing_waiting_or_a_few_seconds_of_reading_is_keeping_up() -> None:
    consumed = sampled(0, 300, 600)  # 20 messages per second
    assert p.pace_of(group(0), consumed, sampled(0, 0, 0), at(consumed)).verdict == p.KEEPING_UP
    few = p.pace_of(group(40), consumed, sampled(30, 50, 40), at(consumed))
    assert (few.verdict, few.lag) == (p.KEEPING_UP, 40)


def test_a_shrinking_backlog_is_catching_up_with_an_estimate() -> None:
    consumed = sampled(0, 1500, 3000)  # reads 100 per second
    lag = sampled(3000, 2400, 1800)  # shrinks by 40 per second
    pace = p.pace_of(group(1800), consumed, lag, at(consumed))
    assert pace.verdict == p.CATCHING_UP
    assert pace.reads_per_s == 100 and pace.arrives_per_s == 60
    assert pace.catch_up_s == 45


def test_a_backlog_that_holds_or_grows_while_reading_is_falling_behind() -> None:
    consumed = sampled(0, 150, 300)  # 10 per second
    lag = sampled(500, 800, 1100)  # grows by 20 per second
    pace = p.pace_of(group(1100), consumed, lag, at(consumed))
    assert (pace.verdict, pace.reads_per_s, pace.arrives_per_s) == (p.FALLING_BEHIND, 10, 30)


def test_no_progress_for_two_minutes_with_messages_waiting_is_a_stall() -> None:
    consumed = sampled(500, 500, 500, 500, 500, 500, 500, 500, 500, every_s=15)
    waiting = sampled(*[7] * 9)
    pace = p.pace_of(group(7), consumed, waiting, at(consumed))
    assert (pace.verdict, pace.still_for_s) == (p.STALLED, 120)
    early = sampled(500, 500, 500)
    assert p.pace_of(group(7), early, waiting, at(early)).verdict == p.MEASURING


def test_progress_stops_counting_the_stall_from_the_last_step_forward() -> None:
    consumed = sampled(0, 10, 20, 20, 20)
    assert p.seconds_without_progress(consumed, at(consumed)) == 30


def test_a_group_without_consumers_is_stopped_or_idle_and_one_sample_is_not_a_pace() -> None:
    assert p.pace_of(group(7, members=()), None, None, T0).verdict == p.STOPPED
    assert p.pace_of(group(0, members=()), None, None, T0).verdict == p.IDLE
    assert p.pace_of(group(7), sampled(3), sampled(7), T0).verdict == p.MEASURING


def delivery_letter(channel: str, recipient: str, headers: tuple = ()) -> RawRecord:
    event = {
        "type": "boucle.delivery.dead_lettered",
        "data": {"organisation_id": "org-1", "channel": channel, "recipient": recipient},
    }
    base = (("dlq.topic", b"deliveries"), ("dlq.consumer", b"notifier-deliveries"))
    value = json.dumps(event).encode()
    return RawRecord("deliveries.dlq", 0, 3, b"k", value, base + headers, 1_700_000_000_000)


def test_a_given_up_delivery_names_its_organisation_channel_and_masked_target() -> None:
    names = {"org-1": "Cantine solidaire"}
    mail = letter_context(dead_letter_from(delivery_letter("email", "canteen@example.org")), names)
    assert mail.organisations == (("org-1", "Cantine solidaire"),)
    assert (mail.channel, mail.target, mail.is_delivery) == ("email", "c…n@example.org", True)
    hook = dead_letter_from(
        delivery_letter("webhook", "endpoint-1", (("dlq.target", b"erp.example.org"),))
    )
    assert letter_context(hook, {}).target == "erp.example.org"
    assert letter_context(hook, {}).organisations == (("org-1", ""),)
    assert dead_letter_from(delivery_letter("email", "a@b.c")).source is None, "not replayable"


def test_a_match_that_failed_names_both_sides_once() -> None:
    side = {"organisation_id": "org-a"}
    event = {"type": "boucle.match.found", "data": {"offer": side, "need": side}}
    record = RawRecord("matches.dlq", 0, 1, b"k", json.dumps(event).encode(), (), 0)
    context = letter_context(dead_letter_from(record), {"org-a": "Ferme"})
    assert (context.organisations, context.channel) == ((("org-a", "Ferme"),), None)


def test_masked_addresses_keep_only_the_ends_and_the_domain() -> None:
    assert mask_email("canteen@example.org") == "c…n@example.org"
    assert mask_email("jo@example.org") == "j…@example.org"
    assert mask_email("not-an-address") == "…"


def test_the_activity_counts_each_listing_match_and_alert_once_however_often_it_is_read() -> None:
    projection, when = ActivityProjection(), T0
    published = listing_changed("o", "offer", "published", 1, when)
    projection.apply("boucle.listing.published", when, published)
    projection.apply("boucle.listing.published", when, published)  # re-sent by an outbox
    found = match_event(MATCH_FOUND, "m", "o", "n")
    projection.apply(MATCH_FOUND, when, found)
    projection.apply(MATCH_RETRACTED, when, match_event(MATCH_RETRACTED, "m", "o", "n", (2, 1)))
    projection.apply(MATCH_FOUND, when, match_event(MATCH_FOUND, "m", "o", "n", (3, 1)))
    sent = DeliveryOutcome("d-1", "m", "org-n", "a@b.c", "email", "sent", 1)
    given_up = DeliveryOutcome("d-2", "m", "org-o", "hook-1", "webhook", "dead_lettered", 3)
    for outcome in (sent, sent, given_up, given_up):
        projection.apply(f"boucle.delivery.{outcome.outcome}", when, outcome)

    series = projection.series(when.date(), days=1)
    assert {name: points[-1][1] for name, points in series.items()} == {
        "listings": 1,
        "matches": 1,
        "alerts": 1,
    }
    totals = projection.totals()
    assert (totals["listings"], totals["matches"], totals["alerts"]) == (1, 1, 1)
    assert totals["failed_alerts"] == 1


def test_organisations_that_share_a_name_are_one_choice_of_the_tail_filter() -> None:
    names = {"a3": "Boucle administrators", "a1": "Boucle administrators", "f": "Ferme du Kiem"}
    names |= {"a2": " Boucle  administrators", "x": ""}
    choices = organisation_choices(names)
    assert choices == [("a1,a2,a3", "Boucle administrators"), ("f", "Ferme du Kiem"), ("x", "x")]
    event = {"type": "boucle.listing.published", "data": {"organisation_id": "a2"}}
    record = RawRecord("listings", 0, 1, b"k", json.dumps(event).encode(), (), 0)
    item = TailItem(1, record, event)
    assert TailFilter(organisation="a1,a2,a3").accepts(item)
    assert not TailFilter(organisation="f").accepts(item)
