"""E-mails from templates, in the recipient's language: one alert, or a day's digest."""

from __future__ import annotations

import email.policy
import functools
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, select_autoescape

from notifications.alerts import BUYER, Alert
from notifications.exchange_notices import ExchangeNotice
from notifications.wording import price_line, reason_lines, unit_label

PACKAGE = Path(__file__).resolve().parent
#: Long headers stay on one line (RFC 5322 allows 998 characters): a List-Unsubscribe URL
#: must reach mail clients as <https://...>, not folded into RFC 2047 encoded words.
HEADERS_AS_THEY_ARE = email.policy.default.clone(max_line_length=998)
TEMPLATES = PACKAGE / "templates" / "email"
TRANSLATIONS = PACKAGE / "translations"


@functools.cache
def catalogue(language: str) -> NullTranslations:
    """The package's translations for `language` (compiled in memory if the .mo is missing)."""
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    if (folder / "messages.mo").exists():
        return Translations.load(str(TRANSLATIONS), [language])
    if (folder / "messages.po").exists():
        with (folder / "messages.po").open("rb") as source:
            compiled = io.BytesIO()
            write_mo(compiled, read_po(source, locale=language))
        compiled.seek(0)
        return Translations(compiled)
    return NullTranslations()


@functools.cache
def _environment(language: str) -> Environment:
    # One environment per language: gettext is installed on it, so it must not be shared.
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    translations = catalogue(language)
    environment.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    environment.globals.update(
        number=lambda value: format_decimal(round(value, 1), locale=language),
        date=lambda value: format_date(value, format="long", locale=language),
        unit=lambda value: unit_label(value, translations.gettext),
    )
    return environment


def message_id_domain(mail_from: str, base_url: str) -> str:
    """The sender's domain (MAIL_FROM's), else the exchange's host: Message-IDs in a domain
    the exchange answers for, as spam filters and threading expect, never a made-up one."""
    _name, address = parseaddr(mail_from)
    _local, at, domain = address.rpartition("@")
    return (domain.strip().lower() if at else "") or urlsplit(base_url).hostname or "localhost"


@dataclass(frozen=True)
class Letter:
    """Who an e-mail goes to and what it is about."""

    message_id: str
    to: str
    language: str
    alerts: list[Alert]
    unsubscribe_url: str
    digest: bool = False


@dataclass(frozen=True)
class ExchangeLetter:
    """An e-mail telling one step of an exchange."""

    message_id: str
    to: str
    language: str
    notice: ExchangeNotice
    unsubscribe_url: str


class MailComposer:
    """Builds multipart (text + HTML) messages with an unsubscribe link and header."""

    def __init__(
        self,
        base_url: str,
        mail_from: str,
        category_label: Callable[[str, str], str] = lambda category, _language: category,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._domain = message_id_domain(mail_from, self._base_url)
        self._from = mail_from
        self._category_label = category_label

    def compose(self, letter: Letter, now: datetime) -> EmailMessage:
        """The message for one alert, or for a digest of several."""
        environment = _environment(letter.language)
        context = self._context(letter, environment)
        message = EmailMessage(policy=HEADERS_AS_THEY_ARE)
        message["From"] = self._from
        message["To"] = letter.to
        message["Subject"] = environment.get_template("subject.txt").render(context).strip()
        message["Date"] = format_datetime(now)
        message["Message-ID"] = f"<{letter.message_id}@{self._domain}>"
        message["Content-Language"] = letter.language
        message["List-Unsubscribe"] = f"<{letter.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(environment.get_template("alerts.txt").render(context))
        message.add_alternative(environment.get_template("alerts.html").render(context), "html")
        return message

    def compose_exchange(self, letter: ExchangeLetter, now: datetime) -> EmailMessage:
        """The message telling one step of an exchange, with a link straight to it."""
        environment = _environment(letter.language)
        notice = letter.notice
        context: dict[str, object] = {
            "notice": notice,
            "language": letter.language,
            "exchange_url": f"{self._base_url}/exchanges/{notice.exchange_id}",
            "settings_url": f"{self._base_url}/settings/notifications",
            "unsubscribe_url": letter.unsubscribe_url,
        }
        context["headline"] = (
            environment.get_template("exchange_subject.txt").render(context).strip()
        )
        message = EmailMessage(policy=HEADERS_AS_THEY_ARE)
        message["From"] = self._from
        message["To"] = letter.to
        message["Subject"] = str(context["headline"])
        message["Date"] = format_datetime(now)
        message["Message-ID"] = f"<{letter.message_id}@{self._domain}>"
        message["Content-Language"] = letter.language
        message["List-Unsubscribe"] = f"<{letter.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(environment.get_template("exchange.txt").render(context))
        message.add_alternative(environment.get_template("exchange.html").render(context), "html")
        return message

    def _context(self, letter: Letter, environment: Environment) -> dict[str, object]:
        translations = catalogue(letter.language)
        items = [
            {
                "alert": alert,
                "buyer": alert.role == BUYER,
                "link": f"{self._base_url}/listings/{alert.counterpart_listing_id}",
                "category": self._category_label(alert.category, letter.language),
                "reasons": reason_lines(alert, translations.gettext, translations.ngettext),
                "price": price_line(alert, translations.gettext) if alert.role == BUYER else "",
            }
            for alert in letter.alerts
        ]
        return {
            "items": items,
            "digest": letter.digest,
            "recipient": letter.to,
            "unsubscribe_url": letter.unsubscribe_url,
            "settings_url": f"{self._base_url}/settings/notifications",
            "inbox_url": f"{self._base_url}/inbox",
        }
