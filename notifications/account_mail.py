"""E-mails about accounts (confirm an address, reset a password, an invitation), sent once each.

The listings service asks for them on the `account-mail` topic; the notifier writes them in
the recipient's language with the signed link they carry, through its SMTP channel. Each
event is claimed in the transaction that ends after the SMTP server accepted the message,
so a re-delivered event sends nothing more (a crash between the two sends it again, with
the same Message-ID, which mail systems take as the same message). A refused or unreachable
server is transient: the consume loop backs off and tries the same event again; a
permanent refusal (5xx) fails the event, which the loop dead-letters with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from email.message import EmailMessage
from email.utils import format_datetime

from babel.dates import format_date, format_time, get_timezone_location
from sqlalchemy.orm import Session, sessionmaker

from notifications.channels.email import SmtpMailer
from notifications.mail import HEADERS_AS_THEY_ARE, _environment, message_id_domain
from notifications.retry import DeliveryError
from notifications.tables import processed_events
from shared.contracts import AccountMailRequested
from shared.db import unit_of_work
from shared.events import Event
from shared.faults import TransientError
from shared.i18n import SUPPORTED_LANGUAGES
from shared.tracking import claim_event

log = logging.getLogger(__name__)
CONSUMER = "notifier-account-mail"


class AccountMailRefused(Exception):
    """The SMTP server refused the message for good (5xx): retrying cannot help."""


def expiry_text(expires_at: datetime, language: str, zone: tzinfo) -> str:
    """When a link stops working, as the recipient reads a time: date, hour, place."""
    return "{}, {} ({})".format(
        format_date(expires_at.astimezone(zone), "long", locale=language),
        format_time(expires_at, "short", tzinfo=zone, locale=language),
        get_timezone_location(zone, locale=language),
    )


class AccountMailComposer:
    """Builds the multipart (text + HTML) message for one account e-mail."""

    def __init__(self, mail_from: str, base_url: str, zone: tzinfo) -> None:
        self._from = mail_from
        # Message-IDs in a domain the exchange answers for: the sender's, else its host.
        self._domain = message_id_domain(mail_from, base_url)
        self._zone = zone

    def compose(self, mail: AccountMailRequested, now: datetime) -> EmailMessage:
        """The message asking the recipient to open `mail.link` before it expires."""
        language = mail.language if mail.language in SUPPORTED_LANGUAGES else "en"
        environment = _environment(language)
        context = {
            "mail": mail,
            "language": language,
            "expires": expiry_text(mail.expires_at, language, self._zone),
            "inviter": mail.invited_by or mail.organisation_name,
        }
        message = EmailMessage(policy=HEADERS_AS_THEY_ARE)
        message["From"] = self._from
        message["To"] = mail.to
        subject = environment.get_template("account_subject.txt").render(context)
        message["Subject"] = subject.strip()
        message["Date"] = format_datetime(now)
        message["Message-ID"] = f"<{mail.id}@{self._domain}>"
        # Not a mailing: no unsubscribe header; an auto-responder must not answer it.
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(environment.get_template("account.txt").render(context))
        message.add_alternative(environment.get_template("account.html").render(context), "html")
        # After the parts exist: making the alternative moves Content-* headers into them.
        message["Content-Language"] = language
        return message


def _now() -> datetime:
    return datetime.now(UTC)


class AccountMailHandler:
    """Sends the e-mail an `boucle.account.mail_requested` event asks for, once."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        composer: AccountMailComposer,
        mailer: SmtpMailer,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._sessions = sessions
        self._composer = composer
        self._mailer = mailer
        self._clock = clock

    def __call__(self, event: Event) -> None:
        mail = event.data
        if not isinstance(mail, AccountMailRequested):
            return
        with unit_of_work(self._sessions) as session:
            if not claim_event(session, processed_events, CONSUMER, event.id):
                log.info("account e-mail already sent", extra={"event_id": event.id})
                return
            now = self._clock()
            if mail.expires_at <= now:
                # Its link no longer works (the notifier was away too long): a new one is asked.
                log.warning("account e-mail %s expired before it could be sent", mail.id)
                return
            self._send(self._composer.compose(mail, now), mail)

    def _send(self, message: EmailMessage, mail: AccountMailRequested) -> None:
        try:
            self._mailer.send(message)
        except DeliveryError as exc:
            if exc.permanent:
                raise AccountMailRefused(f"{mail.kind} to {mail.to}: {exc.reason}") from exc
            # The claim is rolled back with this: the loop tries the same event again.
            raise TransientError(f"SMTP: {exc.reason}") from exc
        log.info("account e-mail %s (%s) sent", mail.id, mail.kind)
