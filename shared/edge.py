"""What every web service takes from the edge in front of it: the caller's identity and address.

Each app installs one resolver (`install_identity`); views, decorators and templates ask
`current_principal()`. The notifications and monitor services resolve only the signed
identity the edge forwards (shared/identity.py); listings, which owns the accounts, also
resolves cookies and tokens itself for the edge's own question (`/auth/identity`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, abort, current_app, g, jsonify, request
from werkzeug.middleware.proxy_fix import ProxyFix

from shared.auth import Principal
from shared.identity import (
    IDENTITY_HEADER,
    Identity,
    IdentitySigner,
    InvalidIdentity,
)

_RESOLVER = "boucle.identity"
_SIGNER = "boucle.identity_signer"

Resolver = Callable[[], Principal | None]


def install_identity(app: Flask, signer: IdentitySigner, resolve: Resolver | None = None) -> None:
    """Make `current_principal()` work in `app`: the edge's identity first, then `resolve`."""
    app.extensions[_SIGNER] = signer
    app.extensions[_RESOLVER] = resolve or (lambda: None)


def forwarded_identity() -> Identity | None:
    """The identity the edge forwarded with this request; None when there is none.

    A header that is present but forged or stale ends the request with 401: a caller who
    sends one is not anonymous, and answering as if they were would hide the fault.
    """
    signer: IdentitySigner = current_app.extensions[_SIGNER]
    try:
        return signer.read(request.headers.get(IDENTITY_HEADER), datetime.now(UTC))
    except InvalidIdentity as exc:
        response = jsonify(code=401, status="Unauthorized", message=f"refused: {exc}")
        response.status_code = 401
        abort(response)


def current_principal() -> Principal | None:
    """The caller of this request, or None for an anonymous visitor (computed once)."""
    if "boucle_principal" not in g:
        identity = forwarded_identity()
        if identity is not None:
            g.boucle_principal = identity.principal
        else:
            resolve: Resolver = current_app.extensions[_RESOLVER]
            g.boucle_principal = resolve()
    found: Principal | None = g.boucle_principal
    return found


def trust_proxy(app: Flask, hops: int) -> None:
    """Take the client's address and scheme from exactly `hops` proxies in front (0: none).

    Trusting more hops than there are would let any client choose its address, and with it
    its rate limits; trusting fewer would give every client the proxy's address.
    """
    if hops > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
