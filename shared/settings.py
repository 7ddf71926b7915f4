"""Settings read from environment variables, with defaults for the local run."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from shared.identity import IdentitySigner

REPO_ROOT = Path(__file__).resolve().parents[1]
# Where `make run` keeps its SQLite files, broker log dir and caught e-mails.
DEFAULT_VAR_DIR = Path(os.environ.get("BOUCLE_VAR_DIR", str(REPO_ROOT / "var")))


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _sqlite_url(name: str) -> str:
    return f"sqlite:///{DEFAULT_VAR_DIR / name}.db"


@dataclass(frozen=True)
class Topics:
    """Topic names; the roles are fixed, the names may be prefixed per environment."""

    listings: str = "listings"
    organisations: str = "organisations"
    matches: str = "matches"
    deliveries: str = "deliveries"
    exchanges: str = "exchanges"
    #: e-mails about accounts (confirm an address, reset a password, invitations)
    account_mail: str = "account-mail"

    @staticmethod
    def dead_letter(topic: str) -> str:
        """Name of the dead-letter topic beside `topic`."""
        return f"{topic}.dlq"


#: A week: long enough for every consumer to have handled a change.
SEVEN_DAYS_MS = 7 * 24 * 60 * 60 * 1000


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise RuntimeError(f"{name} must be an integer, not {raw!r}") from None


@dataclass(frozen=True)
class TopicSettings:
    """How the exchange's topics are created and checked; a single local broker by default."""

    partitions: int = 3
    replication_factor: int = 1
    # With acks=all a write succeeds once this many replicas have it: 2 (of 3) keeps every
    # acknowledged event through the loss of one broker.
    min_insync_replicas: int = 1
    # Compaction leaves a listing's or organisation's previous version in place this long,
    # so no consumer that is behind misses the change it was part of.
    min_compaction_lag_ms: int = SEVEN_DAYS_MS
    # Dead letters stay until they are replayed or purged, however long that takes.
    dead_letter_retention_ms: int = -1

    def __post_init__(self) -> None:
        if min(self.partitions, self.replication_factor, self.min_insync_replicas) < 1:
            raise ValueError(f"topic partitions and replica counts must be at least 1: {self}")
        if self.min_insync_replicas > self.replication_factor:
            # Every acks=all write would fail with NOT_ENOUGH_REPLICAS.
            raise ValueError(
                f"KAFKA_MIN_INSYNC_REPLICAS ({self.min_insync_replicas}) cannot exceed "
                f"KAFKA_REPLICATION_FACTOR ({self.replication_factor})"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TopicSettings:
        """Read the KAFKA_TOPIC_PARTITIONS, KAFKA_*_REPLICA* and compaction lag variables."""
        env = os.environ if environ is None else environ
        return cls(
            partitions=_env_int(env, "KAFKA_TOPIC_PARTITIONS", cls.partitions),
            replication_factor=_env_int(env, "KAFKA_REPLICATION_FACTOR", cls.replication_factor),
            min_insync_replicas=_env_int(env, "KAFKA_MIN_INSYNC_REPLICAS", cls.min_insync_replicas),
            min_compaction_lag_ms=_env_int(
                env, "KAFKA_MIN_COMPACTION_LAG_MS", cls.min_compaction_lag_ms
            ),
        )


@dataclass(frozen=True)
class Retention:
    """How long bookkeeping rows are kept before the owning process purges them.

    Sent outbox rows are only history once published; a processed-event record must
    outlive any redelivery of its event (an outage, a replay), so it is kept longer.
    """

    outbox: timedelta = timedelta(days=7)
    processed_events: timedelta = timedelta(days=14)
    interval_s: float = 3600.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Retention:
        """OUTBOX_RETENTION_HOURS, PROCESSED_EVENTS_RETENTION_HOURS, HOUSEKEEPING_INTERVAL_S."""
        return cls(
            outbox=timedelta(hours=float(env.get("OUTBOX_RETENTION_HOURS", 7 * 24))),
            processed_events=timedelta(
                hours=float(env.get("PROCESSED_EVENTS_RETENTION_HOURS", 14 * 24))
            ),
            interval_s=float(env.get("HOUSEKEEPING_INTERVAL_S", 3600)),
        )


@dataclass(frozen=True)
class Settings:
    """Everything a process needs to know about its surroundings."""

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    listings_database_url: str = field(default_factory=lambda: _sqlite_url("listings"))
    notifications_database_url: str = field(default_factory=lambda: _sqlite_url("notifications"))
    public_base_url: str = "http://127.0.0.1:8000"
    secret_key: str = "dev-only-secret-change-me"
    environment: str = "development"
    topics: Topics = field(default_factory=Topics)
    topic_settings: TopicSettings = field(default_factory=TopicSettings)
    kafka_request_timeout_ms: int = 10_000
    # How often the relay looks for new outbox rows: the floor of a listing-to-match latency.
    outbox_poll_interval_s: float = 0.05
    retention: Retention = field(default_factory=Retention)
    # Proxies in front of the web services whose X-Forwarded-* headers are believed: one,
    # Caddy (or the Python router). 0 when a service is reached directly.
    trusted_proxy_hops: int = 1
    # Where rate-limit counters live: memory for one process, Redis when several serve.
    ratelimit_storage_uri: str = "memory://"
    #: RATE_LIMITS=off switches the limits off (load tests; tests that are about other things)
    rate_limits: bool = True

    @property
    def is_development(self) -> bool:
        """True for local runs and tests, where dev-only defaults are acceptable."""
        return self.environment in {"development", "test"}

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Build settings from the environment; per-service URLs fall back to DATABASE_URL."""
        env = os.environ if environ is None else environ
        common_db = env.get("DATABASE_URL")
        environment = env.get("BOUCLE_ENV", "development")
        secret = env.get("SECRET_KEY")
        if not secret and environment not in {"development", "test"}:
            raise RuntimeError("SECRET_KEY must be set outside development (BOUCLE_ENV)")
        prefix = env.get("KAFKA_TOPIC_PREFIX", "")
        return cls(
            kafka_bootstrap_servers=env.get("KAFKA_BOOTSTRAP_SERVERS", cls.kafka_bootstrap_servers),
            listings_database_url=env.get("LISTINGS_DATABASE_URL")
            or common_db
            or _sqlite_url("listings"),
            notifications_database_url=env.get("NOTIFICATIONS_DATABASE_URL")
            or common_db
            or _sqlite_url("notifications"),
            public_base_url=env.get("PUBLIC_BASE_URL", cls.public_base_url).rstrip("/"),
            secret_key=secret or cls.secret_key,
            environment=environment,
            topics=Topics(
                listings=f"{prefix}listings",
                organisations=f"{prefix}organisations",
                matches=f"{prefix}matches",
                deliveries=f"{prefix}deliveries",
                exchanges=f"{prefix}exchanges",
                account_mail=f"{prefix}account-mail",
            ),
            topic_settings=TopicSettings.from_env(env),
            kafka_request_timeout_ms=int(env.get("KAFKA_REQUEST_TIMEOUT_MS", "10000")),
            outbox_poll_interval_s=float(env.get("OUTBOX_POLL_INTERVAL_S", "0.05")),
            retention=Retention.from_env(env),
            trusted_proxy_hops=int(env.get("TRUSTED_PROXY_HOPS", "1")),
            ratelimit_storage_uri=env.get("RATELIMIT_STORAGE_URI", cls.ratelimit_storage_uri),
            rate_limits=env.get("RATE_LIMITS", "on") != "off",
        )

    @property
    def identity_signer(self) -> IdentitySigner:
        """Signs and checks the identity the edge forwards to every service (ADR 0007)."""
        return IdentitySigner(self.secret_key)
