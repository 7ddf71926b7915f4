"""The monitor's own projection of the exchange: listings, matches, alerts, organisations.

Fed with every event of the `listings`, `matches`, `deliveries` and `organisations` topics
from their beginning, so a restarted monitor rebuilds it from Kafka.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

LISTING_PREFIX, MATCH_PREFIX = "boucle.listing.", "boucle.match."
DELIVERY_PREFIX, ORGANISATION_PREFIX = "boucle.delivery.", "boucle.organisation."
SERIES = ("listings", "matches", "alerts")


class ActivityProjection:
    """Current listings and matches, and how many of each happened per day."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.listings: dict[str, dict[str, Any]] = {}
        self.matches: dict[str, dict[str, Any]] = {}
        self.organisations: dict[str, dict[str, Any]] = {}
        self.daily: dict[str, Counter[date]] = {name: Counter() for name in SERIES}
        self.failed_alerts = 0

    def apply(self, event_type: str, when: datetime, data: dict[str, Any]) -> None:
        """Take one validated event into account (unknown types are ignored)."""
        with self._lock:
            if event_type.startswith(LISTING_PREFIX):
                self._listing(event_type, when, data)
            elif event_type.startswith(MATCH_PREFIX):
                self._match(event_type, when, data)
            elif event_type.startswith(DELIVERY_PREFIX):
                if data["outcome"] == "sent":
                    self.daily["alerts"][when.date()] += 1
                elif data["outcome"] in ("failed", "dead_lettered"):
                    self.failed_alerts += 1
            elif event_type.startswith(ORGANISATION_PREFIX):
                self.organisations[data["id"]] = data

    def _listing(self, event_type: str, when: datetime, data: dict[str, Any]) -> None:
        known = self.listings.get(data["id"])
        if known is None or data["version"] >= known["version"]:
            self.listings[data["id"]] = data
        if event_type == "boucle.listing.published":
            self.daily["listings"][when.date()] += 1

    def _match(self, event_type: str, when: datetime, data: dict[str, Any]) -> None:
        if event_type == "boucle.match.retracted":
            self.matches.pop(data["match_id"], None)
            return
        if data["match_id"] not in self.matches:
            self.daily["matches"][when.date()] += 1
        self.matches[data["match_id"]] = data

    def series(self, today: date, days: int = 30) -> dict[str, list[tuple[date, int]]]:
        """Per-day counts of the last `days` days (today included), oldest first."""
        first = today - timedelta(days=days - 1)
        span = [first + timedelta(days=n) for n in range(days)]
        with self._lock:
            return {name: [(d, self.daily[name][d]) for d in span] for name in SERIES}

    def active_listings(self, limit: int = 2000) -> list[dict[str, Any]]:
        """Published offers and needs, for the map (most recently updated first)."""
        with self._lock:
            active = [dict(row) for row in self.listings.values() if row["status"] == "published"]
            names = {oid: org.get("name", "") for oid, org in self.organisations.items()}
        active.sort(key=lambda row: row["updated_at"], reverse=True)
        for row in active:
            row["organisation_name"] = names.get(row["organisation_id"], "")
        return active[:limit]

    def snapshot(self) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
        """Copies of the listings and live matches (for the impact summary)."""
        with self._lock:
            return dict(self.listings), list(self.matches.values())

    def totals(self) -> dict[str, int]:
        """Headline counts for the overview."""
        with self._lock:
            statuses = Counter(row["status"] for row in self.listings.values())
            return {
                "listings": len(self.listings),
                "published": statuses["published"],
                "closed": statuses["closed"],
                "matches": len(self.matches),
                "alerts": sum(self.daily["alerts"].values()),
                "failed_alerts": self.failed_alerts,
                "organisations": len(self.organisations),
            }
