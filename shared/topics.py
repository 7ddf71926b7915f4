"""Topics as configuration: the exchange's topics are created as configured, and checked.

Brokers do not create topics on first use (auto.create.topics.enable=false), so every topic
is created here with the partitions, replication and configs of `TopicSettings`. A topic
that already exists is compared with its configuration, and any difference stops the
process with a `TopicConfigError` that says how to fix the topic: Kafka never changes an
existing topic by itself, and a state topic that silently deletes instead of compacting
loses listings.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import kafka.errors as kafka_errors
from kafka import KafkaAdminClient
from kafka.admin import ConfigFilterType, ConfigResource, ConfigResourceType

from shared.settings import Topics, TopicSettings

log = logging.getLogger(__name__)

#: The topic configs this module sets and checks.
CLEANUP_POLICY = "cleanup.policy"
MIN_INSYNC_REPLICAS = "min.insync.replicas"
MIN_COMPACTION_LAG_MS = "min.compaction.lag.ms"
RETENTION_MS = "retention.ms"
#: Names of the two topic properties that are not configs, as mismatches report them.
PARTITIONS = "partitions"
REPLICATION_FACTOR = "replication-factor"

DEAD_LETTER_SUFFIX = Topics.dead_letter("")
ADMIN_CLIENT_ID = "boucle-admin"


@dataclass(frozen=True)
class TopicMismatch:
    """One setting of an existing topic that differs from its configuration."""

    topic: str
    setting: str
    found: str
    expected: str


class TopicConfigError(RuntimeError):
    """Existing topics whose settings differ from their configuration."""

    def __init__(self, mismatches: Sequence[TopicMismatch], bootstrap_servers: str) -> None:
        self.mismatches = tuple(mismatches)
        super().__init__(_explain(self.mismatches, bootstrap_servers))


#: Three days: the longest a link in an account e-mail stays valid (an invitation).
ACCOUNT_MAIL_RETENTION_MS = 3 * 24 * 3600 * 1000


def standard_topics(
    topics: Topics, topic_settings: TopicSettings | None = None
) -> dict[str, dict[str, str]]:
    """The exchange's topics, their dead-letter topics and the configs of each."""
    settings = _resolve(topic_settings)
    state = _state_config(settings)
    events = {**_durable(settings), CLEANUP_POLICY: "delete"}
    wanted = {
        topics.listings: state,
        topics.organisations: state,
        topics.matches: events,
        topics.deliveries: events,
        topics.exchanges: events,
        # Its messages carry sign-in links: kept no longer than the links can be used.
        topics.account_mail: {**events, "retention.ms": str(ACCOUNT_MAIL_RETENTION_MS)},
    }
    dead_letters = {Topics.dead_letter(name): _dead_letter_config(settings) for name in wanted}
    return {name: dict(config) for name, config in {**wanted, **dead_letters}.items()}


def ensure_topics(
    bootstrap_servers: str,
    wanted: Mapping[str, Mapping[str, str]],
    topic_settings: TopicSettings | None = None,
    *,
    timeout_ms: int = 10_000,
) -> None:
    """Create the missing topics of `wanted` and check the existing ones against it.

    Every topic gets its dead-letter topic and min.insync.replicas unless `wanted` says
    otherwise. `topic_settings` defaults to the environment's (KAFKA_TOPIC_PARTITIONS...).
    Raises TopicConfigError when an existing topic differs from its configuration.
    """
    settings = _resolve(topic_settings)
    specs = _complete(wanted, settings)
    with _admin(bootstrap_servers, timeout_ms) as admin:
        existing = set(admin.list_topics())
        missing = {name: config for name, config in specs.items() if name not in existing}
        created = _create(admin, missing, settings, timeout_ms) if missing else set()
        # Topics a concurrent process created between our listing and our request are
        # checked like the older ones: that process may run other settings.
        to_check = {name: config for name, config in specs.items() if name not in created}
        mismatches = _check(admin, to_check, settings)
    if mismatches:
        raise TopicConfigError(mismatches, bootstrap_servers)
    log.debug("topics as configured: %s", sorted(specs))


def _resolve(topic_settings: TopicSettings | None) -> TopicSettings:
    # The default is the environment's, so callers that predate TopicSettings (and pass
    # nothing) still create and check topics as the deployment configured them.
    return topic_settings if topic_settings is not None else TopicSettings.from_env()


def _durable(settings: TopicSettings) -> dict[str, str]:
    return {MIN_INSYNC_REPLICAS: str(settings.min_insync_replicas)}


def _state_config(settings: TopicSettings) -> dict[str, str]:
    # Compacted: the latest version of each listing or organisation is kept for good.
    return {
        **_durable(settings),
        CLEANUP_POLICY: "compact",
        MIN_COMPACTION_LAG_MS: str(settings.min_compaction_lag_ms),
    }


def _dead_letter_config(settings: TopicSettings) -> dict[str, str]:
    # Never compacted: two failed versions of one key are two dead letters to look at.
    return {
        **_durable(settings),
        CLEANUP_POLICY: "delete",
        RETENTION_MS: str(settings.dead_letter_retention_ms),
    }


def _complete(
    wanted: Mapping[str, Mapping[str, str]], settings: TopicSettings
) -> dict[str, dict[str, str]]:
    specs = {name: {**_durable(settings), **config} for name, config in wanted.items()}
    for name in wanted:
        if not name.endswith(DEAD_LETTER_SUFFIX):
            # The consumer dead-letters into it and the broker will not create it then.
            specs.setdefault(Topics.dead_letter(name), _dead_letter_config(settings))
    return specs


def _admin(bootstrap_servers: str, timeout_ms: int) -> KafkaAdminClient:
    # Bounded: a process whose broker is unreachable fails at start, it does not hang.
    return KafkaAdminClient(
        bootstrap_servers=bootstrap_servers,
        client_id=ADMIN_CLIENT_ID,
        request_timeout_ms=timeout_ms,
        bootstrap_timeout_ms=timeout_ms,
    )


def _create(
    admin: KafkaAdminClient,
    missing: Mapping[str, Mapping[str, str]],
    settings: TopicSettings,
    timeout_ms: int,
) -> set[str]:
    """Create `missing`; return the names this call created (not a concurrent creator)."""
    request = {
        name: {
            "num_partitions": settings.partitions,
            "replication_factor": settings.replication_factor,
            "configs": dict(config),
        }
        for name, config in missing.items()
    }
    # raise_errors=False: a topic another process created meanwhile must not hide what
    # happened to the others of the same request.
    response = admin.create_topics(request, timeout_ms=timeout_ms, raise_errors=False)
    created: set[str] = set()
    failures: list[tuple[type[kafka_errors.KafkaError], str]] = []
    for result in response["topics"]:
        error = kafka_errors.for_code(result["error_code"])
        if error is kafka_errors.NoError:
            created.add(result["name"])
        elif error is not kafka_errors.TopicAlreadyExistsError:
            failures.append((error, f"{result['name']}: {result.get('error_message') or error}"))
    if failures:
        error_type = failures[0][0]
        raise error_type("could not create topics: " + "; ".join(why for _, why in failures))
    admin.wait_for_topics(sorted(missing), timeout_ms=timeout_ms)
    if created:
        log.info("created topics %s", sorted(created))
    return created


def _check(
    admin: KafkaAdminClient, specs: Mapping[str, Mapping[str, str]], settings: TopicSettings
) -> list[TopicMismatch]:
    if not specs:
        return []
    layouts = {topic["name"]: topic for topic in admin.describe_topics(sorted(specs))}
    configs = _topic_configs(admin, specs)
    mismatches: list[TopicMismatch] = []
    for name, expected in specs.items():
        mismatches += _layout_mismatches(name, layouts.get(name), settings)
        mismatches += _config_mismatches(name, configs.get(name, {}), expected)
    return mismatches


def _topic_configs(
    admin: KafkaAdminClient, specs: Mapping[str, Mapping[str, str]]
) -> dict[str, dict[str, str | None]]:
    resources = [
        ConfigResource(ConfigResourceType.TOPIC, name, sorted(config))
        for name, config in specs.items()
    ]
    # ALL, not the default MODIFIED: a value the topic inherits from the broker is in force
    # as much as one set on the topic.
    described = admin.describe_configs(resources, config_filter=ConfigFilterType.ALL)
    return {
        name: {key: entry.get("value") for key, entry in entries.items()}
        for name, entries in described.get("topic", {}).items()
    }


def _layout_mismatches(
    name: str, layout: Mapping[str, Any] | None, settings: TopicSettings
) -> list[TopicMismatch]:
    if layout is None or layout.get("error_code", 0) != 0:
        error = kafka_errors.for_code(layout["error_code"]) if layout else "missing"
        raise kafka_errors.KafkaError(f"could not describe topic {name}: {error}")
    partitions = layout["partitions"]
    # The weakest partition counts: one under-replicated partition loses its events alike.
    replicas = min((len(p["replica_nodes"]) for p in partitions), default=0)
    found = {PARTITIONS: len(partitions), REPLICATION_FACTOR: replicas}
    expected = {PARTITIONS: settings.partitions, REPLICATION_FACTOR: settings.replication_factor}
    return [
        TopicMismatch(name, key, str(found[key]), str(expected[key]))
        for key in (PARTITIONS, REPLICATION_FACTOR)
        if found[key] != expected[key]
    ]


def _config_mismatches(
    name: str, found: Mapping[str, str | None], expected: Mapping[str, str]
) -> list[TopicMismatch]:
    return [
        TopicMismatch(name, key, _shown(found.get(key)), value)
        for key, value in sorted(expected.items())
        if _normalised(found.get(key)) != _normalised(value)
    ]


def _normalised(value: str | None) -> str | None:
    # List-valued configs compare as sets: "compact,delete" is "delete, compact".
    if value is None:
        return None
    return ",".join(sorted(part.strip() for part in value.split(",")))


def _shown(value: str | None) -> str:
    return "(not set)" if value is None else value


def _explain(mismatches: Sequence[TopicMismatch], bootstrap_servers: str) -> str:
    lines = [f"Kafka topics on {bootstrap_servers} differ from their configuration:"]
    lines += [
        f"  {m.topic}: {m.setting} is {m.found!r}, expected {m.expected!r}" for m in mismatches
    ]
    lines += ["Kafka does not change an existing topic by itself. To fix it:"]
    lines += [f"  {command}" for command in _fixes(mismatches, bootstrap_servers)]
    lines += [
        "(with the local broker of `make run`, run a tool as "
        'make kafka ARGS="configs <the same arguments>" or ARGS="topics ...")',
        "or, if the topics are right, set KAFKA_TOPIC_PARTITIONS, KAFKA_REPLICATION_FACTOR, "
        "KAFKA_MIN_INSYNC_REPLICAS or KAFKA_MIN_COMPACTION_LAG_MS to match them.",
    ]
    return "\n".join(lines)


def _fixes(mismatches: Sequence[TopicMismatch], bootstrap_servers: str) -> list[str]:
    server = f"--bootstrap-server {bootstrap_servers}"
    fixes = []
    for topic in _unique(m.topic for m in mismatches):
        own = [m for m in mismatches if m.topic == topic]
        configs = [m for m in own if m.setting not in (PARTITIONS, REPLICATION_FACTOR)]
        if configs:
            added = ",".join(_config_arg(m.setting, m.expected) for m in configs)
            fixes.append(
                f"kafka-configs.sh {server} --alter --entity-type topics "
                f"--entity-name {topic} --add-config {added}"
            )
        for m in own:
            if m.setting == PARTITIONS:
                fixes.append(
                    f"kafka-topics.sh {server} --alter --topic {topic} --partitions {m.expected}"
                    "  (partitions can only be added, and keys then move to other partitions:"
                    " for a state topic, recreate it and republish instead)"
                )
            elif m.setting == REPLICATION_FACTOR:
                fixes.append(
                    f"kafka-reassign-partitions.sh {server} with {m.expected} replicas for each"
                    f" partition of {topic} (kafka-configs cannot change a replication factor)"
                )
    return fixes


def _config_arg(key: str, value: str) -> str:
    # kafka-configs separates entries with commas: a list value goes in brackets.
    return f"{key}=[{value}]" if "," in value else f"{key}={value}"


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def topic_id(bootstrap_servers: str, topic: str, timeout_ms: int = 10_000) -> str | None:
    """The topic's Kafka id: a topic deleted and created again under its name has another."""
    with _admin(bootstrap_servers, timeout_ms) as admin:
        [described] = admin.describe_topics([topic])
    found = described.get("topic_id")
    return str(found) if found else None
