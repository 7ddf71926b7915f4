"""Rate limits on logins, registrations and token creation.

Counted per client address (the proxy's X-Forwarded-For, trusted for exactly the hops in
front: shared/edge.trust_proxy) and, for logins, per account as well: one address cannot
lock another out, and many addresses cannot guess one account's password. Counters live in
RATELIMIT_STORAGE_URI: memory for one process, Redis where several processes serve.
"""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from shared.edge import current_principal

# Initialised per app in create_app; storage comes from the app's RATELIMIT_STORAGE_URI.
limiter = Limiter(key_func=get_remote_address, default_limits=[])

LOGINS_PER_ADDRESS = "10/minute"
LOGINS_PER_ACCOUNT = "30/hour"
REGISTRATIONS_PER_ADDRESS = "10/hour"
TOKENS_PER_ORGANISATION = "30/hour"


def login_account() -> str:
    """The account a login attempt is for (the e-mail as typed, normalised)."""
    return "account:" + (request.form.get("email") or "").strip().lower()


def calling_organisation() -> str:
    """The organisation making the call (tokens are counted per organisation)."""
    principal = current_principal()
    if principal is None:
        return "address:" + get_remote_address()
    return "organisation:" + principal.organisation_id
