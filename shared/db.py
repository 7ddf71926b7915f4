"""SQLAlchemy 2.x engine, unit of work and Alembic migrations, shared by every service.

Each service owns its tables and its own migration history (its own Alembic version
table), so two services may share one PostgreSQL database without sharing a schema.
"""

from __future__ import annotations

import datetime as dt
import logging
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, Engine, TypeDecorator, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """An aware UTC datetime on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: store aware UTC datetimes only")
        return value.astimezone(dt.UTC) if value is not None else None

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value


def make_engine(url: str, schema: str | None = None) -> Engine:
    """An engine tuned for the URL's backend (SQLite for local runs, PostgreSQL otherwise).

    On PostgreSQL, `schema` gives the service a schema of its own (created if missing and
    first on the search path), so services sharing one database never share a table name.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    if schema is not None:
        _use_schema(engine, schema)
    return engine


def _use_schema(engine: Engine, schema: str) -> None:
    if not schema.isidentifier():
        raise ValueError(f"not a schema name: {schema!r}")
    with engine.begin() as connection:
        # Several processes of a service start at once: IF NOT EXISTS alone still lets two
        # of them race on the catalogue (a unique violation), so they take turns.
        key = zlib.crc32(f"boucle schema {schema}".encode())
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))

    def set_search_path(dbapi_connection: Any, _record: Any) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        cursor = dbapi_connection.cursor()
        cursor.execute(f'SET search_path TO "{schema}", public')
        cursor.close()
        dbapi_connection.autocommit = autocommit

    event.listen(engine, "connect", set_search_path)
    engine.dispose()  # connections opened before the listener lack the search path


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the web app and the outbox relay (two processes) read and write the same file.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (views serialise them then)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction: committed if the block returns, rolled back if it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def in_chunks(values: Sequence[str], size: int = 1000) -> Iterator[Sequence[str]]:
    """`values` in slices short enough for one `IN (...)` list each (a poll's run of events
    can name thousands of listings; databases bound a statement's parameters)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def migrate(url: str, script_location: str, version_table: str, schema: str | None = None) -> None:
    """Bring the database at `url` to the newest revision of one service's migrations."""
    config = Config()
    config.attributes["schema"] = schema
    config.set_main_option("script_location", script_location)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["version_table"] = version_table
    command.upgrade(config, "head")
    log.info("migrated %s (%s)", script_location, version_table)


def database_check(engine: Engine) -> Callable[[], None]:
    """A health check that passes when the database answers a trivial query."""

    def check() -> None:
        with engine.connect() as connection:
            connection.execute(text("select 1"))

    return check


def service_database(url: str, service: str) -> tuple[Engine, sessionmaker[Session]]:
    """A service's database, migrated to its newest revision: its `<service>:migrations`,
    its own version table and, on PostgreSQL, its own schema named after it."""
    migrate(url, f"{service}:migrations", f"alembic_version_{service}", schema=service)
    engine = make_engine(url, schema=service)
    return engine, make_session_factory(engine)
