"""The feeds process: many open live feeds on one event loop, each told only its own news."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import http.client
import json
import socket
import threading
from collections.abc import Iterator

import pytest
from aiohttp import web

from monitor.config import MonitorConfig
from notifications.config import NotifierConfig
from notifications.handler import MatchAlertHandler
from notifications.outcomes import OutcomeRecorder
from notifications.wiring import lineage
from services.feeds import build_app
from shared.auth import Principal
from shared.db import service_database
from shared.kafka import KafkaPublisher, ensure_topics, standard_topics
from shared.taxonomy import Taxonomy
from tests.conftest import random_id
from tests.edge_identity import identity_headers
from tests.integration.kafka_helpers import wait_for
from tests.integration.monitor_helpers import monitor_settings
from tests.integration.test_notif_support import match_event

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SCRIPT_TOKEN = "script-token-for-the-tail"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclasses.dataclass
class Feeds:
    port: int
    secret_key: str
    handler: MatchAlertHandler
    matches_topic: str
    bootstrap: str


@pytest.fixture(scope="module")
def feeds(kafka_bootstrap: str, module_postgres_url: str) -> Iterator[Feeds]:
    settings = dataclasses.replace(
        monitor_settings(kafka_bootstrap, random_id("feeds") + "."),
        notifications_database_url=module_postgres_url,
    )
    ensure_topics(kafka_bootstrap, standard_topics(settings.topics))
    app = build_app(
        settings, MonitorConfig(api_token=SCRIPT_TOKEN), inbox_poll_s=0.1, keepalive_s=1.0
    )
    _, sessions = service_database(module_postgres_url, "notifications")
    handler = MatchAlertHandler(
        sessions,
        OutcomeRecorder("deliveries"),
        lineage(Taxonomy.load_default()),
        NotifierConfig().zone,
    )
    with serving(app) as port:
        yield Feeds(port, settings.secret_key, handler, settings.topics.matches, kafka_bootstrap)


@contextlib.contextmanager
def serving(app: web.Application) -> Iterator[int]:
    """The app on a loop of its own, on a free loopback port, as the process would run it."""
    loop = asyncio.new_event_loop()
    # As the process runs it (run_app's shutdown_timeout=5): feeds still open at the end are
    # closed after 5 s, not aiohttp's default 60 s.
    runner = web.AppRunner(app, shutdown_timeout=5)
    port = free_port()
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(30), "the feeds app did not start"
    try:
        yield port
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


class OpenFeed:
    """One open event stream, read on a thread of its own."""

    def __init__(self, port: int, path: str, headers: dict[str, str]) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.connection.request("GET", path, headers=headers)
        self.response = self.connection.getresponse()
        self.received = b""
        if self.response.status == 200:
            threading.Thread(target=self._read, daemon=True).start()
        else:
            self.received = self.response.read()

    def _read(self) -> None:
        with contextlib.suppress(OSError, AttributeError, ValueError, http.client.HTTPException):
            while chunk := self.response.read1(4096):
                self.received += chunk

    def close(self) -> None:
        if self.connection.sock is not None:
            with contextlib.suppress(OSError):
                self.connection.sock.shutdown(socket.SHUT_RDWR)
        self.connection.close()


def get_json(port: int, path: str) -> dict[str, object]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        return dict(json.loads(connection.getresponse().read()))
    finally:
        connection.close()


def member_of(feeds: Feeds, organisation_id: str, role: str = "member") -> dict[str, str]:
    principal = Principal(organisation_id, random_id("member"), role)
    return identity_headers(principal, feeds.secret_key)


def test_a_new_alert_wakes_every_open_inbox_of_its_organisation_and_no_other(feeds: Feeds):
    buyer, seller, bystander = random_id("buyer"), random_id("seller"), random_id("other")
    opened = [OpenFeed(feeds.port, "/inbox/stream", member_of(feeds, buyer)) for _ in range(60)]
    others = [OpenFeed(feeds.port, "/inbox/stream", member_of(feeds, bystander)) for _ in range(5)]
    try:
        wait_for(lambda: all(b": connected" in f.received for f in opened + others), 20)
        # 65 feeds held by one process: it still answers at once, and counts them.
        assert get_json(feeds.port, "/health")["open_feeds"] == {"inbox": 65, "tail": 0}
        feeds.handler(match_event(random_id("m"), seller, buyer, "Fresh apples"))
        wait_for(lambda: all(b"event: changed" in f.received for f in opened), 10)
        # Keep-alives go to everyone; news only to the organisation it is for.
        wait_for(lambda: all(b": keep-alive" in f.received for f in others), 10)
        assert not any(b"event: changed" in f.received for f in others)
    finally:
        for feed in opened + others:
            feed.close()
    wait_for(lambda: get_json(feeds.port, "/health")["open_feeds"] == {"inbox": 0, "tail": 0}, 10)


def test_an_inbox_feed_is_for_logged_in_members_only(feeds: Feeds):
    organisation = random_id("org")
    anonymous = OpenFeed(feeds.port, "/inbox/stream", {})
    assert anonymous.response.status == 401
    assert "Log in" in json.loads(anonymous.received)["message"]
    token_only = identity_headers(Principal(organisation), feeds.secret_key)
    assert OpenFeed(feeds.port, "/inbox/stream", token_only).response.status == 401
    forged = identity_headers(Principal(organisation, "someone"), "not-the-key")
    refused = OpenFeed(feeds.port, "/inbox/stream", forged)
    assert refused.response.status == 401
    assert "signature" in json.loads(refused.received)["message"]


def test_the_live_tail_is_for_admins_and_brings_each_new_message(feeds: Feeds):
    organisation = random_id("org")
    assert OpenFeed(feeds.port, "/monitor/tail/stream", {}).response.status == 401
    member = OpenFeed(feeds.port, "/monitor/tail/stream", member_of(feeds, organisation))
    assert member.response.status == 403
    admin = OpenFeed(feeds.port, "/monitor/tail/stream", member_of(feeds, "admins", role="admin"))
    script = OpenFeed(
        feeds.port,
        f"/monitor/tail/stream?organisation={organisation}",
        {"Authorization": f"Bearer {SCRIPT_TOKEN}"},
    )
    try:
        wait_for(lambda: b": connected" in admin.received and b": connected" in script.received)
        event = match_event(random_id("m"), organisation, random_id("buyer"), "Tail check")
        publisher = KafkaPublisher(feeds.bootstrap, "feeds-test")
        # The follower may still be finding the topic's end: publish until the tail shows it.
        sent = []

        def shown() -> bool:
            if not sent or len(sent) < 20:
                publisher.publish(feeds.matches_topic, event).get(30)
                sent.append(event)
            return event.id.encode() in admin.received

        wait_for(shown, 30)
        publisher.close()
        wait_for(lambda: event.id.encode() in script.received, 10)
        assert b"event: message" in admin.received and b"boucle.match.found" in admin.received
    finally:
        admin.close()
        script.close()
