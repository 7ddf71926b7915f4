"""Feeds for feed readers and calendar apps: new offers as Atom (per category and place),
an organisation's pick-up windows as iCalendar at a secret address."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from listings import exchanges as x
from listings.auth import current_principal
from listings.domain import Listing
from listings.exchange_service import ExchangeService
from listings.forms import UNIT_LABELS
from listings.places import PlaceError, resolve
from listings.search import SearchQuery
from listings.syndication import (
    FeedEntry,
    Window,
    atom_feed,
    calendar,
    calendar_token,
    calendar_token_valid,
)
from listings.web_support import ext
from shared.auth import Principal
from shared.taxonomy import Taxonomy

bp = Blueprint("syndication", __name__)

FEED_SIZE = 50
#: how many of the nearest offers are looked at for the newest FEED_SIZE of them
FEED_POOL = 500
ATOM_TYPE = "application/atom+xml; charset=utf-8"


@bp.get("/feeds/offers.atom")
def offers_feed() -> Response:
    """The newest published offers, optionally of a category (and its sub-categories) and
    within radius_km of `near` (lat,lon or a place name)."""
    taxonomy: Taxonomy = ext("taxonomy")
    category = request.args.get("category") or None
    if category is not None and category not in taxonomy:
        abort(400, "unknown category; see /api/v1/categories")
    try:
        radius_km = float(request.args.get("radius_km", 50))
    except ValueError:
        abort(400, "radius_km must be a number of kilometres")
    if not 0 <= radius_km <= 500:
        abort(400, "radius_km must be between 0 and 500")
    near_text = (request.args.get("near") or "").strip()
    near, place = _point(near_text) if near_text else (None, "")
    hits = (
        ext("listing_search")
        .search(
            SearchQuery(
                kind="offer",
                category=category,
                near=near,
                radius_km=radius_km,
                page_size=FEED_POOL if near else FEED_SIZE,
            )
        )
        .hits
    )
    newest = sorted((hit.listing for hit in hits), key=lambda item: item.created_at, reverse=True)
    lang = str(get_locale())
    entries = [_entry(listing, taxonomy, lang) for listing in newest[:FEED_SIZE]]
    what = taxonomy.path_labels(category, lang) if category else _("all categories")
    title = (
        _(
            "New offers: %(what)s within %(km)s km of %(place)s",
            what=what,
            km=f"{radius_km:g}",
            place=place,
        )
        if near
        else _("New offers: %(what)s", what=what)
    )
    query = {k: v for k, v in request.args.items() if k in ("category", "near", "radius_km")}
    page_args = {
        "kind": "offer",
        "category": category or "",
        "place": place,
        "radius_km": f"{radius_km:g}",
    }
    body = atom_feed(
        feed_id=f"tag:boucle,2026:offers?{urlencode(sorted(query.items()))}",
        title=f"Boucle · {title}",
        self_url=url_for("syndication.offers_feed", _external=True, **query),
        page_url=url_for("pages.browse", _external=True) + "?" + urlencode(page_args),
        entries=entries,
    )
    response = Response(body, content_type=ATOM_TYPE)
    # Feed readers poll; five minutes old is new enough and spares the search.
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


def _point(text: str) -> tuple[tuple[float, float], str]:
    """(lat, lon) and a name for `near`: coordinates as given, or a place looked up."""
    parts = text.split(",")
    if len(parts) == 2:
        try:
            lat, lon = float(parts[0]), float(parts[1])
        except ValueError:
            pass
        else:
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                abort(400, "latitude or longitude out of range")
            return (lat, lon), f"{lat:.4f}, {lon:.4f}"
    try:
        found = resolve(ext("geocoder"), text)
    except PlaceError as exc:
        abort(400, str(exc))
    return (found["lat"], found["lon"]), str(found["place"])


def _entry(listing: Listing, taxonomy: Taxonomy, lang: str) -> FeedEntry:
    unit = str(UNIT_LABELS.get(listing.unit, listing.unit))
    summary = f"{listing.quantity:g} {unit} · {listing.place}"
    if listing.description:
        summary += f"\n\n{listing.description[:500]}"
    return FeedEntry(
        id=listing.id,
        title=listing.title,
        summary=summary,
        url=url_for("pages.listing_page", listing_id=listing.id, _external=True),
        category=listing.category,
        category_label=taxonomy.path_labels(listing.category, lang),
        place=listing.place,
        published=listing.created_at,
        updated=listing.updated_at,
    )


@bp.get("/calendar/<organisation_id>/<token>.ics")
def pickup_calendar(organisation_id: str, token: str) -> Response:
    """The organisation's pick-up windows: its exchanges' and its listings' (no login:
    the address is the secret)."""
    if not calendar_token_valid(_secret(), organisation_id, token):
        abort(404)
    principal = Principal(organisation_id=organisation_id)
    windows = [*_exchange_windows(principal), *_listing_windows(principal)]
    body = calendar(_("Boucle pick-ups"), windows, datetime.now(UTC))
    response = Response(body, content_type="text/calendar; charset=utf-8")
    # The address is the secret: no shared cache may keep what it shows.
    response.cache_control.private = True
    response.cache_control.max_age = 300
    return response


def _exchange_windows(principal: Principal) -> list[Window]:
    service: ExchangeService = ext("exchanges")
    windows = []
    for view in service.of_organisation(principal):
        exchange = view.exchange
        start = exchange.terms.window_from or exchange.terms.window_until
        if start is None or exchange.status not in x.LIVE:
            continue
        other = view.requester if exchange.owner_id == principal.organisation_id else view.owner
        unit = str(UNIT_LABELS.get(exchange.unit, exchange.unit))
        windows.append(
            Window(
                uid=f"exchange-{exchange.id}@boucle",
                summary=_(
                    "Pick-up: %(title)s (%(quantity)s %(unit)s)",
                    title=view.listing_title,
                    quantity=f"{exchange.terms.quantity:g}",
                    unit=unit,
                ),
                description=_("Exchange with %(name)s", name=other.name),
                start=start,
                end=exchange.terms.window_until,
                url=url_for(
                    "exchange_pages.exchange_page", exchange_id=exchange.id, _external=True
                ),
                status="CONFIRMED" if exchange.status == x.ACCEPTED else "TENTATIVE",
            )
        )
    return windows


def _listing_windows(principal: Principal) -> list[Window]:
    windows = []
    for listing in ext("listing_service").of_organisation(principal):
        if listing.status not in ("published", "reserved") or listing.available_until is None:
            continue
        windows.append(
            Window(
                uid=f"listing-{listing.id}@boucle",
                summary=_("Available: %(title)s", title=listing.title),
                description=f"{listing.quantity:g} {UNIT_LABELS.get(listing.unit, listing.unit)}",
                start=listing.available_from or listing.created_at,
                end=listing.available_until,
                url=url_for("pages.listing_page", listing_id=listing.id, _external=True),
                location=listing.place,
            )
        )
    return windows


@bp.app_context_processor
def _feed_addresses() -> dict[str, Any]:
    return {"offers_feed_url": offers_feed_url, "calendar_url": calendar_url}


def offers_feed_url() -> str:
    """The Atom feed matching the browse page's search (its category, place and radius)."""
    args = {
        "category": request.args.get("category", ""),
        "near": request.args.get("place", ""),
        "radius_km": request.args.get("radius_km", ""),
    }
    given: dict[str, Any] = {k: v for k, v in args.items() if v}
    return url_for("syndication.offers_feed", **given)


def calendar_url() -> str:
    """The logged-in organisation's secret calendar address ('' for visitors)."""
    principal = current_principal()
    if principal is None:
        return ""
    token = calendar_token(_secret(), principal.organisation_id)
    return url_for(
        "syndication.pickup_calendar",
        organisation_id=principal.organisation_id,
        token=token,
        _external=True,
    )


def _secret() -> str:
    return str(current_app.secret_key)
