"""The listings service's database, migrated, for every listings process (web, relay, CLI)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from shared.db import make_engine, make_session_factory, migrate
from shared.settings import Settings

SCHEMA = "listings"


def listings_database(settings: Settings) -> tuple[Engine, sessionmaker[Session]]:
    """Migrate the listings schema to the newest revision; return its engine and sessions."""
    url = settings.listings_database_url
    migrate(url, "listings:migrations", "alembic_version_listings", schema=SCHEMA)
    engine = make_engine(url, schema=SCHEMA)
    return engine, make_session_factory(engine)
