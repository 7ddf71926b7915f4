"""Composition root of a matcher process: a replica of active listings + a work consumer.

Several matchers may run in one consumer group: they share the partitions of the listings
topic for the work, while each reads the whole topic into its own index for the lookup.
"""

from __future__ import annotations

import logging
import os

from matching.handler import MatchingHandler
from matching.index import ListingIndex
from matching.replica import DEFAULT_SUPERSEDED_TTL_S, Replica
from services.process import run_until_signalled
from shared.events import Event
from shared.geo.distance import country_of
from shared.health import serve_health_from_env
from shared.kafka import EventConsumer, KafkaPublisher, TableReader, ensure_topics, standard_topics
from shared.logs import configure_logging
from shared.settings import Settings
from shared.taxonomy import Taxonomy

GROUP_ID = "matching"
log = logging.getLogger(__name__)


def main() -> None:
    """Match listings until SIGTERM or Ctrl-C."""
    configure_logging("matcher")
    settings = Settings.from_env()
    bootstrap = settings.kafka_bootstrap_servers
    ensure_topics(bootstrap, standard_topics(settings.topics))
    ttl_s = float(os.environ.get("MATCHER_SUPERSEDED_TTL_S", DEFAULT_SUPERSEDED_TTL_S))
    replica = Replica(ListingIndex(Taxonomy.load_default(), country_of), ttl_s=ttl_s)
    table = TableReader(bootstrap, settings.topics.listings, replica.apply)
    loaded = table.catch_up(timeout_s=float(os.environ.get("MATCHER_STARTUP_TIMEOUT_S", "600")))
    log.info("replica rebuilt from %d listing events: %d active", loaded, len(replica))
    publisher = KafkaPublisher(bootstrap, "matcher", settings.kafka_request_timeout_ms)

    def publish(event: Event) -> None:
        publisher.publish(settings.topics.matches, event)

    consumer = EventConsumer(
        bootstrap,
        os.environ.get("MATCHER_GROUP_ID", GROUP_ID),
        [settings.topics.listings],
        MatchingHandler(replica, publish),
        publisher,
        # The replica must hold everything written before this batch, so a pair whose two
        # sides sit in different partitions is seen by whichever side comes second.
        before_batch=table.catch_up,
        after_batch=publisher.flush,
    )
    server = serve_health_from_env("matcher", 8003, {"index": lambda: len(replica)})
    try:
        run_until_signalled(consumer.run)
    finally:
        server.shutdown()
        table.close()
        publisher.close()


if __name__ == "__main__":
    main()
