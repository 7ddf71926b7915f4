"""Fixtures for the real parts: a Kafka broker and a PostgreSQL server for the whole session.

Order of preference: what the environment names (KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL);
else testcontainers when a Docker engine answers; else the project's local tooling (Kafka
jars from Maven Central, the installed PostgreSQL). In CI (CI=true) a part that fails to
start fails the run; elsewhere the tests that need it are skipped with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def random_id(prefix: str = "t") -> str:
    """A short unique name, so runs and tests never collide on topics, groups or rows."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _docker_answers() -> bool:
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


def _unavailable(part: str, error: BaseException) -> None:
    message = f"{part} could not be started: {error}"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap servers of a real broker, started for the session if none is given."""
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield given
        return
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer().with_kraft() as container:
            yield container.get_bootstrap_server()
        return
    from services.devtools.kafka import LocalKafka

    broker = LocalKafka()
    try:
        broker.start()
    except Exception as exc:
        _unavailable("Kafka", exc)
    try:
        yield broker.bootstrap_servers
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """URL of a real PostgreSQL database, started for the session if none is given."""
    given = os.environ.get("DATABASE_URL")
    if given:
        yield given
        return
    if _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16", driver="psycopg") as container:
            yield container.get_connection_url()
        return
    from services.devtools.postgres import LocalPostgres

    server = LocalPostgres()
    try:
        server.start()
    except Exception as exc:
        _unavailable("PostgreSQL", exc)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def topic_prefix() -> str:
    """A topic prefix of the test's own, so tests sharing the broker never see each other."""
    return random_id("test") + "."


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """Create an empty database of its own on the server; drop it afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = random_id("db").replace("-", "_")
    server = make_url(server_url)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty database of the test's own on the session's PostgreSQL server."""
    with fresh_database(postgres_server_url) as url:
        yield url


@pytest.fixture(scope="module")
def module_postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh database shared by the tests of one module (for costly set-ups)."""
    with fresh_database(postgres_server_url) as url:
        yield url
