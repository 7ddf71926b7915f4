"""Composition root of the listings service's match reader: `matches` topic -> read model.

It keeps each listing's current matches (found, minus retracted) in the listings database,
so owners see them on their listing page and at GET /api/v1/listings/{id}/matches.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from listings.match_projection import MatchProjection
from services.process import run_until_signalled
from shared.db import database_check, service_database
from shared.health import serve_health_from_env
from shared.kafka import EventConsumer, KafkaPublisher, ensure_topics, standard_topics
from shared.logs import configure_logging
from shared.settings import Settings

GROUP_ID = "listings-matches"


def main() -> None:
    """Project matches into the listings database until SIGTERM or Ctrl-C."""
    configure_logging("listings-matches")
    settings = Settings.from_env()
    engine, sessions = service_database(settings.listings_database_url, "listings")
    bootstrap = settings.kafka_bootstrap_servers
    ensure_topics(bootstrap, standard_topics(settings.topics))
    publisher = KafkaPublisher(bootstrap, "listings-matches", settings.kafka_request_timeout_ms)
    projection = MatchProjection(sessions)
    consumer = EventConsumer(
        bootstrap,
        os.environ.get("LISTINGS_MATCHES_GROUP_ID", GROUP_ID),
        [settings.topics.matches],
        projection,
        publisher,
        handle_batch=projection.handle_many,
    )
    checks: dict[str, Callable[[], object]] = {
        "database": database_check(engine),
        "consumer": consumer.health_check,
    }
    server = serve_health_from_env("listings-matches", 8007, checks)
    try:
        run_until_signalled(consumer.run)
    finally:
        server.shutdown()
        publisher.close()


if __name__ == "__main__":
    main()
