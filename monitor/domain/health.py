"""Service health from polled /health answers: a service is down after failing for a while."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

UP, FAILING, DOWN, UNKNOWN = "up", "failing", "down", "unknown"


@dataclass
class ServiceHealth:
    """What the monitor knows of one service's health."""

    name: str
    url: str
    last_seen: datetime | None = None
    failing_since: datetime | None = None
    last_checked: datetime | None = None
    detail: str = ""

    def record(self, ok: bool, detail: str, now: datetime) -> None:
        """Take one poll's answer into account."""
        self.last_checked = now
        self.detail = detail
        if ok:
            self.last_seen = now
            self.failing_since = None
        elif self.failing_since is None:
            self.failing_since = now

    def status(self, now: datetime, down_after_s: float) -> str:
        """up, failing (briefly, maybe a restart), down (failing for over `down_after_s`)."""
        if self.last_checked is None:
            return UNKNOWN
        if self.failing_since is None:
            return UP
        if (now - self.failing_since).total_seconds() > down_after_s:
            return DOWN
        return FAILING


@dataclass(frozen=True)
class HealthView:
    """One service's row on the page and in the API."""

    name: str
    url: str
    status: str
    last_seen: datetime | None
    last_checked: datetime | None
    detail: str


def health_view(service: ServiceHealth, now: datetime, down_after_s: float) -> HealthView:
    """The row to show for `service` at `now`."""
    return HealthView(
        service.name,
        service.url,
        service.status(now, down_after_s),
        service.last_seen,
        service.last_checked,
        service.detail,
    )
