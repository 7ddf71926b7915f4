"""Listings pages: post, edit and withdraw offers and needs, see your own and their matches,
browse near a place. Views stay thin: validate the form, call a use case, redirect."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, time
from types import SimpleNamespace
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from listings.auth import current_principal
from listings.category_picker import grouped_choices
from listings.domain import Listing
from listings.errors import Conflict, NotFound
from listings.exchange_forms import RequestForm
from listings.forms import UNIT_LABELS, ListingForm, SearchForm
from listings.hints import what_would_match
from listings.match_projection import MatchProjection
from listings.places import PlaceError, locate, resolve
from listings.search import MapPoint, SearchPage, SearchQuery
from listings.service import ListingService
from listings.web_support import ext, login_required
from shared.taxonomy import Taxonomy
from shared.units import usual_unit

bp = Blueprint("pages", __name__, template_folder="templates")
#: app.config key of the browse map's shared.maps.TileLayer (set by the app factory)
TILES_KEY = "boucle.map_tiles"
#: The most listings the browse map shows at once (its clusters keep that many readable).
MAP_MARKERS = 500


def category_choices(field: Any, blank: str) -> None:
    """Give a category <select> its grouped choices, ``blank`` first, and what the type-to-filter
    box of /assets/category_picker.js says in the page's language."""
    field.choices = grouped_choices(
        ext("taxonomy"), str(get_locale()), blank, _("%(family)s (all)", family="%(family)s")
    )
    field.render_kw = {
        "class": "category-picker",
        "data-filter-label": _("Find a category: a word or an EWC code (15 01 03)"),
        "data-filter-none": _("No category matches; try another word."),
        "data-filter-one": _("One category matches."),
        "data-filter-many": _("%(num)s categories match.", num="%(num)s"),
    }


@bp.get("/")
def home() -> str:
    form = SearchForm(request.args)
    category_choices(form.category, _("All categories"))
    recent = ext("listing_search").search(SearchQuery(page_size=8))
    return render_template("home.html", form=form, recent=recent)


@bp.get("/listings")
def browse() -> str:
    form = SearchForm(request.args)
    category_choices(form.category, _("All categories"))
    page = max(1, request.args.get("page", 1, type=int))
    near = None
    if form.validate() and form.place.data:
        try:
            found = resolve(ext("geocoder"), form.place.data)
            near = (found["lat"], found["lon"])
        except PlaceError as exc:
            form.place.errors = [str(exc)]
    query = SearchQuery(
        kind=form.kind.data or None,
        category=form.category.data or None,
        near=near,
        radius_km=float(form.radius_km.data or 50),
        page=page,
    )
    results = ext("listing_search").search(query) if not form.errors else None
    return render_template(
        "browse.html",
        form=form,
        results=results,
        markers=_map_markers(query, results),
        near=near,
        radius_km=query.radius_km,
        tiles=current_app.config[TILES_KEY],
    )


def _map_markers(query: SearchQuery, results: SearchPage | None) -> list[dict[str, Any]]:
    """The map shows every listing found (up to MAP_MARKERS), not only this page's, so that
    a town's count on the map is the town's count in the results."""
    if results is None:
        return []
    points = [MapPoint.of(hit.listing) for hit in results.hits]
    if results.total > len(points):
        points = ext("listing_search").map_points(query, MAP_MARKERS)
    # Up to 500 markers a page: each word translated and the link's pattern built once.
    kinds = {"offer": _("Offer"), "need": _("Need")}
    link = url_for("pages.listing_page", listing_id="LISTING_ID")
    return [_marker(point, kinds, link) for point in points]


def _marker(point: MapPoint, kinds: dict[str, str], link: str) -> dict[str, Any]:
    """What the map shows of a listing: where, what, and a link to it."""
    kind = kinds.get(point.kind, point.kind)
    return {
        "lat": point.lat,
        "lon": point.lon,
        "kind": point.kind,
        "label": f"{kind}: {point.title} ({point.quantity:g} {point.unit})",
        "url": link.replace("LISTING_ID", point.id),
    }


@bp.get("/my/listings")
@bp.get("/my/listings")
def my_listings() -> str | Response:
    principal = login_required()
    if isinstance(principal, Response):
        return principal
    listings = ext("listing_service").of_organisation(principal)
    projection: MatchProjection = ext("match_projection")
    matches = {listing.id: projection.current(listing.id) for listing in listings}
    awaiting = ext("exchanges").awaiting_answer(principal)
    return render_template(
        "my_listings.html", listings=listings, matches=matches, awaiting=awaiting
    )


@bp.get("/listings/<listing_id>")
def listing_page(listing_id: str) -> str:
    principal = current_principal()
    listing = ext("listing_service").get(listing_id, principal)
    owner = principal is not None and (
        principal.is_admin or principal.organisation_id == listing.organisation_id
    )
    matches = ext("match_projection").current(listing.id) if owner else []
    taxonomy: Taxonomy = ext("taxonomy")
    category = taxonomy.path_labels(listing.category, str(get_locale()))
    ask = RequestForm(formdata=None) if listing.status == "published" and not owner else None
    hints = _nearest_offers(listing) if owner and not matches else []
    return render_template(
        "listing.html",
        listing=listing,
        owner=owner,
        matches=matches,
        category=category,
        form=ask,
        logged_in=principal is not None,
        posted_by=_organisation_name(listing.organisation_id),
        hints=hints,
    )


@bp.route("/listings/new", methods=["GET", "POST"])
def new_listing() -> str | Response:
    principal = login_required()
    if isinstance(principal, Response):
        return principal
    form = ListingForm()
    category_choices(form.category, _("Choose a category"))
    if form.validate_on_submit() and (fields := _listing_fields(form)) is not None:
        listing = ext("listing_service").create(fields, principal)
        flash(
            _("Your listing is saved.")
            if listing.status == "draft"
            else _("Your listing is published; matches will appear below.")
        )
        return redirect(url_for("pages.listing_page", listing_id=listing.id))
    return render_template("listing_form.html", form=form, listing=None, usual_units=_usual_units())


@bp.route("/listings/<listing_id>/edit", methods=["GET", "POST"])
def edit_listing(listing_id: str) -> str | Response:
    principal = login_required()
    if isinstance(principal, Response):
        return principal
    service: ListingService = ext("listing_service")
    listing = service.get(listing_id, principal)
    form = ListingForm(obj=_form_values(listing))
    form.kind.data = listing.kind  # an offer stays an offer; the field is not on the page
    category_choices(form.category, _("Choose a category"))
    if form.validate_on_submit() and (fields := _listing_fields(form)) is not None:
        service.update(listing_id, fields, principal)
        flash(_("Your changes are saved."))
        return redirect(url_for("pages.listing_page", listing_id=listing_id))
    return render_template(
        "listing_form.html", form=form, listing=listing, usual_units=_usual_units()
    )


@bp.get("/listings/<listing_id>/withdraw")
def confirm_withdraw(listing_id: str) -> str | Response:
    principal = login_required()
    if isinstance(principal, Response):
        return principal
    listing = ext("listing_service").get(listing_id, principal)
    return render_template("withdraw.html", listing=listing)


@bp.post("/listings/<listing_id>/action")
def listing_action(listing_id: str) -> Response:
    principal = login_required()
    if isinstance(principal, Response):
        return principal
    action = request.form.get("action", "")
    if action not in {"publish", "reserve", "release", "close", "withdraw"}:
        flash(_("Unknown action."), "error")
    else:
        try:
            changed = ext("listing_service").act(listing_id, action, principal)
            if principal.is_admin and changed.organisation_id != principal.organisation_id:
                # Moderation of another organisation's listing: on the record.
                ext("audit").record(principal, f"listing_{action}", listing_id, changed.title)
            flash(_("Done."))
        except Conflict as exc:
            flash(str(exc), "error")
    return redirect(url_for("pages.listing_page", listing_id=listing_id))


def _nearest_offers(need: Listing) -> list[tuple[Any, list[str]]]:
    """For a published need without matches: the nearest offers of its category and what
    would make each match."""
    if need.kind != "need" or need.status != "published":
        return []
    query = SearchQuery(
        kind="offer",
        category=need.category,
        near=(need.lat, need.lon),
        radius_km=max(150.0, need.radius_km * 3),
        page_size=5,
    )
    label = lambda unit: str(UNIT_LABELS.get(unit, unit))  # noqa: E731
    hits = [
        h
        for h in ext("listing_search").search(query).hits
        if h.listing.organisation_id != need.organisation_id
    ]
    return [
        (hit, what_would_match(need, hit.listing, hit.distance_km, _, label)) for hit in hits[:3]
    ]


def _usual_units() -> dict[str, str]:
    """category id -> the unit it is usually counted in (the form proposes it)."""
    taxonomy: Taxonomy = ext("taxonomy")
    return {
        category.id: usual_unit([category.id, *taxonomy.ancestors(category.id)])
        for category in taxonomy.all()
    }


def _organisation_name(organisation_id: str) -> str:
    try:
        return str(ext("accounts").organisation(organisation_id).name)
    except NotFound:
        return ""


def _listing_fields(form: ListingForm) -> dict[str, Any] | None:
    """Use-case input from a valid form, or None after putting a place error on the form."""
    end = form.available_until.data
    fields: dict[str, Any] = {
        "kind": form.kind.data,
        "title": form.title.data,
        "description": form.description.data or "",
        "category": form.category.data,
        "quantity": float(form.quantity.data or 0),
        "unit": form.unit.data,
        "min_quantity": float(form.min_quantity.data)
        if form.min_quantity.data is not None
        else None,
        "max_price": float(form.max_price.data) if form.max_price.data is not None else None,
        "radius_km": float(form.radius_km.data or 0),
        "available_until": datetime.combine(end, time.max, tzinfo=UTC) if end else None,
        "use_by": form.use_by.data,
        "recurrence": form.recurrence.data,
        "price": {
            "mode": form.price_mode.data,
            "amount": float(form.price_amount.data) if form.price_amount.data is not None else None,
        },
        "place": form.place.data,
        "location": None,
        "draft": form.draft.data,
    }
    try:
        return locate(fields, ext("geocoder"))
    except PlaceError as exc:
        form.place.errors = [str(exc)]
        return None


def _form_values(listing: Listing) -> SimpleNamespace:
    """The listing as the form reads it (the form asks for a day, not a moment)."""
    end = listing.available_until
    return SimpleNamespace(**{**asdict(listing), "available_until": end.date() if end else None})
