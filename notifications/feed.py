"""The live inbox feed (served by the feeds process): tells an open inbox that it changed.

One poller asks the database which organisations got something new (notifications/live.py)
and wakes their open feeds; each feed then sends `changed`, and the page fetches the news
from `/inbox/updates`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web

from notifications.live import InboxActivity
from shared.faults import is_transient
from shared.identity import IdentitySigner
from shared.sse import KEEP_ALIVE, Wakeups, caller, open_stream, refusal, sse, wait

log = logging.getLogger(__name__)


@dataclass
class InboxFeed:
    """Open inbox feeds, woken by one poller per process."""

    activity: InboxActivity
    signer: IdentitySigner
    poll_s: float = 0.1
    keepalive_s: float = 15.0
    lifetime_s: float = 300.0

    def __post_init__(self) -> None:
        self.wakeups = Wakeups()

    async def poll_forever(self) -> None:
        """Wake the organisations whose inbox changed, a few times a second, until cancelled."""
        backoff = self.poll_s
        while True:
            try:
                if self.wakeups.keys:
                    now = datetime.now(UTC)
                    changed = await asyncio.to_thread(self.activity.changed_organisations, now)
                    self.wakeups.wake(changed)
                else:
                    self.activity.skip_to(datetime.now(UTC))  # nobody listens: nothing to find
                backoff = self.poll_s
            except Exception as exc:
                if not is_transient(exc):
                    raise
                # The database is away for a moment: feeds stay open and catch up after.
                log.warning("inbox poll failed (%s); retrying in %.1fs", exc, backoff)
                backoff = min(backoff * 2, 5.0)
            await asyncio.sleep(backoff)

    async def stream(self, request: web.Request) -> web.StreamResponse:
        """`GET /inbox/stream`: `changed` whenever the member's organisation got news."""
        identity = caller(request, self.signer)
        if identity is None or not identity.principal.user_id:
            raise refusal(401, "Log in to follow your inbox.")
        organisation_id = identity.principal.organisation_id
        response = await open_stream(request)
        ends = time.monotonic() + self.lifetime_s
        with self.wakeups.subscribe(organisation_id) as changed:
            while time.monotonic() < ends:
                woken = await wait(changed, min(self.keepalive_s, ends - time.monotonic()))
                await response.write(sse("changed", {}) if woken else KEEP_ALIVE)
        return response  # the browser reconnects by itself, through the edge again
