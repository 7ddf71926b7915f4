"""Composition root of the notifications web process: alerts API, inbox, settings pages.

Served by gunicorn (gthread workers, for the live feed):
`gunicorn 'services.notifications_web:create_app()' -k gthread`.
"""

from __future__ import annotations

import os

from flask import Flask

from notifications.app import create_app as build_app
from notifications.channels.push import VapidKeys
from notifications.channels.webhook import WebhookSender
from notifications.config import NotifierConfig
from notifications.organisations import OrganisationStore
from notifications.store import AlertStore
from notifications.unsubscribe import UnsubscribeTokens
from notifications.web.context import WebServices
from notifications.web.push_pages import PUBLIC_KEY
from notifications.wiring import category_choices, category_label, webhook_policy
from services.serving import serve
from services.stack import Ports
from shared.db import database_check, service_database
from shared.logs import configure_logging
from shared.metrics import register_metrics
from shared.settings import Settings
from shared.taxonomy import Taxonomy


def create_app(settings: Settings | None = None, config: NotifierConfig | None = None) -> Flask:
    """Wire the notifications web app from the environment (or the given settings)."""
    configure_logging("notifications-web")
    settings = settings or Settings.from_env()
    config = config or NotifierConfig.from_env()
    url = settings.notifications_database_url
    engine, sessions = service_database(url, "notifications")
    taxonomy = Taxonomy.load_default()
    checker = WebhookSender(webhook_policy(config, settings.is_development))
    services = WebServices(
        sessions=sessions,
        alerts=AlertStore(sessions),
        organisations=OrganisationStore(sessions),
        check_webhook_url=checker.check,
        unsubscribe_tokens=UnsubscribeTokens(settings.secret_key),
        known_category=taxonomy.__contains__,
        category_label=category_label(taxonomy),
        category_choices=category_choices(taxonomy),
        base_url=settings.public_base_url,
    )
    app = build_app(
        services,
        health_checks={"database": database_check(engine)},
        secret_key=settings.secret_key,
        secure_cookies=not settings.is_development,
        proxy_hops=settings.trusted_proxy_hops,
    )
    # Push alerts are offered once the exchange has its VAPID keys (services/notifier.py).
    vapid = VapidKeys.from_env(os.environ)
    if vapid is not None:
        app.config[PUBLIC_KEY] = vapid.public_key
    register_metrics(app)
    return app


def main() -> None:
    """`boucle-notifications-web`: serve the app under gunicorn (BIND, default port 8002)."""
    serve("notifications-web", create_app, Ports().notifications)
