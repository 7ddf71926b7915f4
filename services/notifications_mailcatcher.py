"""A local SMTP server for `make run`: keeps every e-mail the notifier sends in var/mail/.

Not for production (use your organisation's SMTP relay through SMTP_URL). Run it with
`python -m services.notifications_mailcatcher`; it listens on 127.0.0.1:2525 (MAILCATCHER_PORT),
the notifier's default SMTP_URL.
"""

from __future__ import annotations

import email
import email.policy
import logging
import os
import threading
import uuid
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from services.process import run_until_signalled
from shared.logs import configure_logging
from shared.settings import DEFAULT_VAR_DIR

log = logging.getLogger(__name__)


class MailFolder:
    """An aiosmtpd handler that writes each accepted message to a .eml file."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep the message and accept it."""
        path = self._folder / f"{uuid.uuid4().hex}.eml"
        path.write_bytes(envelope.content)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        log.info("mail to %s: %s (%s)", message["To"], message["Subject"], path.name)
        return "250 Message accepted for delivery"


def main() -> None:
    """Serve until SIGTERM or Ctrl-C."""
    configure_logging("mailcatcher")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command
    folder = Path(os.environ.get("MAILCATCHER_DIR", str(DEFAULT_VAR_DIR / "mail")))
    port = int(os.environ.get("MAILCATCHER_PORT", "2525"))
    controller = Controller(MailFolder(folder), hostname="127.0.0.1", port=port)
    controller.start()
    log.info("catching mail on 127.0.0.1:%d into %s", port, folder)

    def wait(stop: threading.Event) -> None:
        stop.wait()

    try:
        run_until_signalled(wait)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
