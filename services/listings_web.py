"""Composition root of the listings web process: settings -> database -> use cases -> app.

Served by gunicorn: `gunicorn 'services.listings_web:create_app()'`.
"""

from __future__ import annotations

import os

from flask import Flask
from geopy.geocoders.base import Geocoder

from listings.accounts import AccountService
from listings.api_reference import remote_parts
from listings.app import AccountPeople
from listings.app import create_app as build_app
from listings.audit import AuditLog
from listings.exchange_service import ExchangeService
from listings.impact import OrganisationImpact
from listings.leaving import OrganisationData
from listings.login_sessions import LoginSessions
from listings.match_projection import MatchProjection
from listings.membership import Membership
from listings.notifications_export import notifications_export
from listings.search import ListingSearch
from listings.service import ListingService
from services.serving import serve
from services.stack import Ports
from shared.db import database_check, service_database
from shared.geo.gazetteer import GazetteerGeocoder
from shared.logs import configure_logging
from shared.metrics import register_metrics
from shared.settings import Settings
from shared.taxonomy import Taxonomy


def make_geocoder() -> Geocoder:
    """The offline gazetteer, or Nominatim when GEOCODER=nominatim (rate-limited, timed out)."""
    if os.environ.get("GEOCODER", "gazetteer") != "nominatim":
        return GazetteerGeocoder()
    from geopy.geocoders import Nominatim

    from listings.nominatim import RateLimitedNominatim

    return RateLimitedNominatim(
        Nominatim(
            user_agent=os.environ.get("NOMINATIM_USER_AGENT", "boucle-exchange"),
            domain=os.environ.get("NOMINATIM_DOMAIN", "nominatim.openstreetmap.org"),
            timeout=5,
        )
    )


def create_app(settings: Settings | None = None) -> Flask:
    """Wire the listings web app from the environment (or the given settings)."""
    configure_logging("listings-web")
    settings = settings or Settings.from_env()
    engine, sessions = service_database(settings.listings_database_url, "listings")
    taxonomy = Taxonomy.load_default()
    app = build_app(
        listings=ListingService(sessions, settings.topics.listings),
        accounts=AccountService(sessions, settings.topics.organisations),
        logins=LoginSessions(sessions),
        people=AccountPeople(
            membership=Membership(sessions, settings.topics, settings.public_base_url),
            organisation_data=OrganisationData(sessions, settings.topics),
            audit=AuditLog(sessions),
            notifications_export=notifications_export(
                os.environ.get("NOTIFICATIONS_URL"), settings.identity_signer
            ),
        ),
        exchanges=ExchangeService(sessions, settings.topics),
        impact=OrganisationImpact(sessions, lambda c: [c, *taxonomy.ancestors(c)]),
        search=ListingSearch(sessions, taxonomy),
        matches=MatchProjection(sessions),
        taxonomy=taxonomy,
        geocoder=make_geocoder(),
        health_checks={"database": database_check(engine)},
        secret_key=settings.secret_key,
        secure_cookies=not settings.is_development,
        rate_limits=settings.rate_limits,
        ratelimit_storage_uri=settings.ratelimit_storage_uri,
        proxy_hops=settings.trusted_proxy_hops,
        api_parts=remote_parts(os.environ),
    )
    register_metrics(app)
    return app


def main() -> None:
    """`boucle-listings-web`: serve the app under gunicorn (BIND, default 127.0.0.1:8001)."""
    serve("listings-web", create_app, Ports().listings)
