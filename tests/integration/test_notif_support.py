"""Helpers for the notifier's integration tests: events, an SMTP sink, an in-process notifier.

(Named test_notif_* so it sits with the tests it serves; it holds no tests itself.)
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session, sessionmaker

from notifications.channels.email import SmtpMailer, SmtpServer
from notifications.channels.webhook import WebhookPolicy, WebhookSender
from notifications.dispatch import EmailSender, WebhookDispatch, senders
from notifications.handler import MatchAlertHandler
from notifications.mail import MailComposer
from notifications.organisations import OrganisationStore
from notifications.outcomes import OutcomeRecorder
from notifications.retry import RetryPolicy
from notifications.tables import OutboxRow
from notifications.unsubscribe import UnsubscribeTokens
from notifications.wiring import lineage
from notifications.worker import DeliveryWorker
from shared.contracts import MatchesSettled
from shared.db import service_database
from shared.event_schemas import MATCH_FOUND, MATCHES_SETTLED, ORGANISATION_REGISTERED
from shared.events import Event, typed_data
from shared.kafka import KafkaPublisher, ensure_topics, standard_topics
from shared.outbox import OutboxRelay
from shared.settings import Topics
from shared.taxonomy import Taxonomy

BASE_URL = "http://boucle.test"
SECRET_KEY = "test-secret-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def organisation_event(
    org_id: str,
    contact: str,
    language: str = "fr",
    members: list[dict[str, Any]] | None = None,
    token_hashes: list[str] | None = None,
    version: int = 1,
) -> Event:
    return Event(
        type=ORGANISATION_REGISTERED,
        source="/boucle/listings",
        subject=org_id,
        data=typed_data(
            ORGANISATION_REGISTERED,
            {
                "id": org_id,
                "name": f"Organisation {org_id}",
                "kind": "association",
                "country": "LU",
                "contact_email": contact,
                "language": language,
                "members": members or [],
                "api_token_hashes": token_hashes or [],
                "version": version,
                "updated_at": datetime.now(UTC),
            },
        ),
    )


def match_event(
    match_id: str, seller: str, buyer: str, title: str = "Euro pallets", version: int = 1
) -> Event:
    def side(listing_id: str, org: str, name: str) -> dict[str, Any]:
        return {
            "listing_id": listing_id,
            "organisation_id": org,
            "title": name,
            "category": "ewc-150103",
            "quantity": 40.0,
            "unit": "pallets",
            "location": {"lat": 49.6, "lon": 6.1, "place": "Luxembourg"},
            "version": version,
        }

    return Event(
        type=MATCH_FOUND,
        source="/boucle/matching",
        subject=match_id,
        data=typed_data(
            MATCH_FOUND,
            {
                "match_id": match_id,
                "offer": side(f"offer-{match_id}", seller, title),
                "need": side(f"need-{match_id}", buyer, "Pallets for the workshop"),
                "score": 0.9,
                "reasons": {"distance_km": 12.5, "category_relation": "same"},
            },
        ),
    )


def settled_event(listing_id: str, kind: str, version: int, status: str) -> Event:
    """The matcher's `boucle.match.settled`: every match of the listing at `version` is out."""
    return Event(
        type=MATCHES_SETTLED,
        source="/boucle/matching",
        subject=listing_id,
        data=MatchesSettled(listing_id=listing_id, kind=kind, version=version, status=status),
    )


def listing_event(
    listing_id: str, organisation_id: str, kind: str, version: int, status: str = "published"
) -> Event:
    """The listings service's event of a listing's new state (as `match_event` describes it)."""
    change = "published" if version == 1 else ("updated" if status == "published" else status)
    event_type = f"boucle.listing.{change}"
    return Event(
        type=event_type,
        source="/boucle/listings",
        subject=listing_id,
        data=typed_data(
            event_type,
            {
                "id": listing_id,
                "organisation_id": organisation_id,
                "kind": kind,
                "status": status,
                "title": "Euro pallets",
                "category": "ewc-150103",
                "quantity": 40.0,
                "unit": "pallets",
                "location": {"lat": 49.6, "lon": 6.1, "place": "Luxembourg"},
                "radius_km": 0.0 if kind == "offer" else 50.0,
                "version": version,
                "updated_at": datetime.now(UTC),
            },
        ),
    )


@dataclass
class SmtpSink:
    """A real SMTP server (aiosmtpd) that keeps what it accepts; it can refuse first."""

    refuse_first: int = 0
    received: list[EmailMessage] = field(default_factory=list)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.refused < self.refuse_first:
                self.refused += 1
                return "451 4.3.0 Mailbox busy, try again later"
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.received.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.received if m["To"] == address]


def start_smtp(sink: SmtpSink) -> tuple[Controller, str]:
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, f"smtp://127.0.0.1:{port}"


@dataclass
class Notifier:
    """The notifier's parts, wired in-process against real PostgreSQL, SMTP and Kafka."""

    sessions: sessionmaker[Session]
    organisations: OrganisationStore
    handler: MatchAlertHandler
    worker: DeliveryWorker
    relay: OutboxRelay
    publisher: KafkaPublisher
    topics: Topics

    def deliver_due(self) -> int:
        """One turn of the worker, then its outcome events out to Kafka."""
        handled = self.worker.run_once()
        self.relay.relay_once()
        return handled


def build_notifier(
    database_url: str,
    bootstrap: str,
    prefix: str,
    smtp_url: str,
    allow_private: bool = True,
    max_attempts: int = 4,
) -> Notifier:
    _, sessions = service_database(database_url, "notifications")
    topics = Topics(
        listings=f"{prefix}listings",
        organisations=f"{prefix}organisations",
        matches=f"{prefix}matches",
        deliveries=f"{prefix}deliveries",
        exchanges=f"{prefix}exchanges",
    )
    ensure_topics(bootstrap, standard_topics(topics))
    taxonomy = Taxonomy.load_default()
    recorder = OutcomeRecorder(topics.deliveries)
    publisher = KafkaPublisher(bootstrap, "notifier-test")
    email_sender = EmailSender(
        MailComposer(BASE_URL, "Boucle <alerts@boucle.test>"),
        SmtpMailer(SmtpServer.from_url(smtp_url), timeout_s=5),
        UnsubscribeTokens(SECRET_KEY),
        BASE_URL,
    )
    policy = WebhookPolicy(allow_private=allow_private, require_https=False, read_timeout_s=2)
    relay = OutboxRelay(sessions, publisher, OutboxRow)
    worker = DeliveryWorker(
        sessions,
        senders(email_sender, WebhookDispatch(WebhookSender(policy), BASE_URL)),
        recorder,
        RetryPolicy(max_attempts=max_attempts, base_delay_s=0.05, max_delay_s=0.2),
    )
    handler = MatchAlertHandler(
        sessions, recorder, lineage(taxonomy), ZoneInfo("Europe/Luxembourg")
    )
    return Notifier(
        sessions, OrganisationStore(sessions), handler, worker, relay, publisher, topics
    )
