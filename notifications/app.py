"""The notifications web application factory (the composition root lives in services/)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask_wtf import CSRFProtect

from notifications.web import api, api_settings, pages, push_pages, settings_pages, unread
from notifications.web.context import WebServices
from shared.api_csrf import install_api_csrf
from shared.edge import install_identity, trust_proxy
from shared.i18n import init_i18n
from shared.identity import IdentitySigner
from shared.openapi import Api
from shared.security_headers import install_security_headers
from shared.web import register_health, register_json_errors, register_page_frame, session_config

TRANSLATIONS = Path(__file__).with_name("translations")


def create_app(
    services: WebServices,
    health_checks: dict[str, Callable[[], object]],
    secret_key: str,
    secure_cookies: bool = False,
    proxy_hops: int = 0,
) -> Flask:
    """Build the Flask app around already wired services."""
    app = Flask(__name__, static_folder="static", static_url_path="/notifications/static")
    app.config.update(session_config(secret_key, secure_cookies))
    app.config.update(
        API_TITLE="Boucle notifications",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        # Under a prefix the router already sends here (listings owns /api/v1/openapi.json).
        OPENAPI_URL_PREFIX="/notifications",
        OPENAPI_JSON_PATH="openapi.json",
    )
    app.extensions["boucle.notifications"] = services
    trust_proxy(app, proxy_hops)
    # Callers are who the edge says they are (ADR 0007): this service keeps no accounts.
    install_identity(app, IdentitySigner(secret_key))
    csrf = CSRFProtect(app)
    rest = Api(app)
    for blueprint in (api.blp, api_settings.blp):
        rest.register_blueprint(blueprint)
        csrf.exempt(blueprint)  # forms' CSRF check; install_api_csrf guards cookie calls
    install_api_csrf(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(settings_pages.bp)
    app.register_blueprint(unread.bp)
    app.register_blueprint(push_pages.bp)
    # One-click unsubscribe (RFC 8058) comes from mail clients: the signed token is the proof.
    csrf.exempt(settings_pages.unsubscribe)
    register_page_frame(app)
    init_i18n(app, [TRANSLATIONS])
    register_json_errors(app)
    register_health(app, health_checks)
    install_security_headers(app)
    return app
