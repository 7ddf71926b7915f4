"""Composition root of a matcher process: a replica of active listings + a work consumer.

Several matchers may run in one consumer group: they share the partitions of the listings
topic for the work, while each reads the whole topic into its own index for the lookup.
A batch's matches and its consumed offsets are committed in one Kafka transaction.
"""

from __future__ import annotations

import logging
import os
import socket

from matching.handler import MatchingHandler
from matching.index import ListingIndex
from matching.replica import Replica
from services.process import run_until_signalled
from shared.events import Event
from shared.geo.distance import country_of
from shared.health import serve_health_from_env
from shared.kafka import (
    ConsumerOptions,
    EventConsumer,
    KafkaPublisher,
    TableReader,
    TransactionalPublisher,
    dead_letters_to,
    ensure_topics,
    standard_topics,
)
from shared.logs import configure_logging
from shared.settings import Settings
from shared.taxonomy import Taxonomy

GROUP_ID = "matching"
log = logging.getLogger(__name__)


def transactional_id(group_id: str) -> str:
    """This instance's transactional id: MATCHER_INSTANCE_ID names a stable instance slot
    (a restart then fences its predecessor at once); by default host and process."""
    instance = os.environ.get("MATCHER_INSTANCE_ID") or f"{socket.gethostname()}-{os.getpid()}"
    return f"{group_id}-{instance}"


def main() -> None:
    """Match listings until SIGTERM or Ctrl-C."""
    configure_logging("matcher")
    settings = Settings.from_env()
    bootstrap = settings.kafka_bootstrap_servers
    ensure_topics(bootstrap, standard_topics(settings.topics))
    group_id = os.environ.get("MATCHER_GROUP_ID", GROUP_ID)
    timeout_ms = settings.kafka_request_timeout_ms
    dead_letters = KafkaPublisher(bootstrap, "matcher-replica", timeout_ms)
    replica = Replica(ListingIndex(Taxonomy.load_default(), country_of))
    table = TableReader(
        bootstrap,
        settings.topics.listings,
        replica.apply,
        dead_letter=dead_letters_to(dead_letters),
        name=f"{group_id}-replica",
    )
    loaded = table.catch_up()
    log.info("replica rebuilt from %d listing events: %d active", loaded, len(replica))
    # A crashed instance's open transaction holds back read_committed readers until this
    # passes (unless a restart with the same MATCHER_INSTANCE_ID fences it first); a batch
    # must commit within it too.
    transaction_timeout_ms = int(os.environ.get("MATCHER_TRANSACTION_TIMEOUT_MS", "60000"))
    transactions = TransactionalPublisher(
        bootstrap, transactional_id(group_id), timeout_ms, transaction_timeout_ms
    )

    def publish(event: Event, key: str) -> None:
        transactions.publish(settings.topics.matches, event, key)

    consumer = EventConsumer(
        bootstrap,
        group_id,
        [settings.topics.listings],
        MatchingHandler(replica, publish),
        transactions,
        # A busy listing publishes hundreds of matches: smaller batches stay well inside
        # the poll interval at a million listings.
        ConsumerOptions(max_poll_records=100),
        # The replica must hold everything written before this batch, so a pair whose two
        # sides sit in different partitions is seen by whichever side comes second.
        before_batch=table.catch_up,
        transactions=transactions,
    )
    server = serve_health_from_env(
        "matcher",
        8003,
        {
            "index": lambda: len(replica),
            "consumer": consumer.health_check,
            "replica": table.health_check,
        },
    )
    try:
        run_until_signalled(consumer.run)
    finally:
        server.shutdown()
        table.close()
        transactions.close()
        dead_letters.close()


if __name__ == "__main__":
    main()
