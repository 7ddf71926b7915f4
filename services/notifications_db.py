"""The notifier's database, migrated, for every notifications process (worker, web)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from shared.db import make_engine, make_session_factory, migrate

SCHEMA = "notifications"


def notifications_database(url: str) -> tuple[Engine, sessionmaker[Session]]:
    """Migrate the notifications schema to the newest revision; return engine and sessions."""
    migrate(url, "notifications:migrations", "alembic_version_notifications", schema=SCHEMA)
    engine = make_engine(url, schema=SCHEMA)
    return engine, make_session_factory(engine)
