"""The notifier's own settings, read from the environment by the composition roots."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from notifications.retry import RetryPolicy


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class NotifierConfig:
    """SMTP, webhook safety, retries, digest and worker pacing."""

    smtp_url: str = "smtp://127.0.0.1:2525"
    mail_from: str = "Boucle <alerts@boucle.localhost>"
    smtp_timeout_s: float = 10.0
    webhooks_allow_private_networks: bool = False
    webhook_connect_timeout_s: float = 3.0
    webhook_read_timeout_s: float = 5.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timezone: str = "Europe/Luxembourg"
    worker_poll_interval_s: float = 0.5
    organisations_refresh_s: float = 0.5

    @property
    def zone(self) -> ZoneInfo:
        """The local time of the Greater Region, for quiet hours and digests."""
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> NotifierConfig:
        """Build from SMTP_URL, MAIL_FROM, WEBHOOKS_ALLOW_PRIVATE_NETWORKS, NOTIFIER_* …"""
        env = os.environ if environ is None else environ
        default = cls()
        return cls(
            smtp_url=env.get("SMTP_URL", default.smtp_url),
            mail_from=env.get("MAIL_FROM", default.mail_from),
            smtp_timeout_s=float(env.get("SMTP_TIMEOUT_S", default.smtp_timeout_s)),
            webhooks_allow_private_networks=_flag(env.get("WEBHOOKS_ALLOW_PRIVATE_NETWORKS")),
            webhook_connect_timeout_s=float(
                env.get("WEBHOOK_CONNECT_TIMEOUT_S", default.webhook_connect_timeout_s)
            ),
            webhook_read_timeout_s=float(
                env.get("WEBHOOK_READ_TIMEOUT_S", default.webhook_read_timeout_s)
            ),
            retry=RetryPolicy(
                max_attempts=int(env.get("NOTIFIER_MAX_ATTEMPTS", "6")),
                base_delay_s=float(env.get("NOTIFIER_RETRY_BASE_S", "30")),
                max_delay_s=float(env.get("NOTIFIER_RETRY_MAX_S", "3600")),
            ),
            timezone=env.get("NOTIFICATIONS_TIMEZONE", default.timezone),
            worker_poll_interval_s=float(
                env.get("NOTIFIER_POLL_INTERVAL_S", default.worker_poll_interval_s)
            ),
        )
