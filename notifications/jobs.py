"""A delivery attempt as the senders see it, and what a channel needs to make it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sqlalchemy.orm import Session

from notifications.alerts import Alert
from notifications.exchange_notices import ExchangeNotice
from notifications.organisations import load_organisation
from notifications.preference_store import load_preferences
from notifications.preferences import EMAIL, PUSH, WEBHOOK
from notifications.tables import PushSubscriptionRow, WebhookEndpointRow


@dataclass(frozen=True)
class Job:
    """One attempt: a channel, a recipient, and the alerts (several in a digest) to send."""

    delivery_id: str
    channel: str
    recipient: str
    organisation_id: str
    subscriber: str
    language: str
    attempt: int
    alerts: list[Alert]
    digest: bool = False
    endpoint_url: str | None = None
    endpoint_secret: str | None = None
    delivery_ids: list[str] = field(default_factory=list)
    #: set instead of `alerts` for a step of an exchange
    notice: ExchangeNotice | None = None
    #: a push subscription's (p256dh, auth) keys, with its endpoint in `endpoint_url`
    push_keys: tuple[str, str] | None = None

    @property
    def subscription(self) -> tuple[str, str]:
        """(organisation, member) whose preferences asked for this delivery."""
        return self.organisation_id, self.subscriber


Sender = Callable[[Job], None]
#: Why an e-mail was not sent to an address its owner has not confirmed (the inbox has it).
HELD_UNCONFIRMED = "held: address not confirmed"


def addressed(session: Session, job: Job) -> tuple[Job, str | None]:
    """The job with what its channel needs, or the reason it is no longer wanted."""
    # An unsubscribe stops what is still waiting (a digest, quiet hours) too.
    if job.channel == EMAIL and not load_preferences(session, *job.subscription).email:
        return job, "e-mail turned off by the recipient"
    if job.channel == EMAIL and _unconfirmed(session, job):
        # Decided when sending, not planning: confirmed in time, a digest still goes.
        return job, HELD_UNCONFIRMED
    if job.channel == WEBHOOK:
        endpoint = session.get(WebhookEndpointRow, job.recipient)
        if endpoint is None or not endpoint.active:
            return job, "webhook endpoint removed"
        return replace(job, endpoint_url=endpoint.url, endpoint_secret=endpoint.secret), None
    if job.channel == PUSH:
        browser = session.get(PushSubscriptionRow, job.recipient)
        if browser is None:
            return job, "push turned off on that device"
        organisation = load_organisation(session, job.organisation_id)
        if organisation is not None and organisation.member(browser.member_id) is None:
            return job, "the member left the organisation"
        return replace(
            job, endpoint_url=browser.endpoint, push_keys=(browser.p256dh, browser.auth)
        ), None
    return job, None


def _unconfirmed(session: Session, job: Job) -> bool:
    organisation = load_organisation(session, job.organisation_id)
    return organisation is not None and job.recipient.strip().lower() in (
        organisation.unconfirmed()
    )
