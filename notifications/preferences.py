"""Preferences and the delivery plan: who gets an alert, on which channel, when. Plain Python."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo

EMAIL, WEBHOOK, INBOX = "email", "webhook", "inbox"
#: Web Push to a member's browser (a phone with the tab closed): one delivery per browser.
PUSH = "push"
#: The member id under which an organisation's own (contact address) preferences are kept.
CONTACT = ""


@dataclass(frozen=True)
class Preferences:
    """One recipient's choices; the organisation's (CONTACT) also govern webhooks and inbox."""

    email: bool
    webhook: bool = True
    inbox: bool = True
    digest: bool = False
    digest_hour: int = 7
    muted_categories: frozenset[str] = frozenset()
    quiet_start: time | None = None
    quiet_end: time | None = None

    def mutes(self, lineage: Iterable[str]) -> bool:
        """True if the category or one of its ancestors is muted."""
        return not self.muted_categories.isdisjoint(lineage)


#: A new organisation: instant e-mail to its contact address, and the inbox.
CONTACT_DEFAULTS = Preferences(email=True)
#: A member hears through the organisation's inbox until they ask for e-mails too.
MEMBER_DEFAULTS = Preferences(email=False, webhook=False, inbox=False)


def defaults_for(member_id: str) -> Preferences:
    """The preferences of someone who never changed them."""
    return CONTACT_DEFAULTS if member_id == CONTACT else MEMBER_DEFAULTS


@dataclass(frozen=True)
class Person:
    """An e-mail recipient: the organisation's contact (id CONTACT) or one of its members."""

    id: str
    email: str
    language: str


@dataclass(frozen=True)
class Audience:
    """Everything the plan needs to know about the organisation an alert is for."""

    organisation_id: str
    people: list[Person] = field(default_factory=list)
    preferences: dict[str, Preferences] = field(default_factory=dict)
    webhook_endpoints: list[str] = field(default_factory=list)
    known: bool = True
    #: member id -> (push subscription id, language) of each browser they turned push on in
    push_subscriptions: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def preferences_of(self, person_id: str) -> Preferences:
        """Stored preferences, or the defaults."""
        return self.preferences.get(person_id) or defaults_for(person_id)


@dataclass(frozen=True)
class PlannedDelivery:
    """One delivery to make: unique per (match, recipient, channel)."""

    channel: str
    recipient: str  # an e-mail address, a webhook endpoint id, the organisation id (inbox)
    subscriber: str  # whose preferences asked for it (CONTACT or a member id)
    language: str
    due_at: datetime
    digest: bool = False


def plan(
    audience: Audience, lineage: list[str], now: datetime, zone: tzinfo
) -> list[PlannedDelivery]:
    """The deliveries an alert in a category (with its ancestors in `lineage`) gets."""
    organisation = audience.preferences_of(CONTACT)
    if not audience.known:
        # Nobody to write to: the alert waits in the inbox for whoever owns the listing.
        return [PlannedDelivery(INBOX, audience.organisation_id, CONTACT, "en", now)]
    planned: list[PlannedDelivery] = []
    if not organisation.mutes(lineage):
        if organisation.inbox:
            planned.append(PlannedDelivery(INBOX, audience.organisation_id, CONTACT, "en", now))
        if organisation.webhook:
            planned += [
                PlannedDelivery(WEBHOOK, endpoint, CONTACT, "en", now)
                for endpoint in audience.webhook_endpoints
            ]
    members = {person.id for person in audience.people}
    for member_id, browsers in audience.push_subscriptions.items():
        prefs = audience.preferences_of(member_id)
        if member_id not in members or prefs.mutes(lineage):
            continue  # a member who left takes nothing with them
        # A push is a nudge now, not a digest; quiet hours keep the phone silent at night.
        due = after_quiet_hours(now, prefs.quiet_start, prefs.quiet_end, zone)
        planned += [
            PlannedDelivery(PUSH, subscription_id, member_id, language, due)
            for subscription_id, language in browsers
        ]
    addresses: set[str] = set()
    for person in audience.people:
        prefs = audience.preferences_of(person.id)
        address = person.email.strip().lower()
        if not prefs.email or prefs.mutes(lineage) or address in addresses:
            continue
        addresses.add(address)
        due = (
            next_digest_at(now, prefs.digest_hour, zone)
            if prefs.digest
            else after_quiet_hours(now, prefs.quiet_start, prefs.quiet_end, zone)
        )
        planned.append(
            PlannedDelivery(EMAIL, address, person.id, person.language, due, prefs.digest)
        )
    return planned


def plan_conversation(audience: Audience, now: datetime, zone: tzinfo) -> list[PlannedDelivery]:
    """E-mails for a step of an exchange: to everyone who takes e-mails, after their quiet
    hours but never in a digest (somebody is waiting for an answer); muted categories do
    not apply to a conversation the organisation is in."""
    planned: list[PlannedDelivery] = []
    addresses: set[str] = set()
    for person in audience.people:
        prefs = audience.preferences_of(person.id)
        address = person.email.strip().lower()
        if not prefs.email or address in addresses:
            continue
        addresses.add(address)
        due = after_quiet_hours(now, prefs.quiet_start, prefs.quiet_end, zone)
        planned.append(PlannedDelivery(EMAIL, address, person.id, person.language, due))
    return planned


def after_quiet_hours(
    now: datetime, start: time | None, end: time | None, zone: tzinfo
) -> datetime:
    """`now`, or the end of the quiet period `now` falls in (local time, may span midnight)."""
    if start is None or end is None or start == end:
        return now
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        quiet = start <= clock < end
        end_day = local.date()
    else:  # e.g. 22:00-07:00
        quiet = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1 if clock >= start else 0)
    if not quiet:
        return now
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(now.tzinfo)


def next_digest_at(now: datetime, hour: int, zone: tzinfo) -> datetime:
    """The next time the daily digest goes out: today at `hour` local time, or tomorrow."""
    local = now.astimezone(zone)
    today = datetime.combine(local.date(), time(hour), tzinfo=zone)
    due = (
        today
        if today > local
        else datetime.combine(local.date() + timedelta(days=1), time(hour), tzinfo=zone)
    )
    return due.astimezone(now.tzinfo)
