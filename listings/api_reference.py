"""The one API reference of the exchange: /api/v1/openapi.json and the page /api/v1/docs.

Listings owns that path behind the edge, but notifications and monitor serve APIs too. Each
service describes its own API (it alone knows it) and serves that part; listings fetches
the parts over HTTP when asked, keeps them a minute, and merges them with its own. The
services share no code for this, only the documents. When a service does not answer, the
last copy of its part is served; before there is one, the reference says what is missing.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from flask import Blueprint, Response, current_app, render_template, url_for

from listings.openapi_merge import Document, merge

bp = Blueprint("api_reference", __name__, url_prefix="/api/v1")
OWN_PART_KEY = "boucle.api_reference.own"
PARTS_KEY = "boucle.api_reference.parts"
# Where the other services serve their parts: under prefixes the edge already sends to them.
NOTIFICATIONS_PART = "/notifications/openapi.json"
MONITOR_PART = "/api/v1/monitor/openapi.json"

Fetch = Callable[[str, float], Document]


def fetch_json(url: str, timeout_s: float) -> Document:
    """GET a JSON document."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        document: Document = json.load(response)
    return document


@dataclass
class RemotePart:
    """Another service's part of the reference, fetched when needed and kept a while."""

    name: str
    prefix: str  # renames its components where they clash with others: "Notifications"
    url: str
    timeout_s: float = 2.0
    fresh_for_s: float = 60.0
    # After a failure, do not make every reader wait for the timeout again at once.
    retry_after_s: float = 10.0
    fetch: Fetch = fetch_json
    _document: Document | None = field(default=None, init=False, repr=False)
    _fetched_at: float = field(default=float("-inf"), init=False, repr=False)
    _failed_at: float = field(default=float("-inf"), init=False, repr=False)
    _error: str = field(default="", init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def get(self, now: float) -> tuple[Document | None, str]:
        """The part (perhaps an older copy) or None, and why it could not be fetched now."""
        with self._lock:
            stale = now - self._fetched_at >= self.fresh_for_s
            if stale and now - self._failed_at >= self.retry_after_s:
                try:
                    document = self.fetch(self.url, self.timeout_s)
                    if not isinstance(document.get("paths"), dict):
                        raise ValueError("not an OpenAPI document (no paths)")
                except (OSError, ValueError) as exc:
                    self._failed_at, self._error = now, str(exc) or type(exc).__name__
                else:
                    self._document, self._fetched_at, self._error = document, now, ""
            return self._document, self._error


def reference(own: Document, parts: Sequence[RemotePart], now: float) -> Document:
    """The merged document; a missing part is named in `info.description`."""
    found: dict[str, Document] = {}
    missing: list[str] = []
    for part in parts:
        document, error = part.get(now)
        if document is None:
            missing.append(f"- **{part.name}**: its service did not answer ({error}).")
        else:
            found[part.prefix] = document
    merged, notes = merge(own, found)
    if missing or notes:
        info = merged.setdefault("info", {})
        lines = [
            info.get("description", ""),
            "",
            "**Part of this reference is missing for now** (reload in a minute):",
            *missing,
            *(f"- {note}" for note in notes),
        ]
        info["description"] = "\n".join(lines).strip()
    return merged


@bp.get("/openapi.json")
def openapi_json() -> Response:
    """Every service's API in one OpenAPI document."""
    own: Callable[[], Document] = current_app.extensions[OWN_PART_KEY]
    parts: Sequence[RemotePart] = current_app.extensions[PARTS_KEY]
    document = reference(own(), parts, time.monotonic())
    return current_app.response_class(json.dumps(document), mimetype="application/json")


@bp.get("/docs")
def docs() -> str:
    """The interactive reference (Swagger UI, vendored: no CDN, no inline script)."""
    return render_template(
        "api_docs.html",
        spec_url=url_for("api_reference.openapi_json"),
        swagger_ui_url=url_for("static", filename="vendor/swagger-ui/"),
    )


def remote_parts(env: Mapping[str, str]) -> tuple[RemotePart, ...]:
    """The other services' parts, at the base URLs the stack gives every process."""
    notifications = env.get("NOTIFICATIONS_URL", "http://127.0.0.1:8002").rstrip("/")
    monitor = env.get("MONITOR_URL", "http://127.0.0.1:8006").rstrip("/")
    return (
        RemotePart("notifications", "Notifications", f"{notifications}{NOTIFICATIONS_PART}"),
        RemotePart("monitor", "Monitor", f"{monitor}{MONITOR_PART}"),
    )
