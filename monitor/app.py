"""The monitor's web application factory (the composition root lives in services/)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFProtect

from monitor import api, pages, pages_activity
from monitor.access import API_TOKEN_KEY
from monitor.config import MonitorConfig
from monitor.errors import BrokerUnavailable
from monitor.service import MonitorService
from shared.edge import install_identity, trust_proxy
from shared.i18n import init_i18n
from shared.identity import IdentitySigner
from shared.metrics import register_metrics
from shared.openapi import Api
from shared.security_headers import install_security_headers, tile_source
from shared.web import register_health, register_json_errors, register_page_frame, session_config

TRANSLATIONS = Path(__file__).with_name("translations")


def create_app(
    service: MonitorService,
    config: MonitorConfig,
    secret_key: str,
    health_checks: dict[str, Callable[[], object]],
    secure_cookies: bool = False,
    proxy_hops: int = 0,
) -> Flask:
    """Build the monitor app around an already wired MonitorService."""
    app = Flask(__name__, static_folder="static", static_url_path="/monitor/static")
    app.config.update(session_config(secret_key, secure_cookies))
    app.config.update(
        API_TITLE="Boucle monitor",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        # The monitor's part of the API reference, under a prefix the edge sends here;
        # listings merges it into /api/v1/openapi.json.
        OPENAPI_URL_PREFIX="/api/v1/monitor",
        OPENAPI_JSON_PATH="openapi.json",
    )
    app.config[API_TOKEN_KEY] = config.api_token
    app.config[pages_activity.TILE_URL_KEY] = config.tile_url
    app.config[pages_activity.TILE_ATTRIBUTION_KEY] = config.tile_attribution
    app.extensions[api.SERVICE_KEY] = service
    trust_proxy(app, proxy_hops)
    # Admins are who the edge says they are (ADR 0007): the monitor keeps no accounts.
    install_identity(app, IdentitySigner(secret_key))
    csrf = CSRFProtect(app)
    csrf.exempt(api.blp)  # the API checks it itself: session callers need X-CSRFToken
    Api(app).register_blueprint(api.blp)
    app.register_blueprint(pages.bp)
    register_page_frame(app)
    init_i18n(app, [TRANSLATIONS])
    register_health(app, health_checks)
    register_metrics(app)
    install_security_headers(app, [tile_source(config.tile_url)])
    _register_errors(app)
    return app


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.endswith("/stream")


def _register_errors(app: Flask) -> None:
    # Any other HTTP error: JSON with its reason under /api/, the shared error page elsewhere.
    register_json_errors(app)

    @app.errorhandler(BrokerUnavailable)
    def _broker_down(error: BrokerUnavailable) -> Any:
        if _wants_json():
            return jsonify(code=503, status="Service Unavailable", message=str(error)), 503
        return render_template("monitor/error.html", message=str(error)), 503

    @app.errorhandler(403)
    def _forbidden(error: Any) -> Any:
        if _wants_json():
            return jsonify(code=403, status="Forbidden", message=error.description), 403
        return render_template("monitor/forbidden.html"), 403

    @app.errorhandler(409)
    def _conflict(error: Any) -> Any:
        return jsonify(code=409, status="Conflict", message=error.description), 409

    @app.errorhandler(404)
    def _not_found(error: Any) -> Any:
        if _wants_json():
            return jsonify(code=404, status="Not Found", message=error.description), 404
        return render_template("monitor/error.html", message=error.description), 404
