"""Composition root of the notifier: matches -> alerts and deliveries; a worker sends them.

One process, two threads: the consumer (matches, with the organisations projection kept
current before each batch) and the delivery worker (due deliveries, digests, outcome events).
"""

from __future__ import annotations

import os
import threading
import time

from sqlalchemy.orm import Session, sessionmaker

from notifications.channels.email import SmtpMailer, SmtpServer
from notifications.channels.webhook import WebhookSender
from notifications.config import NotifierConfig
from notifications.dispatch import EmailSender, WebhookDispatch, senders
from notifications.handler import MatchAlertHandler
from notifications.mail import MailComposer
from notifications.organisations import OrganisationStore
from notifications.outcomes import OutcomeRecorder
from notifications.tables import OutboxRow
from notifications.unsubscribe import UnsubscribeTokens
from notifications.wiring import category_label, lineage, webhook_policy
from notifications.worker import DeliveryWorker
from services.process import run_until_signalled
from shared.db import database_check, service_database
from shared.health import serve_health_from_env
from shared.kafka import EventConsumer, KafkaPublisher, TableReader, ensure_topics, standard_topics
from shared.logs import configure_logging
from shared.outbox import OutboxRelay
from shared.settings import Settings
from shared.taxonomy import Taxonomy

GROUP_ID = "notifications"


def build_worker(
    settings: Settings,
    config: NotifierConfig,
    sessions: sessionmaker[Session],
    publisher: KafkaPublisher,
) -> DeliveryWorker:
    """The delivery worker with its three channels."""
    taxonomy = Taxonomy.load_default()
    base_url = settings.public_base_url
    email = EmailSender(
        MailComposer(base_url, config.mail_from, category_label(taxonomy)),
        SmtpMailer(SmtpServer.from_url(config.smtp_url), config.smtp_timeout_s),
        UnsubscribeTokens(settings.secret_key),
        base_url,
    )
    webhook = WebhookDispatch(
        WebhookSender(webhook_policy(config, settings.is_development)), base_url
    )
    return DeliveryWorker(
        sessions,
        senders(email, webhook),
        OutcomeRecorder(settings.topics.deliveries),
        config.retry,
        relay=OutboxRelay(sessions, publisher, OutboxRow),
        poll_interval_s=config.worker_poll_interval_s,
    )


def main() -> None:
    """Turn matches into alerts and deliver them until SIGTERM or Ctrl-C."""
    configure_logging("notifier")
    settings, config = Settings.from_env(), NotifierConfig.from_env()
    url = settings.notifications_database_url
    engine, sessions = service_database(url, "notifications")
    bootstrap = settings.kafka_bootstrap_servers
    ensure_topics(bootstrap, standard_topics(settings.topics))
    publisher = KafkaPublisher(bootstrap, "notifier", settings.kafka_request_timeout_ms)
    organisations = TableReader(
        bootstrap, settings.topics.organisations, OrganisationStore(sessions).apply
    )
    handler = MatchAlertHandler(
        sessions,
        OutcomeRecorder(settings.topics.deliveries),
        lineage(Taxonomy.load_default()),
        config.zone,
    )
    consumer = EventConsumer(
        bootstrap,
        os.environ.get("NOTIFIER_GROUP_ID", GROUP_ID),
        [settings.topics.matches],
        handler,
        publisher,
        # Organisations written before a match are known when the match is handled.
        before_batch=organisations.catch_up,
    )
    # The worker's own producer: a reset after a broker error must not touch the consumer's.
    outcomes = KafkaPublisher(bootstrap, "notifier-deliveries", settings.kafka_request_timeout_ms)
    worker = build_worker(settings, config, sessions, outcomes)
    server = serve_health_from_env("notifier", 8004, {"database": database_check(engine)})

    def run(stop: threading.Event) -> None:
        delivering = threading.Thread(target=worker.run, args=(stop,), name="deliveries")
        delivering.start()
        refreshed = 0.0
        try:
            while not stop.is_set():
                consumer.poll_once()
                if time.monotonic() - refreshed > config.organisations_refresh_s:
                    # Also when no match comes: new API tokens must work promptly.
                    organisations.catch_up()
                    refreshed = time.monotonic()
        finally:
            stop.set()
            consumer.close()
            organisations.close()
            delivering.join(timeout=30)

    try:
        run_until_signalled(run)
    finally:
        server.shutdown()
        outcomes.close()
        publisher.close()


if __name__ == "__main__":
    main()
