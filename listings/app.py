"""The listings web application factory (the composition root lives in services/)."""

from __future__ import annotations

from collections.abc import Callable, Container

from flask import Flask
from flask_smorest import Api

from listings import api
from listings.service import ListingService
from shared.web import register_health, register_json_errors


def create_app(
    service: ListingService,
    categories: Container[str] | None,
    health_checks: dict[str, Callable[[], object]],
    secret_key: str,
) -> Flask:
    """Build the Flask app around an already wired `ListingService`."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key,
        API_TITLE="Boucle listings",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
    app.extensions["boucle.listing_service"] = service
    app.extensions["boucle.categories"] = categories
    rest = Api(app)
    rest.register_blueprint(api.blp)
    register_json_errors(app)
    register_health(app, health_checks)
    return app
