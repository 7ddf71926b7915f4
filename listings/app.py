"""The listings web application factory (the composition root lives in services/)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from flask_smorest import Api
from flask_wtf.csrf import CSRFProtect
from geopy.geocoders.base import Geocoder

from listings import api, api_accounts, api_exchanges, web, web_accounts, web_exchanges
from listings.accounts import AccountService
from listings.exchange_service import ExchangeService
from listings.forms import UNIT_LABELS
from listings.http_errors import register_error_pages
from listings.impact import OrganisationImpact
from listings.limits import limiter
from listings.match_projection import MatchProjection
from listings.search import ListingSearch
from listings.service import ListingService
from shared.i18n import init_i18n
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
    secret_key: str,
    secure_cookies: bool = False,
    rate_limits: bool = True,
) -> Flask:
    """Build the Flask app around already wired use cases and adapters."""
    app = Flask(__name__)
    app.config.update(session_config(secret_key, secure_cookies))
    app.config.update(
        RATELIMIT_ENABLED=rate_limits,
        API_TITLE="Boucle",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        # Swagger UI is vendored from npm (swagger-ui-dist) into our static files: no CDN.
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/static/vendor/swagger-ui/",
    )
    app.extensions.update(
        {
            "boucle.listing_service": listings,
            "boucle.accounts": accounts,
            "boucle.exchanges": exchanges,
            "boucle.impact": impact,
            "boucle.listing_search": search,
            "boucle.match_projection": matches,
            "boucle.taxonomy": taxonomy,
            "boucle.geocoder": geocoder,
        }
    )
    csrf = CSRFProtect(app)
    limiter.init_app(app)
    init_i18n(app, [Path(__file__).with_name("translations")])
    register_page_frame(app)
    rest = Api(app)
    for blueprint in (api.blp, api_accounts.blp, api_exchanges.blp):
        rest.register_blueprint(blueprint)
        csrf.exempt(blueprint)  # bearer tokens, not cookies, authenticate the API
    app.register_blueprint(web.bp)
    app.register_blueprint(web_accounts.bp)
    app.register_blueprint(web_exchanges.bp)
    register_error_pages(app)
    register_health(app, health_checks)
    # The browse map's tiles (MAP_TILE_URL, as listings/web.py reads it) are its only images
    # from elsewhere.
    install_security_headers(app, [tile_source(os.environ.get("MAP_TILE_URL", ""))])
    app.jinja_env.globals.update(
        unit_label=_label(UNIT_LABELS),
        status_label=_label(STATUS_LABELS),
        exchange_status=_label(EXCHANGE_STATUS_LABELS),
    )
    return app


def _label(labels: dict[str, Any]) -> Callable[[str], str]:
    return lambda key: str(labels.get(key, key))
