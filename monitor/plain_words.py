"""The streams view in plain words, in the admin's language: whether each consumer keeps up,
and what normal looks like for each topic."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import format_decimal, format_timedelta, gettext, ngettext

from monitor.domain.pace import (
    CATCHING_UP,
    FALLING_BEHIND,
    IDLE,
    KEEPING_UP,
    STALLED,
    STOPPED,
    Pace,
)
from shared.settings import Topics

DEAD_LETTER_SUFFIX = Topics.dead_letter("")


def _rate(per_second: float | None) -> str:
    value = per_second or 0.0
    return str(format_decimal(round(value, 1) if value >= 1 else round(value, 2)))


def _duration(seconds: float | None) -> str:
    return str(format_timedelta(timedelta(seconds=seconds or 0), threshold=1.1))


def pace_sentence(pace: Pace) -> str:
    """One sentence: keeping up, catching up (how fast, how long), behind, stalled, stopped."""
    count = pace.lag
    if pace.verdict == KEEPING_UP:
        if count == 0:
            return gettext("Keeping up: nothing waiting.")
        return ngettext(
            "Keeping up: %(num)d message in flight, read at %(rate)s per second.",
            "Keeping up: %(num)d messages in flight, read at %(rate)s per second.",
            count,
            rate=_rate(pace.reads_per_s),
        )
    if pace.verdict == IDLE:
        return gettext("Up to date; no consumer of this group is running right now.")
    if pace.verdict == STOPPED:
        return ngettext(
            "Stopped: no consumer is running and %(num)d message is waiting.",
            "Stopped: no consumer is running and %(num)d messages are waiting.",
            count,
        )
    if pace.verdict == CATCHING_UP:
        return ngettext(
            "Behind by %(num)d message, catching up at %(rate)s per second: "
            "about %(eta)s to catch up.",
            "Behind by %(num)d messages, catching up at %(rate)s per second: "
            "about %(eta)s to catch up.",
            count,
            rate=_rate(pace.reads_per_s),
            eta=_duration(pace.catch_up_s),
        )
    if pace.verdict == FALLING_BEHIND:
        return ngettext(
            "Behind by %(num)d message and not catching up: it reads %(rate)s per second "
            "while %(arriving)s per second arrive.",
            "Behind by %(num)d messages and not catching up: it reads %(rate)s per second "
            "while %(arriving)s per second arrive.",
            count,
            rate=_rate(pace.reads_per_s),
            arriving=_rate(pace.arrives_per_s),
        )
    if pace.verdict == STALLED:
        return ngettext(
            "Stalled: no progress for %(duration)s, %(num)d message waiting.",
            "Stalled: no progress for %(duration)s, %(num)d messages waiting.",
            count,
            duration=_duration(pace.still_for_s),
        )
    return ngettext(
        "Behind by %(num)d message; measuring its pace…",
        "Behind by %(num)d messages; measuring its pace…",
        count,
    )


def topic_hint(name: str, prefix: str = "") -> str:
    """What a topic carries and what normal looks like for it."""
    if name.endswith(DEAD_LETTER_SUFFIX):
        return gettext(
            "Normal: empty. Each message here is one a consumer or the notifier gave up on."
        )
    base = name.removeprefix(prefix)
    hints = {
        "listings": gettext(
            "Every listing posted, changed or closed: grows with members' activity, "
            "quiet at night and at weekends."
        ),
        "matches": gettext(
            "Matches found and withdrawn: a new listing often brings several at once, "
            "a few seconds after it."
        ),
        "deliveries": gettext(
            "One message per alert attempt (sent, retried, given up): about the matches "
            "times the channels; 'retried' now and then is normal."
        ),
        "organisations": gettext("Organisations and their members: changes rarely."),
        "exchanges": gettext(
            "Each step of an exchange between two organisations: a few per exchange."
        ),
        "account-mail": gettext(
            "Account e-mails to send (confirmations, invitations): a few per new member."
        ),
    }
    return hints.get(base, "")
