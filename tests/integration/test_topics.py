"""Topics as configuration against the real broker: created as configured, checked if they exist."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator

import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigFilterType, ConfigResource, ConfigResourceType, ConfigSourceType

from shared.kafka import ensure_topics, standard_topics
from shared.settings import Settings, Topics, TopicSettings
from shared.topics import TopicConfigError, TopicMismatch
from tests.conftest import random_id
from tests.integration.kafka_helpers import wait_for

pytestmark = pytest.mark.kafka

# Explicit, so the tests do not depend on the KAFKA_TOPIC_* variables of the run.
SETTINGS = TopicSettings()
WEEK_MS = str(7 * 24 * 60 * 60 * 1000)
CHECKED = ("cleanup.policy", "min.insync.replicas", "min.compaction.lag.ms", "retention.ms")


@pytest.fixture
def topics(topic_prefix: str) -> Topics:
    return Settings.from_env({"KAFKA_TOPIC_PREFIX": topic_prefix}).topics


@pytest.fixture
def admin(kafka_bootstrap: str) -> Iterator[KafkaAdminClient]:
    client = KafkaAdminClient(
        bootstrap_servers=kafka_bootstrap, request_timeout_ms=10_000, bootstrap_timeout_ms=10_000
    )
    yield client
    client.close()


def configs_of(admin: KafkaAdminClient, names: Iterable[str]) -> dict[str, dict[str, dict]]:
    """Each topic's CHECKED configs as the broker describes them (value and source)."""
    resources = [ConfigResource(ConfigResourceType.TOPIC, name, list(CHECKED)) for name in names]
    return admin.describe_configs(resources, config_filter=ConfigFilterType.ALL)["topic"]


def partitions_of(admin: KafkaAdminClient, names: Iterable[str]) -> dict[str, int]:
    return {t["name"]: len(t["partitions"]) for t in admin.describe_topics(list(names))}


def create_by_hand(admin: KafkaAdminClient, name: str, partitions: int, **configs: str) -> None:
    spec = {"num_partitions": partitions, "replication_factor": 1, "configs": configs}
    admin.create_topics({name: spec}, wait_for_metadata=True)


def test_the_standard_topics_are_created_with_their_configs_set_on_each_topic(
    kafka_bootstrap: str, admin: KafkaAdminClient, topics: Topics
):
    ensure_topics(kafka_bootstrap, standard_topics(topics, SETTINGS), SETTINGS)

    state = [topics.listings, topics.organisations]
    events = [topics.matches, topics.deliveries, topics.exchanges]
    dead = [Topics.dead_letter(name) for name in state + events]
    found = configs_of(admin, state + events + dead)
    value = {name: {key: entry["value"] for key, entry in c.items()} for name, c in found.items()}
    for name in state:
        assert value[name]["cleanup.policy"] == "compact", name
        assert value[name]["min.compaction.lag.ms"] == WEEK_MS, name
    for name in events:
        assert value[name]["cleanup.policy"] == "delete", name
    for name in dead:
        assert value[name]["cleanup.policy"] == "delete", name
        assert value[name]["retention.ms"] == "-1", name
    for name, configs in found.items():
        assert configs["min.insync.replicas"]["value"] == "1", name
        # Set on the topic itself, so a change of the broker's default cannot weaken it.
        source = ConfigSourceType.DYNAMIC_TOPIC_CONFIG.name
        assert configs["min.insync.replicas"]["config_source"] == source, name
    assert set(partitions_of(admin, found).values()) == {3}


def test_the_topic_settings_decide_partitions_and_compaction_lag(
    kafka_bootstrap: str, admin: KafkaAdminClient, topics: Topics
):
    settings = TopicSettings(partitions=2, min_compaction_lag_ms=60_000)
    ensure_topics(kafka_bootstrap, standard_topics(topics, settings), settings)

    found = configs_of(admin, [topics.listings])[topics.listings]
    assert found["min.compaction.lag.ms"]["value"] == "60000"
    named = [topics.listings, topics.matches, Topics.dead_letter(topics.matches)]
    assert partitions_of(admin, named) == dict.fromkeys(named, 2)


def test_a_listings_topic_made_by_hand_with_delete_stops_ensure_topics_and_says_why(
    kafka_bootstrap: str, admin: KafkaAdminClient, topics: Topics
):
    create_by_hand(admin, topics.listings, 3, **{"cleanup.policy": "delete"})

    with pytest.raises(TopicConfigError) as raised:
        ensure_topics(kafka_bootstrap, standard_topics(topics, SETTINGS), SETTINGS)

    error = raised.value
    assert TopicMismatch(topics.listings, "cleanup.policy", "delete", "compact") in error.mismatches
    assert {m.topic for m in error.mismatches} == {topics.listings}
    message = str(error)
    assert f"{topics.listings}: cleanup.policy is 'delete', expected 'compact'" in message
    assert f"{topics.listings}: min.compaction.lag.ms is '0', expected '{WEEK_MS}'" in message
    assert f"--entity-name {topics.listings} --add-config" in message
    assert "cleanup.policy=compact" in message
    # The missing topics were created all the same: only the wrong one is left to fix.
    standard = standard_topics(topics, SETTINGS)
    assert set(standard) <= set(admin.list_topics())


def test_an_existing_topic_with_another_partition_count_is_reported(
    kafka_bootstrap: str, admin: KafkaAdminClient
):
    name = random_id("topics")
    create_by_hand(admin, name, 1)

    with pytest.raises(TopicConfigError) as raised:
        ensure_topics(kafka_bootstrap, {name: {}}, SETTINGS)

    assert raised.value.mismatches == (TopicMismatch(name, "partitions", "1", "3"),)
    assert f"--alter --topic {name} --partitions 3" in str(raised.value)


def test_a_topic_fixed_as_the_error_says_passes_and_so_does_a_second_call(
    kafka_bootstrap: str, admin: KafkaAdminClient, topics: Topics
):
    create_by_hand(admin, topics.listings, 3, **{"cleanup.policy": "delete"})
    wanted = standard_topics(topics, SETTINGS)
    with pytest.raises(TopicConfigError):
        ensure_topics(kafka_bootstrap, wanted, SETTINGS)

    fix = {"cleanup.policy": "compact", "min.compaction.lag.ms": WEEK_MS}
    altered = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topics.listings, fix)])
    assert altered == {"topic": {topics.listings: "OK"}}
    # The broker applies an acknowledged change a moment later (KRaft metadata log).
    wait_for(
        lambda: (
            configs_of(admin, [topics.listings])[topics.listings]["cleanup.policy"]["value"]
            == "compact"
        ),
        what="the altered config to be in force",
    )
    ensure_topics(kafka_bootstrap, wanted, SETTINGS)
    ensure_topics(kafka_bootstrap, wanted, SETTINGS)


def test_processes_ensuring_the_same_topics_at_once_all_succeed(
    kafka_bootstrap: str, admin: KafkaAdminClient, topics: Topics
):
    wanted = standard_topics(topics, SETTINGS)
    start, errors = threading.Barrier(3), list[Exception]()

    def ensure() -> None:
        start.wait()
        try:
            ensure_topics(kafka_bootstrap, wanted, SETTINGS)
        except Exception as exc:  # reported below, with the others
            errors.append(exc)

    racers = [threading.Thread(target=ensure) for _ in range(3)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=60)
    assert errors == []
    assert set(wanted) <= set(admin.list_topics())
