"""REST API of listings under /api/v1: CRUD, actions, search and each listing's matches."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView

from listings import api_examples as ex
from listings import api_schemas as s
from listings.auth import current_principal, require_principal
from listings.domain import Listing
from listings.errors import NotFound as ListingNotFound
from listings.http_errors import field_error
from listings.match_projection import CurrentMatch, MatchProjection
from listings.places import PlaceError, locate, resolve
from listings.search import ListingSearch, SearchPage, SearchQuery
from listings.service import ListingService
from shared.openapi import ApiBlueprint

blp = ApiBlueprint("listings_api", __name__, url_prefix="/api/v1", description="Offers and needs")


def _service() -> ListingService:
    return current_app.extensions["boucle.listing_service"]


def _located(payload: dict[str, Any]) -> dict[str, Any]:
    try:
        return locate(payload, current_app.extensions["boucle.geocoder"])
    except PlaceError as exc:
        raise field_error("place", str(exc)) from exc


@blp.route("/listings")
class Listings(MethodView):
    @blp.token()
    @blp.arguments(s.ListingIn, example=ex.LISTING_IN)
    @blp.response(201, s.ListingOut, example=ex.LISTING_OUT)
    def post(self, payload: dict[str, Any]) -> Listing:
        """Post an offer or a need; it is published at once unless saved as a draft."""
        return _service().create(_located(payload), require_principal())

    @blp.public()
    @blp.arguments(s.SearchArgs, location="query")
    @blp.response(200, s.SearchPageOut, example=ex.SEARCH_OUT)
    def get(self, args: dict[str, Any]) -> SearchPage:
        """Search published listings by kind, category (and its sub-categories) and place."""
        near = None
        if "near" in args:
            lat, lon = (float(part) for part in args["near"].split(","))
            near = (lat, lon)
        elif "place" in args:
            try:
                found = resolve(current_app.extensions["boucle.geocoder"], args["place"])
            except PlaceError as exc:
                raise field_error("place", str(exc)) from exc
            near = (found["lat"], found["lon"])
        search: ListingSearch = current_app.extensions["boucle.listing_search"]
        query = SearchQuery(
            kind=args.get("kind"),
            category=args.get("category"),
            near=near,
            radius_km=args["radius_km"],
            text=args.get("q"),
            page=args["page"],
            page_size=args["page_size"],
        )
        return search.search(query)


@blp.route("/listings/<listing_id>")
class ListingById(MethodView):
    @blp.token_optional(404)
    @blp.response(200, s.ListingOut, example=ex.LISTING_OUT)
    def get(self, listing_id: str) -> Listing:
        """One listing (drafts and closed ones only for their organisation)."""
        return _service().get(listing_id, current_principal())

    @blp.token(403, 404, 409)
    @blp.arguments(s.ListingPatchIn(partial=True), example=ex.LISTING_PATCH)
    @blp.response(200, s.ListingOut, example=ex.LISTING_OUT)
    def patch(self, payload: dict[str, Any], listing_id: str) -> Listing:
        """Change a listing of your organisation."""
        payload.pop("draft", None)
        return _service().update(listing_id, _located(payload), require_principal())

    @blp.token(403, 404, 409)
    @blp.response(200, s.ListingOut, example={**ex.LISTING_OUT, "status": "withdrawn"})
    def delete(self, listing_id: str) -> Listing:
        """Withdraw a listing of your organisation (it stays visible to you)."""
        return _service().act(listing_id, "withdraw", require_principal())


@blp.route("/listings/<listing_id>/actions")
class ListingActions(MethodView):
    @blp.token(403, 404, 409)
    @blp.arguments(s.ActionIn, example=ex.ACTION)
    @blp.response(200, s.ListingOut, example={**ex.LISTING_OUT, "status": "reserved"})
    def post(self, payload: dict[str, Any], listing_id: str) -> Listing:
        """Publish a draft, reserve, release, close or withdraw a listing."""
        return _service().act(listing_id, payload["action"], require_principal())


@blp.route("/listings/<listing_id>/matches")
class ListingMatches(MethodView):
    @blp.token(404)
    @blp.response(200, s.MatchOut(many=True), example=ex.MATCHES_OUT)
    def get(self, listing_id: str) -> list[CurrentMatch]:
        """The listing's current matches, best first, with their reasons (owner only)."""
        principal = require_principal()
        listing = _service().get(listing_id, principal)
        if listing.organisation_id != principal.organisation_id and not principal.is_admin:
            raise ListingNotFound(listing_id)
        projection: MatchProjection = current_app.extensions["boucle.match_projection"]
        return projection.current(listing_id)
