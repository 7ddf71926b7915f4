"""The notifier killed with SIGKILL mid-stream and restarted: every alert once, none twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from shared.db import make_engine
from shared.kafka import KafkaPublisher, ensure_topics, standard_topics
from shared.settings import Topics
from tests.conftest import random_id
from tests.integration.kafka_helpers import wait_for
from tests.integration.test_notif_support import (
    SmtpSink,
    free_port,
    match_event,
    organisation_event,
    start_smtp,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
MATCHES = 30
REPO = Path(__file__).resolve().parents[2]


class KillingSink(SmtpSink):
    """Kills the notifier when the n-th e-mail is on the wire, before accepting it."""

    def __init__(self, kill_at: int) -> None:
        super().__init__()
        self.kill_at = kill_at
        self.pid: int | None = None
        self.killed = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if not self.killed and self.pid and len(self.received) + 1 >= self.kill_at:
            self.killed = True
            os.kill(self.pid, signal.SIGKILL)
            return "421 4.3.2 Service shutting down"
        return await super().handle_DATA(server, session, envelope)


def start_notifier(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "services.notifier"], env=env, cwd=REPO, stdout=out, stderr=out
        )


@pytest.fixture
def sink() -> Iterator[KillingSink]:
    killing = KillingSink(kill_at=MATCHES // 2)
    controller, url = start_smtp(killing)
    killing.url = url  # type: ignore[attr-defined]
    yield killing
    controller.stop()


def test_a_notifier_killed_mid_stream_sends_every_alert_once_and_none_twice(
    kafka_bootstrap: str, postgres_url: str, topic_prefix: str, sink: KillingSink, tmp_path: Path
) -> None:
    topics = Topics(
        f"{topic_prefix}listings",
        f"{topic_prefix}organisations",
        f"{topic_prefix}matches",
        f"{topic_prefix}deliveries",
        f"{topic_prefix}exchanges",
    )
    ensure_topics(kafka_bootstrap, standard_topics(topics))
    publisher = KafkaPublisher(kafka_bootstrap, "crash-test")
    seller, buyer = random_id("farm"), random_id("canteen")
    for org, address in ((seller, "farm@example.org"), (buyer, "canteen@example.org")):
        publisher.publish(topics.organisations, organisation_event(org, address, "en"))
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "NOTIFICATIONS_DATABASE_URL": postgres_url,
        "KAFKA_TOPIC_PREFIX": topic_prefix,
        "NOTIFIER_GROUP_ID": random_id("notifier"),
        "SMTP_URL": sink.url,  # type: ignore[attr-defined]
        "BOUCLE_ENV": "test",
        "HEALTH_PORT": str(free_port()),
        "NOTIFIER_POLL_INTERVAL_S": "0.1",
        "NOTIFIER_RETRY_BASE_S": "0.2",
    }
    log = tmp_path / "notifier.log"
    match_ids = [random_id("m") for _ in range(MATCHES)]
    first = start_notifier(env, log)
    sink.pid = first.pid
    try:
        for match_id in match_ids[: MATCHES * 2 // 3]:
            publisher.publish(topics.matches, match_event(match_id, seller, buyer))
        publisher.flush()
        wait_for(
            lambda: first.poll() is not None,
            timeout=90,
            what=f"the kill ({log.read_text()[-2000:]})",
        )
        assert first.returncode == -signal.SIGKILL
        for match_id in match_ids[MATCHES * 2 // 3 :]:
            publisher.publish(topics.matches, match_event(match_id, seller, buyer))
        publisher.flush()

        second = start_notifier(env, log)
        try:
            expected = 2 * MATCHES
            wait_for(lambda: len(sink.received) >= expected, timeout=90, what="every e-mail")
            wait_for(
                lambda: all_sent(postgres_url, expected), timeout=30, what="every delivery recorded"
            )
        finally:
            second.terminate()
            second.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
        publisher.close()

    ids = Counter(message["Message-ID"] for message in sink.received)
    assert [mid for mid, count in ids.items() if count > 1] == []
    links = {(m["To"], _listing_link(m)) for m in sink.received}
    assert links == {("canteen@example.org", f"offer-{m}") for m in match_ids} | {
        ("farm@example.org", f"need-{m}") for m in match_ids
    }
    assert len(sink.received) == 2 * MATCHES


def all_sent(database_url: str, expected: int) -> bool:
    engine = make_engine(database_url, schema="notifications")
    try:
        with engine.connect() as connection:
            counts = dict(
                connection.execute(
                    text(
                        "SELECT status, count(*) FROM deliveries"
                        " WHERE channel = 'email' GROUP BY status"
                    )
                ).all()
            )
    finally:
        engine.dispose()
    return counts == {"sent": expected}


def _listing_link(message: Any) -> str:
    body = message.get_body(("plain",)).get_content()
    return next(
        line.rsplit("/listings/", 1)[1].strip()
        for line in body.splitlines()
        if "/listings/" in line
    )
