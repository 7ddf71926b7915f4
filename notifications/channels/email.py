"""E-mail over SMTP, configured by one URL: smtp://[user:password@]host[:port][?starttls=true]."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from notifications.retry import DeliveryError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpServer:
    """Where to hand e-mails over, parsed from SMTP_URL (smtps:// for implicit TLS)."""

    host: str
    port: int
    tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """Parse `smtp://…` or `smtps://…`; ValueError for anything else."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"SMTP_URL must look like smtp://host:port, not {url!r}")
        query = parse_qs(parts.query)
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if parts.scheme == "smtps" else 25),
            tls=parts.scheme == "smtps",
            starttls=query.get("starttls", ["false"])[0].lower() == "true",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class SmtpMailer:
    """Sends one message per connection; 5xx answers are permanent, the rest retryable."""

    def __init__(self, server: SmtpServer, timeout_s: float = 10.0) -> None:
        self._server = server
        self._timeout = timeout_s

    def send(self, message: EmailMessage) -> None:
        """Hand the message to the SMTP server, or raise DeliveryError with the reason."""
        try:
            with self._connect() as smtp:
                if self._server.starttls:
                    smtp.starttls()
                if self._server.username:
                    smtp.login(self._server.username, self._server.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(f"recipient refused: {exc.recipients}", _permanent(*codes)) from exc
        except smtplib.SMTPResponseException as exc:
            reason = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
            raise DeliveryError(reason, _permanent(exc.smtp_code)) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP server unreachable: {exc}") from exc

    def _connect(self) -> smtplib.SMTP:
        server = self._server
        if server.tls:
            return smtplib.SMTP_SSL(server.host, server.port, timeout=self._timeout)
        return smtplib.SMTP(server.host, server.port, timeout=self._timeout)


def _permanent(*codes: int) -> bool:
    return bool(codes) and all(500 <= code < 600 for code in codes)
