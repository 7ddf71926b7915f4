"""Periodic purges on a background thread, so a process's bookkeeping tables stay bounded.

A consumer process registers its purges (each a callable returning how many rows went), e.g.
its processed_events table through `shared.tracking.purge_processed`. A purge that fails is
logged and tried again on the next turn; it never stops the others or the process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

Purge = Callable[[], int]


class Housekeeper:
    """Runs named purges every `interval_s` on a daemon thread until `stop` is set."""

    def __init__(
        self, purges: Mapping[str, Purge], stop: threading.Event, interval_s: float = 3600.0
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self._purges = dict(purges)
        self._stop = stop
        self._interval_s = interval_s
        self._thread: threading.Thread | None = None

    def start(self) -> threading.Thread:
        """Start the background thread (a daemon: it never holds the process open)."""
        if self._thread is not None:
            raise RuntimeError("housekeeper already started")
        self._thread = threading.Thread(target=self.run, name="housekeeper", daemon=True)
        self._thread.start()
        return self._thread

    def run(self) -> None:
        """Purge at once, then every `interval_s`, until `stop` is set."""
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self._interval_s)

    def run_once(self) -> dict[str, int]:
        """Run every purge once; returns the rows each deleted (failed ones are left out)."""
        counts: dict[str, int] = {}
        for name, purge in self._purges.items():
            if self._stop.is_set():
                break
            try:
                counts[name] = purge()
            except Exception:
                # Most likely the database is away: the next turn tries again.
                log.exception("purge %s failed; retrying in %.0f s", name, self._interval_s)
                continue
            log.info("purge %s: %d rows deleted", name, counts[name])
        return counts
