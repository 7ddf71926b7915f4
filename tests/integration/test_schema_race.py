"""Several processes of a service start at once on a fresh PostgreSQL database."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from shared.db import make_engine
from tests.conftest import random_id

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("round_", range(10))
def test_processes_creating_their_schema_at_once_all_start(postgres_url: str, round_: int) -> None:
    schema = random_id("race").replace("-", "_")
    start, failures = threading.Barrier(12), []

    def start_process() -> None:
        start.wait()
        try:
            make_engine(postgres_url, schema).dispose()
        except Exception as exc:  # what a process would have died of
            failures.append(exc)

    threads = [threading.Thread(target=start_process) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    engine = make_engine(postgres_url)
    with engine.connect() as connection:
        found = connection.execute(
            text("select count(*) from pg_namespace where nspname = :s"), {"s": schema}
        ).scalar()
    engine.dispose()
    assert found == 1
