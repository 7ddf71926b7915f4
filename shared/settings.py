"""Settings read from environment variables, with defaults for the local run."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

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

    @staticmethod
    def dead_letter(topic: str) -> str:
        """Name of the dead-letter topic beside `topic`."""
        return f"{topic}.dlq"


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
    kafka_request_timeout_ms: int = 10_000
    # How often the relay looks for new outbox rows: the floor of a listing-to-match latency.
    outbox_poll_interval_s: float = 0.05

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
            ),
            kafka_request_timeout_ms=int(env.get("KAFKA_REQUEST_TIMEOUT_MS", "10000")),
            outbox_poll_interval_s=float(env.get("OUTBOX_POLL_INTERVAL_S", "0.05")),
        )
