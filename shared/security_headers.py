"""Security headers on every response of a web app: a strict Content-Security-Policy and its
companions (no sniffing, no framing, a short referrer, HSTS when served over TLS).

Our own `after_request` rather than flask-talisman: Talisman's defaults would redirect to
HTTPS and rewrite the session cookie's flags, both of which the edge and `session_config`
already decide; what is left is a handful of headers, clearer here than as overrides.

The policy allows no inline script or style: pages keep their code in static files and pass
data to it in `data-` attributes or `<script type="application/json">` blocks (data, not code).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Flask, Response, request

#: One year, the figure HSTS preload lists ask for.
HSTS_MAX_AGE = 365 * 24 * 3600
_PLACEHOLDER = re.compile(r"\{[^}]*\}")


def tile_source(tile_url: str) -> str | None:
    """The CSP source a Leaflet tile URL template loads its images from, or None when the
    tiles come from our own origin (or no tiles are configured).

    `https://{s}.tile.example.org/{z}/{x}/{y}.png` -> `https://*.tile.example.org`.
    """
    parts = urlsplit(tile_url.strip())
    if not parts.scheme or not parts.netloc:
        return None
    labels = parts.netloc.split(".")
    if _PLACEHOLDER.search(labels[0]):
        labels[0] = "*"  # a subdomain chosen per tile ({s}): CSP wildcards only the leftmost
    host = ".".join(labels)
    if _PLACEHOLDER.search(host):
        # A placeholder deeper in the host cannot be written as a CSP source: allow the
        # scheme rather than break the map.
        return f"{parts.scheme}:"
    return f"{parts.scheme}://{host}"


def content_security_policy(img_sources: Iterable[str] = ()) -> str:
    """The policy: everything from our own origin, images also inline (data:) and from
    `img_sources`; no plugins, no framing, forms and <base> only towards ourselves."""
    images = " ".join(["'self'", "data:", *img_sources])
    directives = [
        "default-src 'self'",
        f"img-src {images}",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def install_security_headers(app: Flask, img_sources: Iterable[str | None] = ()) -> None:
    """Add the security headers to every response `app` sends (pages, API, errors, assets).

    HSTS only when the request came over HTTPS (`request.is_secure`, which reflects
    X-Forwarded-Proto once ProxyFix trusts the edge): over plain HTTP it would be ignored,
    and on a development machine it would pin localhost to HTTPS.
    """
    policy = content_security_policy(source for source in img_sources if source)
    headers = {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_MAX_AGE}")
        return response
