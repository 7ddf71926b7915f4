"""The body of every service's Alembic env.py: online migrations with its own version table.

Several processes of one service (web app, relay) migrate on start; a lock makes the first
one do the work while the others wait and then find nothing left to do.
"""

from __future__ import annotations

import fcntl
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import context
from sqlalchemy import Connection, MetaData, text

from shared.db import make_engine


@contextmanager
def _sqlite_file_lock(database: str | None) -> Iterator[None]:
    if not database or database == ":memory:":
        yield
        return
    with open(Path(database).with_suffix(".migrate.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _lock_postgres(connection: Connection, version_table: str) -> None:
    # Released when the migration transaction ends.
    key = zlib.crc32(version_table.encode())
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def run_migrations(target_metadata: MetaData) -> None:
    """Run the pending migrations of the service whose env.py calls this."""
    config = context.config
    version_table = config.attributes.get("version_table", "alembic_version")
    engine = make_engine(
        config.get_main_option("sqlalchemy.url") or "", config.attributes.get("schema")
    )
    is_sqlite = engine.dialect.name == "sqlite"
    lock = _sqlite_file_lock(engine.url.database if is_sqlite else None)
    with lock, engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table=version_table,
            render_as_batch=is_sqlite,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                _lock_postgres(connection, version_table)
            context.run_migrations()
    engine.dispose()
