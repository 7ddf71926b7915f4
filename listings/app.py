"""The listings web application factory (the composition root lives in services/)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFProtect
from geopy.geocoders.base import Geocoder

from listings import (
    api,
    api_accounts,
    api_exchanges,
    api_import,
    api_people,
    api_reference,
    web,
    web_accounts,
    web_app_shell,
    web_exchanges,
    web_import,
    web_profile,
    web_syndication,
)
from listings.accounts import AccountService
from listings.api_reference import RemotePart
from listings.audit import AuditLog
from listings.auth import bp as edge_auth_bp
from listings.auth import resolve_caller
from listings.exchange_service import ExchangeService
from listings.forms import UNIT_LABELS
from listings.http_errors import register_error_pages
from listings.impact import OrganisationImpact
from listings.leaving import OrganisationData
from listings.limits import limiter
from listings.login_sessions import LoginSessions
from listings.match_projection import MatchProjection
from listings.membership import Membership
from listings.search import ListingSearch
from listings.service import ListingService
from shared.api_csrf import install_api_csrf
from shared.auth import Principal
from shared.edge import current_principal, install_identity, trust_proxy
from shared.i18n import init_i18n
from shared.identity import IdentitySigner
from shared.maps import tile_layer
from shared.openapi import Api
from shared.security_headers import install_security_headers, tile_source
from shared.taxonomy import Taxonomy
from shared.web import register_health, register_page_frame, session_config

EXCHANGE_STATUS_LABELS = {
    "requested": _l("requested"),
    "countered": _l("other terms proposed"),
    "accepted": _l("accepted"),
    "declined": _l("declined"),
    "cancelled": _l("cancelled"),
    "expired": _l("expired (no answer)"),
    "completed": _l("completed"),
}
STATUS_LABELS = {
    "draft": _l("draft"),
    "published": _l("published"),
    "reserved": _l("reserved"),
    "closed": _l("closed"),
    "withdrawn": _l("withdrawn"),
    "expired": _l("expired"),
}

API_DESCRIPTION = """Every API of the Boucle exchange: listings, organisations and their tokens,
categories and exchanges (listings service); alerts, the inbox, webhooks and notification
preferences (notifications service); the monitor (monitor service, for admins).

**Authenticate** with your organisation's API token, shown once when it registers
(`POST /api/v1/organisations`): `Authorization: Bearer <token>` (the *Authorize* button).
In the browser a member's login cookie works too; a change made with it must send the
page's CSRF token in `X-CSRFToken`. Operations without a lock are public.

**Errors** are JSON `{code, status, message, errors?}`; `errors` names each field that was
not valid and why (400)."""


def create_app(
    *,
    listings: ListingService,
    accounts: AccountService,
    exchanges: ExchangeService,
    impact: OrganisationImpact,
    search: ListingSearch,
    matches: MatchProjection,
    taxonomy: Taxonomy,
    geocoder: Geocoder,
    health_checks: dict[str, Callable[[], object]],
    logins: LoginSessions,
    people: AccountPeople,
    secret_key: str,
    secure_cookies: bool = False,
    rate_limits: bool = True,
    ratelimit_storage_uri: str = "memory://",
    proxy_hops: int = 0,
    api_parts: Sequence[RemotePart] = (),
) -> Flask:
    """Build the Flask app around already wired use cases and adapters."""
    app = Flask(__name__)
    app.config.update(session_config(secret_key, secure_cookies))
    app.config.update(
        RATELIMIT_ENABLED=rate_limits,
        RATELIMIT_STORAGE_URI=ratelimit_storage_uri,
        API_TITLE="Boucle",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        # No OPENAPI_URL_PREFIX: api_reference serves the document merged with the other
        # services' parts, and the page (Swagger UI vendored from npm swagger-ui-dist).
    )
    app.extensions.update(
        {
            "boucle.listing_service": listings,
            "boucle.accounts": accounts,
            "boucle.logins": logins,
            "boucle.identity_signer": IdentitySigner(secret_key),
            "boucle.exchanges": exchanges,
            "boucle.impact": impact,
            "boucle.listing_search": search,
            "boucle.match_projection": matches,
            "boucle.taxonomy": taxonomy,
            "boucle.geocoder": geocoder,
            "boucle.membership": people.membership,
            "boucle.organisation_data": people.organisation_data,
            "boucle.audit": people.audit,
            "boucle.notifications_export": people.notifications_export,
        }
    )
    trust_proxy(app, proxy_hops)
    install_identity(app, IdentitySigner(secret_key), resolve_caller)
    app.before_request(web_import.bound_upload)  # before CSRFProtect reads the form
    csrf = CSRFProtect(app)
    limiter.init_app(app)
    init_i18n(app, [Path(__file__).with_name("translations")])
    register_page_frame(app)
    rest = Api(app, spec_kwargs={"info": {"description": API_DESCRIPTION}})
    for blueprint in (
        api_import.blp,
        api.blp,
        api_accounts.blp,
        api_exchanges.blp,
        api_people.blp,
    ):
        rest.register_blueprint(blueprint)
        csrf.exempt(blueprint)  # forms' CSRF check; install_api_csrf guards cookie calls
    install_api_csrf(app)
    app.register_blueprint(edge_auth_bp)
    app.extensions[api_reference.OWN_PART_KEY] = functools.cache(rest.spec.to_dict)
    app.extensions[api_reference.PARTS_KEY] = tuple(api_parts)
    app.register_blueprint(api_reference.bp)
    app.register_blueprint(web.bp)
    app.register_blueprint(web_accounts.bp)
    app.register_blueprint(web_exchanges.bp)
    app.register_blueprint(web_import.bp)
    app.register_blueprint(web_syndication.bp)
    app.register_blueprint(web_app_shell.bp)
    app.register_blueprint(web_profile.bp)
    app.context_processor(lambda: {"account_notice": _account_notice(people.membership)})
    register_error_pages(app)
    register_health(app, health_checks)
    # The browse map's tiles (MAP_TILE_URL, OpenStreetMap's by default) are its only images
    # from elsewhere.
    app.config[web.TILES_KEY] = tile_layer(os.environ, "MAP")
    install_security_headers(app, [tile_source(app.config[web.TILES_KEY].url)])
    app.jinja_env.globals.update(
        unit_label=_label(UNIT_LABELS),
        status_label=_label(STATUS_LABELS),
        exchange_status=_label(EXCHANGE_STATUS_LABELS),
    )
    return app


@dataclass(frozen=True)
class AccountPeople:
    """The account use cases beyond logging in: people, their data, the audit log."""

    membership: Membership
    organisation_data: OrganisationData
    audit: AuditLog
    #: fetches the notifications service's part of an organisation's export
    notifications_export: Callable[[Principal], dict[str, list[dict[str, Any]]]]


def _account_notice(membership: Membership) -> str:
    """Why alerts are not e-mailed yet, on every page, until the addresses are confirmed."""
    principal = current_principal()
    if principal is None or not principal.user_id:
        return ""
    waiting = membership.unconfirmed(principal.organisation_id, principal.user_id)
    if not waiting:
        return ""
    return _(
        "Confirm %(addresses)s: until then no alert is e-mailed there. Follow the link we sent.",
        addresses=", ".join(waiting),
    )


def _label(labels: dict[str, Any]) -> Callable[[str], str]:
    return lambda key: str(labels.get(key, key))
