"""Composition root of the notifications web process (alerts API).

Served by gunicorn: `gunicorn 'services.notifications_web:create_app()'`.
"""

from __future__ import annotations

from flask import Flask

from notifications.app import create_app as build_app
from notifications.store import AlertStore
from shared.db import database_check, make_engine, make_session_factory, migrate
from shared.logs import configure_logging
from shared.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Wire the notifications web app from the environment (or the given settings)."""
    configure_logging("notifications-web")
    settings = settings or Settings.from_env()
    url = settings.notifications_database_url
    migrate(url, "notifications:migrations", "alembic_version_notifications")
    engine = make_engine(url)

    return build_app(
        AlertStore(make_session_factory(engine)),
        health_checks={"database": database_check(engine)},
        secret_key=settings.secret_key,
    )
