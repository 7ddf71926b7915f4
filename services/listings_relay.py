"""Composition root of the listings relay process: outbox -> Kafka, and the expiry sweep.

Expiry lives here rather than in the web process: exactly one process of the service
applies it, on a timer, and its events leave through the same outbox.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

from listings.exchange_service import ExchangeService
from listings.service import ListingService
from listings.tables import OutboxRow
from services.process import run_until_signalled
from shared.db import service_database
from shared.faults import backoff_s
from shared.health import serve_health_from_env
from shared.kafka import KafkaPublisher, ensure_topics, standard_topics
from shared.logs import configure_logging
from shared.metrics import OUTBOX_BACKLOG, observe_gauge
from shared.outbox import OutboxRelay
from shared.settings import Settings
from shared.topics import TopicConfigError

log = logging.getLogger(__name__)


def _expire_periodically(
    sweeps: dict[str, Callable[[], int]], stop: threading.Event, interval_s: float
) -> None:
    while not stop.wait(interval_s):
        for what, sweep in sweeps.items():
            try:
                expired = sweep()
                if expired:
                    log.info("expired %d %s", expired, what)
            except Exception:
                log.exception("expiry of %s failed; trying again at the next tick", what)


def _topics_ensured(settings: Settings, stop: threading.Event) -> bool:
    attempt = 0
    while not stop.is_set():
        try:
            ensure_topics(settings.kafka_bootstrap_servers, standard_topics(settings.topics))
            return True
        except TopicConfigError:
            raise
        except Exception as exc:
            attempt += 1
            log.warning("waiting for Kafka to ensure the topics: %r", exc)
            stop.wait(backoff_s(attempt, cap_s=10.0))
    return False


def main() -> None:
    """Relay outbox rows and expire listings until SIGTERM or Ctrl-C."""
    configure_logging("listings-relay")
    settings = Settings.from_env()
    _, sessions = service_database(settings.listings_database_url, "listings")
    publisher = KafkaPublisher(
        settings.kafka_bootstrap_servers, "listings-relay", settings.kafka_request_timeout_ms
    )
    relay = OutboxRelay(
        sessions,
        publisher,
        OutboxRow,
        retention=settings.retention.outbox,
        purge_interval_s=settings.retention.interval_s,
    )
    listings = ListingService(sessions, settings.topics.listings)
    exchanges = ExchangeService(sessions, settings.topics)
    # Listings past their end, and requests whose answer is overdue.
    sweeps = {"listings": listings.expire_due, "exchange requests": exchanges.expire_due}
    observe_gauge(OUTBOX_BACKLOG, relay.pending)
    server = serve_health_from_env("listings-relay", 8005, {"outbox": relay.pending})

    def work(stop: threading.Event) -> None:
        # Before the first publish: with auto-creation off, a missing topic would block it.
        # A broker that is down only delays this; a topic configured otherwise stops it.
        if not _topics_ensured(settings, stop):
            return
        # How often listings past their end are expired (and their matches retracted).
        interval_s = float(os.environ.get("EXPIRY_INTERVAL_S", "60"))
        sweeper = threading.Thread(
            target=_expire_periodically, args=(sweeps, stop, interval_s), daemon=True
        )
        sweeper.start()
        relay.run(stop, settings.outbox_poll_interval_s)

    try:
        run_until_signalled(work)
    finally:
        server.shutdown()
        publisher.close()


if __name__ == "__main__":
    main()
