"""Composition root of the listings relay process: outbox -> Kafka, and the expiry sweep.

Expiry lives here rather than in the web process: exactly one process of the service
applies it, on a timer, and its events leave through the same outbox.
"""

from __future__ import annotations

import logging
import threading

from listings.service import ListingService
from listings.tables import OutboxRow
from services.process import run_until_signalled
from shared.db import service_database
from shared.health import serve_health_from_env
from shared.kafka import KafkaPublisher
from shared.logs import configure_logging
from shared.metrics import OUTBOX_BACKLOG, observe_gauge
from shared.outbox import OutboxRelay
from shared.settings import Settings

log = logging.getLogger(__name__)
EXPIRY_INTERVAL_S = 60.0


def _expire_periodically(service: ListingService, stop: threading.Event) -> None:
    while not stop.wait(EXPIRY_INTERVAL_S):
        try:
            expired = service.expire_due()
            if expired:
                log.info("expired %d listings", expired)
        except Exception:
            log.exception("expiry sweep failed; trying again at the next tick")


def main() -> None:
    """Relay outbox rows and expire listings until SIGTERM or Ctrl-C."""
    configure_logging("listings-relay")
    settings = Settings.from_env()
    _, sessions = service_database(settings.listings_database_url, "listings")
    publisher = KafkaPublisher(
        settings.kafka_bootstrap_servers, "listings-relay", settings.kafka_request_timeout_ms
    )
    relay = OutboxRelay(sessions, publisher, OutboxRow)
    listings = ListingService(sessions, settings.topics.listings)
    observe_gauge(OUTBOX_BACKLOG, relay.pending)
    server = serve_health_from_env("listings-relay", 8005, {"outbox": relay.pending})

    def work(stop: threading.Event) -> None:
        sweeper = threading.Thread(target=_expire_periodically, args=(listings, stop), daemon=True)
        sweeper.start()
        relay.run(stop, settings.outbox_poll_interval_s)

    try:
        run_until_signalled(work)
    finally:
        server.shutdown()
        publisher.close()


if __name__ == "__main__":
    main()
