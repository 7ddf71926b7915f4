"""Composition root of the listings web process: settings -> database -> service -> Flask app.

Served by gunicorn: `gunicorn 'services.listings_web:create_app()'`.
"""

from __future__ import annotations

from flask import Flask

from listings.app import create_app as build_app
from listings.service import ListingService
from shared.db import database_check, make_engine, make_session_factory, migrate
from shared.logs import configure_logging
from shared.settings import Settings
from shared.taxonomy import Taxonomy


def create_app(settings: Settings | None = None) -> Flask:
    """Wire the listings web app from the environment (or the given settings)."""
    configure_logging("listings-web")
    settings = settings or Settings.from_env()
    url = settings.listings_database_url
    migrate(url, "listings:migrations", "alembic_version_listings")
    engine = make_engine(url)
    service = ListingService(make_session_factory(engine), settings.topics.listings)

    return build_app(
        service=service,
        categories=Taxonomy.load_default(),
        health_checks={"database": database_check(engine)},
        secret_key=settings.secret_key,
    )
