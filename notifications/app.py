"""The notifier's web application factory."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask_smorest import Api

from notifications import api
from notifications.store import AlertStore
from shared.web import register_health, register_json_errors


def create_app(
    store: AlertStore, health_checks: dict[str, Callable[[], object]], secret_key: str
) -> Flask:
    """Build the Flask app around an already wired `AlertStore`."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key,
        API_TITLE="Boucle notifications",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
    )
    app.extensions["boucle.alert_store"] = store
    rest = Api(app)
    rest.register_blueprint(api.blp)
    register_json_errors(app)
    register_health(app, health_checks)
    return app
