"""Composition root of the outbox relay process: listings database -> Kafka."""

from __future__ import annotations

import logging

from listings.outbox import OutboxRelay
from services.process import run_until_signalled
from shared.db import make_engine, make_session_factory, migrate
from shared.health import serve_health_from_env
from shared.kafka import KafkaPublisher
from shared.logs import configure_logging
from shared.settings import Settings

log = logging.getLogger(__name__)


def main() -> None:
    """Relay outbox rows until SIGTERM or Ctrl-C."""
    configure_logging("listings-relay")
    settings = Settings.from_env()
    url = settings.listings_database_url
    migrate(url, "listings:migrations", "alembic_version_listings")
    publisher = KafkaPublisher(
        settings.kafka_bootstrap_servers, "listings-relay", settings.kafka_request_timeout_ms
    )
    relay = OutboxRelay(make_session_factory(make_engine(url)), publisher)
    server = serve_health_from_env("listings-relay", 8005, {"outbox": relay.pending})
    try:
        run_until_signalled(lambda stop: relay.run(stop, settings.outbox_poll_interval_s))
    finally:
        server.shutdown()
        publisher.close()


if __name__ == "__main__":
    main()
