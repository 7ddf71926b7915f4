"""Composition root of a matcher process: a replica of active listings + a work consumer.

Several matchers may run in one consumer group: they share the partitions of the listings
topic for the work, while each reads the whole topic into its own index for the lookup.
"""

from __future__ import annotations

import os

from matching.domain import ListingIndex
from matching.handler import MatchingHandler, apply_to_index
from services.process import run_until_signalled
from shared.events import Event
from shared.health import serve_health_from_env
from shared.kafka import EventConsumer, KafkaPublisher, TableReader, ensure_topics, standard_topics
from shared.logs import configure_logging
from shared.settings import Settings

GROUP_ID = "matching"


def main() -> None:
    """Match listings until SIGTERM or Ctrl-C."""
    configure_logging("matcher")
    settings = Settings.from_env()
    bootstrap = settings.kafka_bootstrap_servers
    ensure_topics(bootstrap, standard_topics(settings.topics))
    index = ListingIndex()
    replica = TableReader(bootstrap, settings.topics.listings, lambda e: apply_to_index(index, e))
    replica.catch_up(timeout_s=300)
    publisher = KafkaPublisher(bootstrap, "matcher", settings.kafka_request_timeout_ms)

    def publish(event: Event) -> None:
        publisher.publish(settings.topics.matches, event)

    consumer = EventConsumer(
        bootstrap,
        os.environ.get("MATCHER_GROUP_ID", GROUP_ID),
        [settings.topics.listings],
        MatchingHandler(index, publish),
        publisher,
        # The replica must hold everything written before this batch, so a pair whose two
        # sides sit in different partitions is seen by whichever side comes second.
        before_batch=replica.catch_up,
        after_batch=publisher.flush,
    )
    server = serve_health_from_env("matcher", 8003, {"index": lambda: len(index)})
    try:
        run_until_signalled(consumer.run)
    finally:
        server.shutdown()
        replica.close()
        publisher.close()


if __name__ == "__main__":
    main()
