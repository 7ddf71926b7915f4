"""Who hears about an alert, on which channel and when: defaults, mutes, quiet hours, digests."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from notifications.preferences import (
    CONTACT,
    EMAIL,
    INBOX,
    WEBHOOK,
    Audience,
    Person,
    Preferences,
    after_quiet_hours,
    next_digest_at,
    plan,
)

LUX = ZoneInfo("Europe/Luxembourg")
NOON = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)  # 12:00 in Luxembourg (CET)
CONTACT_PERSON = Person(CONTACT, "hello@cantine.lu", "fr")
MEMBER = Person("m-1", "chef@cantine.lu", "de")


def audience(**kwargs: object) -> Audience:
    defaults: dict[str, object] = {"people": [CONTACT_PERSON, MEMBER]}
    return Audience("org-1", **{**defaults, **kwargs})  # type: ignore[arg-type]


def channels(planned: list) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    return {(p.channel, p.recipient) for p in planned}


def test_a_new_organisation_gets_instant_email_to_its_contact_address_and_the_inbox() -> None:
    planned = plan(audience(), ["ewc-150103"], NOON, LUX)
    assert channels(planned) == {(EMAIL, "hello@cantine.lu"), (INBOX, "org-1")}
    email = next(p for p in planned if p.channel == EMAIL)
    assert (email.language, email.due_at, email.digest) == ("fr", NOON, False)


def test_an_organisation_the_notifier_does_not_know_gets_the_inbox_only() -> None:
    planned = plan(Audience("anonymous", known=False), ["ewc-150103"], NOON, LUX)
    assert channels(planned) == {(INBOX, "anonymous")}


def test_a_member_who_asked_for_emails_gets_them_in_their_own_language() -> None:
    prefs = {"m-1": Preferences(email=True)}
    planned = plan(audience(preferences=prefs), ["ewc-150103"], NOON, LUX)
    member_email = next(p for p in planned if p.recipient == "chef@cantine.lu")
    assert (member_email.language, member_email.subscriber) == ("de", "m-1")


def test_one_address_listed_twice_gets_one_email() -> None:
    twin = Person("m-2", "Hello@Cantine.lu", "en")
    prefs = {"m-2": Preferences(email=True)}
    planned = plan(audience(people=[CONTACT_PERSON, twin], preferences=prefs), ["c"], NOON, LUX)
    assert [p.recipient for p in planned if p.channel == EMAIL] == ["hello@cantine.lu"]


def test_webhook_endpoints_get_every_alert_unless_turned_off() -> None:
    planned = plan(audience(webhook_endpoints=["e-1", "e-2"]), ["c"], NOON, LUX)
    assert {(WEBHOOK, "e-1"), (WEBHOOK, "e-2")} <= channels(planned)
    off = {CONTACT: Preferences(email=True, webhook=False)}
    planned = plan(audience(webhook_endpoints=["e-1"], preferences=off), ["c"], NOON, LUX)
    assert not any(p.channel == WEBHOOK for p in planned)


def test_muting_a_parent_category_silences_alerts_in_its_subcategories() -> None:
    muted = {CONTACT: Preferences(email=True, muted_categories=frozenset({"ewc-15"}))}
    planned = plan(audience(preferences=muted), ["ewc-150103", "ewc-1501", "ewc-15"], NOON, LUX)
    assert planned == []


def test_a_digest_reader_gets_the_alert_at_the_next_digest_hour() -> None:
    prefs = {CONTACT: Preferences(email=True, digest=True, digest_hour=7)}
    [email] = [p for p in plan(audience(preferences=prefs), ["c"], NOON, LUX) if p.channel == EMAIL]
    assert email.digest
    assert email.due_at == datetime(2026, 12, 2, 6, 0, tzinfo=UTC)  # 07:00 in Luxembourg


def test_the_digest_goes_out_today_when_its_hour_is_still_ahead() -> None:
    early = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # 05:00 local
    assert next_digest_at(early, 7, LUX) == datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def test_quiet_hours_across_midnight_defer_to_their_end() -> None:
    late = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)  # 23:30 local
    assert after_quiet_hours(late, time(22), time(7), LUX) == datetime(
        2026, 12, 2, 6, 0, tzinfo=UTC
    )
    small_hours = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # 03:00 local
    assert after_quiet_hours(small_hours, time(22), time(7), LUX) == datetime(
        2026, 12, 2, 6, 0, tzinfo=UTC
    )


def test_outside_quiet_hours_an_email_goes_at_once() -> None:
    assert after_quiet_hours(NOON, time(22), time(7), LUX) == NOON
    assert after_quiet_hours(NOON, time(13), time(14), LUX) == NOON
    assert after_quiet_hours(NOON, time(11, 30), time(14), LUX) == datetime(
        2026, 12, 1, 13, 0, tzinfo=UTC
    )


def test_quiet_hours_apply_to_planned_instant_emails() -> None:
    prefs = {CONTACT: Preferences(email=True, quiet_start=time(12), quiet_end=time(13, 30))}
    [email] = [p for p in plan(audience(preferences=prefs), ["c"], NOON, LUX) if p.channel == EMAIL]
    assert email.due_at == datetime(2026, 12, 1, 12, 30, tzinfo=UTC)
