"""What the notifier does with a match event."""

from __future__ import annotations

import logging

from notifications.alerts import alerts_for_match
from notifications.store import AlertStore
from shared.event_schemas import MATCH_FOUND
from shared.events import Event

log = logging.getLogger(__name__)


class MatchAlertHandler:
    """Records one alert per party of each match found."""

    def __init__(self, store: AlertStore) -> None:
        self._store = store

    def __call__(self, event: Event) -> None:
        if event.type != MATCH_FOUND:
            return
        added = self._store.record(alerts_for_match(event.data))
        log.info("match %s: %d new alerts", event.subject, added, extra={"event_id": event.id})
