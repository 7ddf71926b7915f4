"""Every Boucle process on free ports for a test module: one exchange behind its edge."""

from __future__ import annotations

import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields

from services.stack import Ports, ServiceStack
from tests.conftest import random_id
from tests.integration.test_notif_support import SmtpSink, start_smtp


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def whole_stack(
    kafka_bootstrap: str,
    database_url: str,
    name: str,
    sink: SmtpSink | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[ServiceStack]:
    """The exchange on its own topics and groups, e-mails going to `sink` (a real SMTP
    server: registering sends confirmation e-mails), stopped afterwards."""
    controller, smtp_url = start_smtp(sink or SmtpSink())
    running = ServiceStack(
        kafka_bootstrap,
        Ports(*(free_port() for _ in fields(Ports))),
        extra_env={
            "DATABASE_URL": database_url,
            "KAFKA_TOPIC_PREFIX": random_id(name) + ".",
            "MATCHER_GROUP_ID": random_id("matching"),
            "NOTIFIER_GROUP_ID": random_id("notifications"),
            "LISTINGS_MATCHES_GROUP_ID": random_id("listings-matches"),
            "BOUCLE_ENV": "test",
            "SMTP_URL": smtp_url,
            **(env or {}),
        },
    )
    try:
        running.start(timeout=120)
        yield running
    finally:
        running.stop()
        controller.stop()
