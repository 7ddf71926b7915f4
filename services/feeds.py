"""Composition root of the feeds process: every open live feed on one asyncio event loop.

Serves `/inbox/stream` (notifications) and `/monitor/tail/stream` (monitor) behind the edge,
which routes those paths here and forwards the caller's signed identity (ADR 0007). An open
feed costs a coroutine and a socket, not a thread: a thousand open inboxes leave the web
processes free for pages. BIND sets the address (default 127.0.0.1:8008).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from aiohttp import web

from monitor.config import MonitorConfig
from monitor.feed import TailFeed
from monitor.kafka_gateway import TopicFollower
from notifications.feed import InboxFeed
from notifications.live import InboxActivity
from shared.db import service_database
from shared.heap import freeze_start_up_heap
from shared.logs import configure_logging
from shared.settings import Settings

DEFAULT_PORT = 8008
INBOX_FEED = web.AppKey("inbox_feed", InboxFeed)
TAIL_FEED = web.AppKey("tail_feed", TailFeed)


def build_app(
    settings: Settings,
    monitor: MonitorConfig,
    *,
    inbox_poll_s: float = 0.1,
    keepalive_s: float = 15.0,
    lifetime_s: float = 300.0,
) -> web.Application:
    """The feeds app: the inbox poller and the tail follower start and stop with it."""
    _, sessions = service_database(settings.notifications_database_url, "notifications")
    signer = settings.identity_signer
    inbox = InboxFeed(
        InboxActivity(sessions, datetime.now(UTC)),
        signer,
        poll_s=inbox_poll_s,
        keepalive_s=keepalive_s,
        lifetime_s=lifetime_s,
    )
    tail = TailFeed(signer, monitor.api_token or "", keepalive_s=keepalive_s, lifetime_s=lifetime_s)
    topics = settings.topics
    sources = (
        topics.listings,
        topics.organisations,
        topics.matches,
        topics.deliveries,
        topics.exchanges,
    )
    watched = (*sources, *(topics.dead_letter(name) for name in sources))

    async def background(app: web.Application) -> AsyncIterator[None]:
        poller = asyncio.create_task(inbox.poll_forever())
        stop = threading.Event()
        follower = tail.follow(
            asyncio.get_running_loop(),
            lambda: TopicFollower(settings.kafka_bootstrap_servers, watched, from_now=True),
            stop,
        )
        yield
        poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poller
        stop.set()
        await asyncio.to_thread(follower.join, 5)

    async def health(_: web.Request) -> web.Response:
        return web.json_response(
            {
                "status": "ok",
                "open_feeds": {
                    "inbox": inbox.wakeups.open_feeds,
                    "tail": tail.wakeups.open_feeds,
                },
            }
        )

    app = web.Application()
    app[INBOX_FEED] = inbox
    app[TAIL_FEED] = tail
    app.cleanup_ctx.append(background)
    app.router.add_get("/inbox/stream", inbox.stream)
    app.router.add_get("/monitor/tail/stream", tail.stream)
    app.router.add_get("/health", health)
    return app


def main() -> None:
    """`boucle-feeds`: serve the live feeds until SIGTERM or SIGINT."""
    configure_logging("feeds")
    host, _, port = (os.environ.get("BIND") or f"127.0.0.1:{DEFAULT_PORT}").rpartition(":")
    app = build_app(Settings.from_env(), MonitorConfig.from_env())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    freeze_start_up_heap()
    web.run_app(
        app,
        host=host or "127.0.0.1",
        port=int(port),
        backlog=2048,
        access_log=None,
        print=None,
        shutdown_timeout=5,
    )


if __name__ == "__main__":
    main()
