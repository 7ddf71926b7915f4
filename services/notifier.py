"""Composition root of the notifier: matches -> alerts and deliveries; a worker sends them.

One process, three threads: the consumer (matches and listings, with the organisations
projection kept current before each batch), the delivery worker (due deliveries, digests)
and the outcome relay (outcome events to Kafka: a broker outage must not stall e-mails).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from notifications.account_mail import AccountMailComposer, AccountMailHandler
from notifications.channels.email import SmtpMailer, SmtpServer
from notifications.channels.push import PushSender, VapidKeys
from notifications.channels.webhook import WebhookSender
from notifications.config import NotifierConfig
from notifications.dispatch import EmailSender, PushDispatch, WebhookDispatch, senders
from notifications.handler import MatchAlertHandler
from notifications.mail import MailComposer
from notifications.organisations import OrganisationStore
from notifications.outcomes import OutcomeRecorder
from notifications.push_store import forgetter
from notifications.tables import OutboxRow, processed_events
from notifications.unsubscribe import UnsubscribeTokens
from notifications.wiring import category_label, lineage, webhook_policy
from notifications.worker import DeliveryWorker
from services.process import run_until_signalled
from shared.db import database_check, service_database, unit_of_work
from shared.faults import is_transient
from shared.health import serve_health_from_env
from shared.housekeeping import Housekeeper
from shared.kafka import (
    EventConsumer,
    KafkaPublisher,
    TableReader,
    dead_letters_to,
    ensure_topics,
    standard_topics,
)
from shared.logs import configure_logging
from shared.outbox import OutboxRelay
from shared.settings import Settings
from shared.taxonomy import Taxonomy
from shared.tracking import purge_processed

GROUP_ID = "notifications"
log = logging.getLogger(__name__)


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
    # Push leaves like a webhook (same address checks) once VAPID_* are set.
    keys = VapidKeys.from_env(os.environ)
    checker = WebhookSender(webhook_policy(config, settings.is_development))
    push = PushDispatch(PushSender(keys, checker) if keys else None, base_url, forgetter(sessions))
    return DeliveryWorker(
        sessions,
        senders(email, webhook, push),
        OutcomeRecorder(settings.topics.deliveries),
        config.retry,
        poll_interval_s=config.worker_poll_interval_s,
    )


def account_mail_handler(
    settings: Settings, config: NotifierConfig, sessions: sessionmaker[Session]
) -> AccountMailHandler:
    """Sends the account e-mails the listings service asks for, through the same SMTP."""
    return AccountMailHandler(
        sessions,
        AccountMailComposer(config.mail_from, settings.public_base_url, config.zone),
        SmtpMailer(SmtpServer.from_url(config.smtp_url), config.smtp_timeout_s),
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
    group_id = os.environ.get("NOTIFIER_GROUP_ID", GROUP_ID)
    store = OrganisationStore(sessions)
    organisations = TableReader(
        bootstrap,
        settings.topics.organisations,
        store.apply,
        dead_letter=dead_letters_to(publisher),
        name=f"{group_id}-organisations",
        apply_many=store.apply_many,
        # A deleted organisation's tombstone: erase whatever its deletion event left.
        forget=store.forget,
    )
    handler = MatchAlertHandler(
        sessions,
        OutcomeRecorder(settings.topics.deliveries),
        lineage(Taxonomy.load_default()),
        config.zone,
    )
    consumer = EventConsumer(
        bootstrap,
        group_id,
        # Listings too: a listing that leaves the exchange takes its alerts with it, even
        # while the matcher is away. Exchanges: each step told to the other side.
        [settings.topics.matches, settings.topics.listings, settings.topics.exchanges],
        handler,
        publisher,
        # Organisations written before a match are known when the match is handled.
        before_batch=organisations.catch_up,
        handle_batch=handler.handle_many,
    )
    # Account e-mails are sent as they are consumed, so a group of their own: an SMTP outage
    # holds them back until the server answers again, never the alerts.
    account_mail = EventConsumer(
        bootstrap,
        f"{group_id}-account-mail",
        [settings.topics.account_mail],
        account_mail_handler(settings, config, sessions),
        publisher,
    )
    # The relay's own producer: a reset after a broker error must not touch the consumer's.
    outcomes = KafkaPublisher(bootstrap, "notifier-deliveries", settings.kafka_request_timeout_ms)
    retention = settings.retention
    relay = OutboxRelay(
        sessions,
        outcomes,
        OutboxRow,
        retention=retention.outbox,
        purge_interval_s=retention.interval_s,
    )
    worker = build_worker(settings, config, sessions, outcomes)
    checks: dict[str, Callable[[], object]] = {
        "database": database_check(engine),
        "consumer": consumer.health_check,
        "account e-mails": account_mail.health_check,
        "organisations": organisations.health_check,
    }
    server = serve_health_from_env("notifier", 8004, checks)

    def purge_handled() -> int:
        with unit_of_work(sessions) as session:
            return purge_processed(session, processed_events, retention.processed_events)

    def run(stop: threading.Event) -> None:
        threads = [
            threading.Thread(target=worker.run, args=(stop,), name="deliveries"),
            threading.Thread(target=relay.run, args=(stop,), name="outcome-relay"),
            threading.Thread(target=account_mail.run, args=(stop,), name="account-mail"),
        ]
        for thread in threads:
            thread.start()
        Housekeeper({"processed events": purge_handled}, stop, retention.interval_s).start()
        try:
            _consume(consumer, organisations, config.organisations_refresh_s, stop)
        finally:
            stop.set()
            consumer.close()
            organisations.close()
            for thread in threads:
                thread.join(timeout=30)

    try:
        run_until_signalled(run)
    finally:
        server.shutdown()
        outcomes.close()
        publisher.close()


def _consume(
    consumer: EventConsumer, organisations: TableReader, refresh_s: float, stop: threading.Event
) -> None:
    refreshed = 0.0
    while not stop.is_set():
        consumer.poll_once()
        if time.monotonic() - refreshed > refresh_s:
            # Also when no match comes: new API tokens must work promptly.
            try:
                organisations.catch_up()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                log.warning("organisations projection waits for a dependency: %r", exc)
            refreshed = time.monotonic()


if __name__ == "__main__":
    main()
