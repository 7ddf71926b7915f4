"""Topic settings from the environment, the configs they give each topic, and the error text."""

from __future__ import annotations

import pytest

from shared.settings import Settings, Topics, TopicSettings
from shared.topics import TopicConfigError, TopicMismatch, standard_topics

WEEK_MS = 7 * 24 * 60 * 60 * 1000


def test_topic_settings_default_to_one_local_broker() -> None:
    settings = Settings.from_env({})
    assert settings.topic_settings == TopicSettings()
    assert Settings().topic_settings == TopicSettings()
    assert (TopicSettings().partitions, TopicSettings().replication_factor) == (3, 1)
    assert TopicSettings().min_insync_replicas == 1
    assert TopicSettings().min_compaction_lag_ms == WEEK_MS
    assert TopicSettings().dead_letter_retention_ms == -1


def test_topic_settings_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "KAFKA_TOPIC_PARTITIONS": "12",
            "KAFKA_REPLICATION_FACTOR": "3",
            "KAFKA_MIN_INSYNC_REPLICAS": "2",
            "KAFKA_MIN_COMPACTION_LAG_MS": "3600000",
        }
    )
    assert settings.topic_settings == TopicSettings(
        partitions=12, replication_factor=3, min_insync_replicas=2, min_compaction_lag_ms=3_600_000
    )


def test_a_topic_setting_that_is_not_a_number_is_refused_with_its_name() -> None:
    with pytest.raises(RuntimeError, match="KAFKA_TOPIC_PARTITIONS"):
        TopicSettings.from_env({"KAFKA_TOPIC_PARTITIONS": "three"})


def test_more_in_sync_replicas_than_replicas_is_refused() -> None:
    # Every acks=all write would fail: better not to start.
    with pytest.raises(ValueError, match="KAFKA_MIN_INSYNC_REPLICAS"):
        TopicSettings.from_env({"KAFKA_MIN_INSYNC_REPLICAS": "2"})


def test_standard_topics_compact_state_and_keep_dead_letters_until_replayed() -> None:
    settings = TopicSettings(replication_factor=3, min_insync_replicas=2)
    wanted = standard_topics(Topics(), settings)
    state = {"cleanup.policy": "compact", "min.compaction.lag.ms": str(WEEK_MS)}
    dead = {"cleanup.policy": "delete", "retention.ms": "-1"}
    isr = {"min.insync.replicas": "2"}
    assert wanted == {
        "listings": {**state, **isr},
        "organisations": {**state, **isr},
        "matches": {"cleanup.policy": "delete", **isr},
        "deliveries": {"cleanup.policy": "delete", **isr},
        "exchanges": {"cleanup.policy": "delete", **isr},
        # Account e-mails carry sign-in links: kept only as long as a link can be used.
        "account-mail": {"cleanup.policy": "delete", "retention.ms": "259200000", **isr},
        "listings.dlq": {**dead, **isr},
        "organisations.dlq": {**dead, **isr},
        "matches.dlq": {**dead, **isr},
        "deliveries.dlq": {**dead, **isr},
        "exchanges.dlq": {**dead, **isr},
        "account-mail.dlq": {**dead, **isr},
    }


def test_standard_topics_without_settings_follow_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Callers that pass no settings must not fall back to a single broker's values.
    monkeypatch.setenv("KAFKA_REPLICATION_FACTOR", "3")
    monkeypatch.setenv("KAFKA_MIN_INSYNC_REPLICAS", "2")
    assert standard_topics(Topics())["listings"]["min.insync.replicas"] == "2"


def test_the_error_names_topic_setting_both_values_and_the_commands_that_fix_them() -> None:
    error = TopicConfigError(
        [
            TopicMismatch("listings", "cleanup.policy", "compact,delete", "compact"),
            TopicMismatch("listings", "min.insync.replicas", "1", "2"),
            TopicMismatch("matches.dlq", "retention.ms", "604800000", "-1"),
            TopicMismatch("matches", "partitions", "1", "3"),
        ],
        "kafka:9092",
    )
    message = str(error)
    assert isinstance(error, RuntimeError)
    assert "listings: cleanup.policy is 'compact,delete', expected 'compact'" in message
    assert "matches.dlq: retention.ms is '604800000', expected '-1'" in message
    assert (
        "kafka-configs.sh --bootstrap-server kafka:9092 --alter --entity-type topics "
        "--entity-name listings --add-config cleanup.policy=compact,min.insync.replicas=2"
    ) in message
    assert "--entity-name matches.dlq --add-config retention.ms=-1" in message
    assert (
        "kafka-topics.sh --bootstrap-server kafka:9092 --alter --topic matches --partitions 3"
        in (message)
    )
    assert 'make kafka ARGS="configs' in message
