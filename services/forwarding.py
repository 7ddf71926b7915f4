"""Forwarding one HTTP request to a backend and streaming its answer back, as WSGI.

Werkzeug's ProxyMiddleware reads the backend's body in fixed-size blocks, which holds back a
server-sent event stream until a block fills up; here each read returns whatever has
arrived (`read1`), so live feeds pass through the router as they are written.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import quote, urlsplit

from werkzeug.datastructures import EnvironHeaders
from werkzeug.exceptions import BadGateway
from werkzeug.http import is_hop_by_hop_header
from werkzeug.wsgi import get_input_stream

CHUNK = 64 * 1024
StartResponse = Callable[..., Any]


def forward(
    environ: dict[str, Any], start_response: StartResponse, target: str, timeout: float
) -> Iterable[bytes]:
    """Send the request in `environ` to the backend at `target`; stream the answer back."""
    backend = urlsplit(target)
    headers = [
        (name, value)
        for name, value in EnvironHeaders(environ).items()
        if not is_hop_by_hop_header(name) and name.lower() not in ("content-length", "host")
    ]
    headers += [
        ("Host", environ.get("HTTP_HOST", backend.netloc)),
        ("X-Forwarded-For", environ.get("REMOTE_ADDR", "")),
        ("X-Forwarded-Proto", environ.get("wsgi.url_scheme", "http")),
        ("Connection", "close"),
    ]
    body = get_input_stream(environ).read()
    path = quote(environ.get("PATH_INFO", "/"), safe="!$&'()*+,/:;=@%")
    if environ.get("QUERY_STRING"):
        path = f"{path}?{environ['QUERY_STRING']}"
    host = backend.hostname or "127.0.0.1"
    connection = http.client.HTTPConnection(host, backend.port or 80, timeout=timeout)
    try:
        connection.request(
            environ["REQUEST_METHOD"], path, body=body or None, headers=dict(headers)
        )
        response = connection.getresponse()
    except OSError:
        connection.close()
        return BadGateway("the service behind this address is not answering")(
            environ, start_response
        )
    start_response(
        f"{response.status} {response.reason}",
        [(k, v) for k, v in response.getheaders() if not is_hop_by_hop_header(k)],
    )
    return _stream(response, connection)


def _stream(
    response: http.client.HTTPResponse, connection: http.client.HTTPConnection
) -> Iterator[bytes]:
    try:
        while True:
            try:
                data = response.read1(CHUNK)
            except OSError:
                return
            if not data:
                return
            yield data
    finally:
        connection.close()
