"""The monitor's live tail (served by the feeds process): each new message, as JSON, to admins.

A follower thread reads the watched topics from where they are when the process starts and
fills a TailHub; every open tail is woken on the event loop and sends what passes its filter.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web

from monitor.domain.tail import ORGANISATION_FILTER_MAX, TailFilter, TailHub
from monitor.kafka_gateway import TopicFollower
from shared.auth import bearer_token
from shared.identity import IdentitySigner
from shared.sse import ALL, KEEP_ALIVE, Wakeups, caller, open_stream, refusal, sse, wait

log = logging.getLogger(__name__)


@dataclass
class TailFeed:
    """Open live tails, fed by one follower thread per process."""

    signer: IdentitySigner
    api_token: str = ""
    keepalive_s: float = 15.0
    lifetime_s: float = 300.0
    hub: TailHub = field(default_factory=TailHub)

    def __post_init__(self) -> None:
        self.wakeups = Wakeups()

    def follow(
        self,
        loop: asyncio.AbstractEventLoop,
        make_follower: Callable[[], TopicFollower],
        stop: threading.Event,
    ) -> threading.Thread:
        """Start the thread that reads the topics into the hub and wakes the open tails."""

        def run() -> None:
            follower = make_follower()
            try:
                while not stop.is_set():
                    try:
                        records = follower.poll(timeout_ms=300)
                    except Exception as exc:  # the broker away: the tails wait, then go on
                        log.warning("live tail: cannot read the topics (%s)", exc)
                        stop.wait(1.0)
                        continue
                    for record in records:
                        self.hub.publish(record)
                    if records and not loop.is_closed():
                        loop.call_soon_threadsafe(self.wakeups.wake)
            finally:
                follower.close()

        thread = threading.Thread(target=run, name="tail-follower", daemon=True)
        thread.start()
        return thread

    def _admit(self, request: web.Request) -> None:
        presented = bearer_token(request.headers.get("Authorization"))
        if (
            self.api_token
            and presented
            and hmac.compare_digest(presented.encode(), self.api_token.encode())
        ):
            return
        identity = caller(request, self.signer)
        if identity is None:
            raise refusal(401, "log in as an admin")
        if not identity.principal.is_admin:
            raise refusal(403, "only admins of the exchange may use the monitor")

    def _start(self, request: web.Request) -> int:
        last = request.headers.get("Last-Event-ID", "")
        if last.isdigit():
            return int(last)
        since = request.query.get("since", "")
        if since.isdigit():  # the page's render time (ms): what came after it
            return self.hub.seq_before(datetime.fromtimestamp(int(since) / 1000, UTC))
        return self.hub.last_seq

    async def stream(self, request: web.Request) -> web.StreamResponse:
        """`GET /monitor/tail/stream`: each new message passing the filter."""
        self._admit(request)
        wanted = TailFilter(
            topic=request.query.get("topic", "").strip()[:249],
            event_type=request.query.get("type", "").strip()[:200],
            organisation=request.query.get("organisation", "").strip()[:ORGANISATION_FILTER_MAX],
        )
        seq = self._start(request)
        response = await open_stream(request)
        ends = time.monotonic() + self.lifetime_s
        with self.wakeups.subscribe(ALL) as changed:
            while time.monotonic() < ends:
                seq, items = self.hub.after(seq, wanted, timeout_s=0)
                for item in items:
                    await response.write(sse("message", item.as_dict(), str(item.seq)))
                woken = await wait(changed, min(self.keepalive_s, ends - time.monotonic()))
                if not woken:
                    await response.write(KEEP_ALIVE)
        return response
