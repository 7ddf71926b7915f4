"""The senders the worker calls, one per channel: each turns a Job into an e-mail or a POST."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from notifications.alerts import BUYER, Alert
from notifications.channels.email import SmtpMailer
from notifications.channels.push import PushSender, SubscriptionGone
from notifications.channels.webhook import WebhookSender, payload
from notifications.jobs import Job, Sender
from notifications.mail import ExchangeLetter, Letter, MailComposer, catalogue
from notifications.preferences import EMAIL, INBOX, PUSH, WEBHOOK
from notifications.retry import DeliveryError
from notifications.unsubscribe import UnsubscribeTokens
from notifications.wording import unit_label

MATCH_FOUND_WEBHOOK = "match.found"


def alert_document(alert: Alert, base_url: str) -> dict[str, Any]:
    """An alert as API clients and webhook receivers see it."""
    document = asdict(alert)
    # Bookkeeping of the notifier (which listing versions it was found at), not news.
    document.pop("listing_version"), document.pop("counterpart_version")
    price = (document.pop("price_mode"), document.pop("price_amount"))
    document["price"] = {"mode": price[0], "amount": price[1]} if price[0] else None
    until = alert.available_until
    document["available_until"] = until.isoformat() if until else None
    document["link"] = f"{base_url.rstrip('/')}/listings/{alert.counterpart_listing_id}"
    return document


class EmailSender:
    """One e-mail per job (a digest carries several alerts), with its unsubscribe link."""

    def __init__(
        self, composer: MailComposer, mailer: SmtpMailer, tokens: UnsubscribeTokens, base_url: str
    ) -> None:
        self._composer = composer
        self._mailer = mailer
        self._tokens = tokens
        self._base_url = base_url.rstrip("/")

    def __call__(self, job: Job) -> None:
        token = self._tokens.make(job.organisation_id, job.subscriber)
        if job.notice is not None:
            exchange_letter = ExchangeLetter(
                message_id=job.delivery_id,
                to=job.recipient,
                language=job.language,
                notice=job.notice,
                unsubscribe_url=f"{self._base_url}/unsubscribe/{token}",
            )
            self._mailer.send(self._composer.compose_exchange(exchange_letter, datetime.now(UTC)))
            return
        letter = Letter(
            message_id=job.delivery_id,
            to=job.recipient,
            language=job.language,
            alerts=job.alerts,
            unsubscribe_url=f"{self._base_url}/unsubscribe/{token}",
            digest=job.digest,
        )
        self._mailer.send(self._composer.compose(letter, datetime.now(UTC)))


class WebhookDispatch:
    """A signed POST per job; the delivery id is the webhook-id, stable across retries."""

    def __init__(self, sender: WebhookSender, base_url: str) -> None:
        self._sender = sender
        self._base_url = base_url

    def __call__(self, job: Job) -> None:
        if not job.endpoint_url or not job.endpoint_secret:
            raise DeliveryError("webhook endpoint unknown", permanent=True)
        sent_at = datetime.now(UTC)
        body = payload(MATCH_FOUND_WEBHOOK, sent_at, alert_document(job.alerts[0], self._base_url))
        self._sender.send(job.endpoint_url, job.endpoint_secret, job.delivery_id, sent_at, body)


class PushDispatch:
    """A Web Push message per job: the alert's headline in the member's language, a line
    of what and where, and the link the notification opens."""

    def __init__(
        self,
        sender: PushSender | None,
        base_url: str,
        forget: Callable[[str], None] = lambda _subscription_id: None,
    ) -> None:
        self._sender = sender
        self._base_url = base_url.rstrip("/")
        self._forget = forget

    def __call__(self, job: Job) -> None:
        if self._sender is None:
            raise DeliveryError("push is not configured (VAPID keys)", permanent=True)
        if not job.endpoint_url or job.push_keys is None or not job.alerts:
            raise DeliveryError("push subscription unknown", permanent=True)
        try:
            self._sender.send(job.endpoint_url, *job.push_keys, push_message(job, self._base_url))
        except SubscriptionGone:
            # Dropped by the browser: forget it, or every later alert fails on it again.
            self._forget(job.recipient)
            raise


def push_message(job: Job, base_url: str) -> dict[str, Any]:
    """What the service worker shows: {title, body, url, tag, lang}."""
    alert = job.alerts[0]
    gettext = catalogue(job.language).gettext
    title = (
        gettext("New offer for your need: %(title)s")
        if alert.role == BUYER
        else gettext("Someone near you needs what you offer: %(title)s")
    ) % {"title": alert.counterpart_title}
    what = f"{alert.quantity:g} {unit_label(alert.unit, gettext)}"
    where = f" · {alert.counterpart_place}" if alert.counterpart_place else ""
    return {
        "title": title,
        "body": f"{what}{where} · {alert.distance_km:.0f} km",
        "url": f"{base_url.rstrip('/')}/listings/{alert.counterpart_listing_id}",
        "tag": alert.match_id,
        "lang": job.language,
    }


def deliver_to_inbox(_job: Job) -> None:
    """The alert is in the inbox from the start; recording the delivery is all there is."""


def senders(
    email: Callable[[Job], None],
    webhook: Callable[[Job], None],
    push: Callable[[Job], None] | None = None,
) -> dict[str, Sender]:
    """The worker's channel table (push: none configured fails its deliveries for good)."""
    return {
        EMAIL: email,
        WEBHOOK: webhook,
        INBOX: deliver_to_inbox,
        PUSH: push or PushDispatch(None, ""),
    }
