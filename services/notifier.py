"""Composition root of the notifier process: matches topic -> alerts in its database."""

from __future__ import annotations

import os

from notifications.handler import MatchAlertHandler
from notifications.store import AlertStore
from services.process import run_until_signalled
from shared.db import database_check, make_engine, make_session_factory, migrate
from shared.health import serve_health_from_env
from shared.kafka import EventConsumer, KafkaPublisher, ensure_topics, standard_topics
from shared.logs import configure_logging
from shared.settings import Settings

GROUP_ID = "notifications"


def main() -> None:
    """Turn matches into alerts until SIGTERM or Ctrl-C."""
    configure_logging("notifier")
    settings = Settings.from_env()
    url = settings.notifications_database_url
    migrate(url, "notifications:migrations", "alembic_version_notifications")
    engine = make_engine(url)
    bootstrap = settings.kafka_bootstrap_servers
    ensure_topics(bootstrap, standard_topics(settings.topics))
    publisher = KafkaPublisher(bootstrap, "notifier", settings.kafka_request_timeout_ms)
    consumer = EventConsumer(
        bootstrap,
        os.environ.get("NOTIFIER_GROUP_ID", GROUP_ID),
        [settings.topics.matches],
        MatchAlertHandler(AlertStore(make_session_factory(engine))),
        publisher,
    )

    server = serve_health_from_env("notifier", 8004, {"database": database_check(engine)})
    try:
        run_until_signalled(consumer.run)
    finally:
        server.shutdown()
        publisher.close()


if __name__ == "__main__":
    main()
