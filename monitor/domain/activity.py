"""The monitor's own projection of the exchange: listings, matches, alerts, organisations.

Fed with every event of the `listings`, `matches`, `deliveries` and `organisations` topics
from their beginning, so a restarted monitor rebuilds it from Kafka.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

from shared.contracts import (
    DeliveryOutcome,
    EventData,
    ExchangeChanged,
    ListingChanged,
    MatchesSettled,
    MatchFound,
    MatchRetracted,
    OrganisationChanged,
)
from shared.match_state import is_stale, no_longer_holds, sides

SERIES = ("listings", "matches", "alerts")


class ActivityProjection:
    """Current listings and matches, and how many of each happened per day."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.listings: dict[str, dict[str, Any]] = {}
        self.matches: dict[str, dict[str, Any]] = {}
        self.organisations: dict[str, dict[str, Any]] = {}
        self.daily: dict[str, Counter[date]] = {name: Counter() for name in SERIES}
        # What each series already counted (listing, match, delivery ids): an event read
        # twice (an outbox re-sent, a match found again after a retraction) counts once, so
        # the charts and the headline tell the same numbers.
        self._counted: dict[str, set[str]] = {name: set() for name in SERIES}
        self._given_up: set[str] = set()
        self.exchanges: dict[str, dict[str, Any]] = {}
        # listing id -> newest version seen, and -> ids of its live matches
        self._versions: dict[str, int] = {}
        self._by_listing: dict[str, set[str]] = {}

    def apply(self, event_type: str, when: datetime, data: EventData) -> None:
        """Take one validated event into account (unknown types are ignored)."""
        with self._lock:
            match data:
                case ListingChanged():
                    self._listing(event_type, when, data)
                case MatchFound() | MatchRetracted():
                    self._match(when, data)
                case MatchesSettled():
                    self._settled(data.listing_id, data.version, data.status)
                case DeliveryOutcome(outcome="sent"):
                    self._count("alerts", data.delivery_id, when)
                case DeliveryOutcome(outcome="dead_lettered"):
                    self._given_up.add(data.delivery_id)
                case OrganisationChanged():
                    self.organisations[data.id] = asdict(data)
                case ExchangeChanged():
                    known = self.exchanges.get(data.id)
                    if known is None or data.version >= known["version"]:
                        self.exchanges[data.id] = asdict(data)

    def _listing(self, event_type: str, when: datetime, data: ListingChanged) -> None:
        known = self.listings.get(data.id)
        if known is None or data.version >= known["version"]:
            self.listings[data.id] = asdict(data)
            if not data.is_published:
                self._settled(data.id, data.version, data.status)
        if event_type == "boucle.listing.published":
            self._count("listings", data.id, when)

    def _count(self, series: str, key: str, when: datetime) -> None:
        if key not in self._counted[series]:
            self._counted[series].add(key)
            self.daily[series][when.date()] += 1

    def _known(self, listing_id: str) -> int:
        return max(
            self._versions.get(listing_id, 0), self.listings.get(listing_id, {}).get("version", 0)
        )

    def _match(self, when: datetime, data: MatchFound | MatchRetracted) -> None:
        if is_stale(data, {listing: self._known(listing) for listing in sides(data)}):
            return
        for listing, version in sides(data).items():
            self._versions[listing] = max(self._versions.get(listing, 0), version)
        if isinstance(data, MatchRetracted):
            self._drop(data.match_id)
            return
        self._count("matches", data.match_id, when)
        self.matches[data.match_id] = asdict(data)
        for listing in sides(data):
            self._by_listing.setdefault(listing, set()).add(data.match_id)

    def _settled(self, listing_id: str, version: int, status: str) -> None:
        self._versions[listing_id] = max(self._versions.get(listing_id, 0), version)
        for match_id in list(self._by_listing.get(listing_id, ())):
            match = self.matches[match_id]
            side = match["offer"] if match["offer"]["listing_id"] == listing_id else match["need"]
            if no_longer_holds(side["version"], version, status):
                self._drop(match_id)

    def _drop(self, match_id: str) -> None:
        match = self.matches.pop(match_id, None)
        if match is not None:
            for side in ("offer", "need"):
                self._by_listing.get(match[side]["listing_id"], set()).discard(match_id)

    def series(self, today: date, days: int = 30) -> dict[str, list[tuple[date, int]]]:
        """Per-day counts of the last `days` days (today included), oldest first."""
        first = today - timedelta(days=days - 1)
        span = [first + timedelta(days=n) for n in range(days)]
        with self._lock:
            return {name: [(d, self.daily[name][d]) for d in span] for name in SERIES}

    def organisation_names(self) -> dict[str, str]:
        """Organisation id -> name, as the organisations topic last told."""
        with self._lock:
            return {oid: str(org.get("name", "")) for oid, org in self.organisations.items()}

    def active_listings(self, limit: int = 2000) -> list[dict[str, Any]]:
        """Published offers and needs, for the map (most recently updated first)."""
        with self._lock:
            active = [dict(row) for row in self.listings.values() if row["status"] == "published"]
            names = {oid: org.get("name", "") for oid, org in self.organisations.items()}
        active.sort(key=lambda row: row["updated_at"], reverse=True)
        for row in active:
            row["organisation_name"] = names.get(row["organisation_id"], "")
        return active[:limit]

    def exchanges_summary(self) -> tuple[Counter[str], list[dict[str, Any]]]:
        """Exchanges per status, and those with a problem reported (latest first)."""
        with self._lock:
            statuses = Counter(row["status"] for row in self.exchanges.values())
            reported = [dict(row) for row in self.exchanges.values() if row["problem"]]
        names = {oid: org.get("name", "") for oid, org in self.organisations.items()}
        for row in reported:
            row["owner_name"] = names.get(row["owner_organisation_id"], "")
            row["requester_name"] = names.get(row["requester_organisation_id"], "")
        reported.sort(key=lambda row: row["updated_at"], reverse=True)
        return statuses, reported

    def exchange_snapshot(
        self,
    ) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]], dict[str, dict[str, Any]]]:
        """Copies of the listings, exchanges and organisations (for the impact summary)."""
        with self._lock:
            return dict(self.listings), list(self.exchanges.values()), dict(self.organisations)

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
                "failed_alerts": len(self._given_up),
                "organisations": len(self.organisations),
            }
