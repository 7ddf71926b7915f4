"""Which organisations' inboxes changed: one query for every open live feed at once.

The feeds process (services/feeds.py) holds every open inbox; rather than each connection
asking the database for its own organisation (a thousand open tabs would be a thousand
queries a second), one poller asks for the rows created lately and wakes the connections of
the organisations they belong to. The browser then fetches what is new from the inbox
(`GET /inbox/updates`), rendered in its language by the notifications web app.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, union_all
from sqlalchemy.orm import Session, sessionmaker

from notifications.tables import AlertRow, ExchangeNoticeRow
from shared.db import unit_of_work

#: A row is written with its creation time but committed a little later (the notifier commits
#: a poll's run of up to 500 events at once: well under a second); looking back this far finds
#: rows whose commit took that long, and the `seen` set keeps them from counting twice.
COMMIT_LAG = timedelta(seconds=5)


class InboxActivity:
    """Answers: which organisations got a new alert or exchange notice since the last call?"""

    def __init__(self, sessions: sessionmaker[Session], now: datetime) -> None:
        self._sessions = sessions
        self._since = now
        self._seen: dict[str, datetime] = {}

    def changed_organisations(self, now: datetime) -> set[str]:
        """Organisations with rows committed since the previous call (first call: since start)."""
        look_from = self._since - COMMIT_LAG
        alerts = select(
            AlertRow.id.label("id"),
            AlertRow.organisation_id.label("organisation_id"),
            AlertRow.created_at.label("created_at"),
        ).where(AlertRow.created_at > look_from)
        notices = select(
            ExchangeNoticeRow.id,
            ExchangeNoticeRow.organisation_id,
            ExchangeNoticeRow.created_at,
        ).where(ExchangeNoticeRow.created_at > look_from)
        with unit_of_work(self._sessions) as session:
            rows = session.execute(union_all(alerts, notices)).all()
        changed = {row.organisation_id for row in rows if row.id not in self._seen}
        for row in rows:
            self._seen[row.id] = row.created_at
        # Forget what is older than the window: it can never be returned again.
        self._seen = {key: at for key, at in self._seen.items() if at > look_from}
        self._since = now
        return changed

    def skip_to(self, now: datetime) -> None:
        """Nobody is listening: the next look starts from `now`, not from long ago."""
        self._since = now
        self._seen.clear()
