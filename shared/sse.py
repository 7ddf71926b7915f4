"""Server-sent events on an asyncio loop: many open feeds, no thread held by any of them.

Used by the feeds process (services/feeds.py). A feed waits on a `Wakeups` key (an
organisation, or everything for the monitor's tail) and writes when something changed or
when a keep-alive is due; a feed ends after its lifetime so the browser reconnects through
the edge, which asks again who is calling.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from shared.identity import (
    IDENTITY_HEADER,
    Identity,
    IdentitySigner,
    InvalidIdentity,
)

ALL = "*"


class Wakeups:
    """Wakes the feeds waiting on a key; safe to signal from another thread via the loop."""

    def __init__(self) -> None:
        self._waiting: defaultdict[str, set[asyncio.Event]] = defaultdict(set)

    @contextmanager
    def subscribe(self, key: str) -> Iterator[asyncio.Event]:
        """An event set whenever `key` (or ALL) is woken, for the time of a `with` block."""
        event = asyncio.Event()
        self._waiting[key].add(event)
        try:
            yield event
        finally:
            self._waiting[key].discard(event)
            if not self._waiting[key]:
                del self._waiting[key]

    def wake(self, keys: set[str] | None = None) -> None:
        """Wake the feeds of `keys` (every feed when None). Call on the loop's thread."""
        for key in list(self._waiting) if keys is None else keys & set(self._waiting):
            for event in self._waiting[key]:
                event.set()

    @property
    def keys(self) -> set[str]:
        """Keys that have at least one open feed."""
        return set(self._waiting)

    @property
    def open_feeds(self) -> int:
        """How many feeds are open now."""
        return sum(len(events) for events in self._waiting.values())


async def open_stream(request: web.Request, retry_ms: int = 3000) -> web.StreamResponse:
    """Start an event stream; the first bytes go out at once so proxies see it open."""
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    await response.write(f": connected\nretry: {retry_ms}\n\n".encode())
    return response


def sse(event: str, data: Any, event_id: str | None = None) -> bytes:
    """One server-sent event, its data as JSON."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data)}\n\n".encode()


KEEP_ALIVE = b": keep-alive\n\n"


async def wait(event: asyncio.Event, timeout_s: float) -> bool:
    """True if the event was set within the timeout (and clear it for the next wait)."""
    try:
        await asyncio.wait_for(event.wait(), timeout_s)
    except TimeoutError:
        return False
    event.clear()
    return True


def caller(request: web.Request, signer: IdentitySigner) -> Identity | None:
    """Who the edge says is calling; None without the header, 401 for a forged or stale one."""
    try:
        return signer.read(request.headers.get(IDENTITY_HEADER), datetime.now(UTC))
    except InvalidIdentity as exc:
        raise refusal(401, f"refused: {exc}") from exc


def refusal(status: int, message: str) -> web.HTTPException:
    """The house JSON error for a feed that cannot be opened."""
    names = {401: "Unauthorized", 403: "Forbidden", 400: "Bad Request"}
    body = json.dumps({"code": status, "status": names.get(status, ""), "message": message})
    error_class = {401: web.HTTPUnauthorized, 403: web.HTTPForbidden}.get(
        status, web.HTTPBadRequest
    )
    return error_class(text=body, content_type="application/json")
