"""The monitor's rules without I/O: lag, trends, health, dead letters and their replays, tail."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import shared.kafka
from monitor.domain import dead_letters as dl
from monitor.domain.charts import bar_chart
from monitor.domain.health import DOWN, FAILING, UNKNOWN, UP, ServiceHealth
from monitor.domain.records import RawRecord, parse_coordinates
from monitor.domain.streams import Member, Series, TopicState, lag_of, partition_lags
from monitor.domain.tail import TailFilter, TailHub

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_lag_counts_from_the_committed_offset_or_from_the_log_start_when_none():
    assert lag_of(committed=7, start=0, end=10) == 3
    assert lag_of(committed=None, start=4, end=10) == 6
    assert lag_of(committed=2, start=4, end=10) == 6  # older messages were deleted
    assert lag_of(committed=10, start=0, end=10) == 0


def test_partition_lags_cover_committed_and_assigned_partitions_with_their_owner():
    topics = {"matches": TopicState("matches", {0: 0, 1: 0}, {0: 5, 1: 9})}
    member = Member("m-1", "notifier-1", "/127.0.0.1", (("matches", 1),))
    rows = partition_lags({("matches", 0): 5}, topics, [member])
    assert [(r.partition, r.lag, r.member) for r in rows] == [(0, 0, None), (1, 9, "notifier-1")]


def test_a_stopped_group_lags_on_the_partitions_it_never_committed_on_too():
    topics = {"matches": TopicState("matches", {0: 0, 1: 2, 2: 0}, {0: 5, 1: 9, 2: 0})}
    rows = partition_lags({("matches", 0): 4}, topics, [])
    assert [(r.partition, r.committed, r.lag) for r in rows] == [
        (0, 4, 1),
        (1, None, 7),
        (2, None, 0),
    ]


def test_messages_per_minute_and_lag_trend_come_from_samples():
    series = Series()
    for n, value in enumerate((0, 30, 60, 90)):
        series.add(T0 + timedelta(seconds=15 * n), value)
    assert series.per_minute() == 120.0
    assert series.trend() == "rising"
    series.add(T0 + timedelta(seconds=60), 10)
    assert series.trend(points=2) == "falling"
    assert Series().per_minute() is None


def test_a_service_is_down_only_after_failing_for_longer_than_the_threshold():
    health = ServiceHealth("matcher", "http://127.0.0.1:8003")
    assert health.status(T0, 30) == UNKNOWN
    health.record(True, "ok", T0)
    assert health.status(T0, 30) == UP
    health.record(False, "connection refused", T0 + timedelta(seconds=15))
    assert health.status(T0 + timedelta(seconds=40), 30) == FAILING
    health.record(False, "connection refused", T0 + timedelta(seconds=46))
    assert health.status(T0 + timedelta(seconds=46), 30) == DOWN
    assert health.last_seen == T0


def test_header_names_are_the_kafka_adapters():
    assert (dl.DLQ_ERROR, dl.DLQ_ATTEMPTS, dl.DLQ_CONSUMER) == (
        shared.kafka.DLQ_ERROR,
        shared.kafka.DLQ_ATTEMPTS,
        shared.kafka.DLQ_CONSUMER,
    )
    assert (dl.DLQ_TOPIC, dl.DLQ_PARTITION, dl.DLQ_OFFSET) == (
        shared.kafka.DLQ_TOPIC,
        shared.kafka.DLQ_PARTITION,
        shared.kafka.DLQ_OFFSET,
    )


def dead_record(offset: int, source_offset: int, extra: tuple = ()) -> RawRecord:
    headers = (
        ("trace", b"abc"),
        (dl.DLQ_ERROR, b"RuntimeError: warehouse down"),
        (dl.DLQ_ATTEMPTS, b"3"),
        (dl.DLQ_CONSUMER, b"notifications"),
        (dl.DLQ_TOPIC, b"matches"),
        (dl.DLQ_PARTITION, b"1"),
        (dl.DLQ_OFFSET, str(source_offset).encode()),
        *extra,
    )
    return RawRecord("matches.dlq", 0, offset, b"m-1", b'{"id":"e-1"}', headers, 1_700_000_000_000)


def test_a_dead_letter_is_open_until_its_replay_marker_is_read():
    log = dl.DeadLetterLog()
    log.apply(dead_record(offset=0, source_offset=41))
    [letter] = log.open_letters()
    assert (letter.error, letter.attempts, letter.consumer) == (
        "RuntimeError: warehouse down",
        3,
        "notifications",
    )
    assert letter.source == ("matches", 1, 41)
    target = ("matches", 2, 99)
    marker = RawRecord(
        "matches.dlq", 0, 1, b"m-1", None, tuple(dl.marker_headers(letter, target, "admin-1"))
    )
    log.apply(marker)
    assert log.open_letters() == []
    replay = log.replay_of(letter.id)
    assert replay is not None and (replay.topic, replay.partition, replay.offset) == target
    assert replay.by == "admin-1"


def test_the_replayed_message_keeps_its_headers_but_not_the_failure_ones():
    letter = dl.dead_letter_from(dead_record(offset=0, source_offset=41))
    assert dl.replay_headers(letter) == [("trace", b"abc"), (dl.REPLAY_OF, b"matches.dlq:0:0")]


def test_a_replay_is_handled_once_the_group_commits_past_it_unless_it_failed_again():
    log = dl.DeadLetterLog()
    log.apply(dead_record(offset=0, source_offset=41))
    replay = dl.Replay("matches.dlq:0:0", "matches", 1, 50, "admin", T0)
    log.record_replay(replay)
    assert dl.replay_status(replay, committed=50, failed_again=False) == dl.PENDING
    assert dl.replay_status(replay, committed=51, failed_again=False) == dl.HANDLED
    again = dead_record(offset=1, source_offset=50, extra=((dl.REPLAY_OF, b"matches.dlq:0:0"),))
    log.apply(again)
    failure = log.failure_of(replay)
    assert failure is not None and failure.replay_of == "matches.dlq:0:0"
    assert [letter.id for letter in log.open_letters()] == ["matches.dlq:0:1"]


def test_coordinates_survive_topic_names_with_dots_and_colons():
    assert parse_coordinates("test-1.matches.dlq:2:15") == ("test-1.matches.dlq", 2, 15)
    assert parse_coordinates("a:b:c:1:2") == ("a:b:c", 1, 2)
    assert parse_coordinates("nonsense") is None


def event_record(topic: str, offset: int, event_type: str, data: dict) -> RawRecord:
    value = json.dumps({"id": f"e-{offset}", "type": event_type, "data": data}).encode()
    return RawRecord(topic, 0, offset, b"k", value, (), 1_700_000_000_000)


def test_the_tail_filters_by_topic_type_and_organisation_and_waits_for_new_events():
    hub = TailHub(capacity=10)
    hub.publish(event_record("listings", 0, "boucle.listing.published", {"organisation_id": "o-1"}))
    match = {"offer": {"organisation_id": "o-2"}, "need": {"organisation_id": "o-3"}}
    hub.publish(event_record("matches", 1, "boucle.match.found", match))
    assert [i.record.offset for i in hub.recent(TailFilter(organisation="o-3"))] == [1]
    assert [i.record.offset for i in hub.recent(TailFilter(topic="listings"))] == [0]
    assert [i.record.offset for i in hub.recent(TailFilter(event_type="boucle.match."))] == [1]
    seq, items = hub.after(hub.last_seq, TailFilter(), timeout_s=0.05)
    assert items == [] and seq == 2
    hub.publish(event_record("listings", 2, "boucle.listing.closed", {"organisation_id": "o-1"}))
    seq, items = hub.after(2, TailFilter(organisation="o-1"), timeout_s=1)
    assert seq == 3 and [i.as_dict()["id"] for i in items] == ["e-2"]


def test_the_tallest_bar_reaches_the_top_and_an_empty_day_stays_flat():
    day = T0.date()
    chart = bar_chart([(day, 0), (day + timedelta(days=1), 4), (day + timedelta(days=2), 2)])
    heights = [bar.height for bar in chart.bars]
    assert heights[0] == 0 and heights[1] == 2 * heights[2] and chart.top == 4 and chart.total == 6


def test_the_activity_counts_exchanges_and_lists_the_ones_with_a_problem() -> None:
    from datetime import UTC, datetime

    from monitor.domain.activity import ActivityProjection
    from shared.contracts import ExchangeChanged

    def step(status: str, version: int, problem: str | None = None) -> ExchangeChanged:
        return ExchangeChanged(
            id="x-1",
            listing_id="l-1",
            listing_kind="offer",
            listing_title="Pallets",
            owner_organisation_id="farm",
            requester_organisation_id="shop",
            quantity=5.0,
            unit="pallets",
            status=status,
            version=version,
            updated_at=datetime(2027, 1, 1, tzinfo=UTC),
            problem=problem,
        )

    projection = ActivityProjection()
    now = datetime(2027, 1, 1, tzinfo=UTC)
    projection.apply("boucle.exchange.requested", now, step("requested", 1))
    projection.apply("boucle.exchange.problem_reported", now, step("accepted", 3, "no-show"))
    projection.apply("boucle.exchange.accepted", now, step("accepted", 2))  # late, older
    statuses, reported = projection.exchanges_summary()
    assert statuses == {"accepted": 1}
    assert [(row["listing_title"], row["problem"]) for row in reported] == [("Pallets", "no-show")]
