"""REST API for organisations, their API tokens, and the category tree."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from flask import current_app
from flask.views import MethodView

from listings import api_examples as ex
from listings import api_schemas as s
from listings.accounts import AccountService
from listings.auth import require_principal
from listings.http_errors import field_error
from listings.limits import (
    REGISTRATIONS_PER_ADDRESS,
    TOKENS_PER_ORGANISATION,
    calling_organisation,
    limiter,
)
from listings.membership import Membership
from listings.places import PlaceError, resolve
from shared.openapi import ApiBlueprint
from shared.taxonomy import Taxonomy

blp = ApiBlueprint("accounts_api", __name__, url_prefix="/api/v1", description="Organisations")


def _accounts() -> AccountService:
    return current_app.extensions["boucle.accounts"]


@blp.route("/organisations")
class Organisations(MethodView):
    decorators: ClassVar[list[Callable[..., Any]]] = [
        limiter.limit(REGISTRATIONS_PER_ADDRESS, methods=["POST"])
    ]

    @blp.public(409, 429)
    @blp.arguments(s.RegistrationIn, example=ex.REGISTRATION_IN)
    @blp.response(201, s.RegistrationOut, example=ex.REGISTRATION_OUT)
    def post(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Register an organisation and its first member; answers with an API token, once."""
        try:
            payload["location"] = resolve(
                current_app.extensions["boucle.geocoder"],
                f"{payload['place']}, {payload['country']}",
            )
        except PlaceError as exc:
            raise field_error("place", str(exc)) from exc
        registration = _accounts().register(payload)
        membership: Membership = current_app.extensions["boucle.membership"]
        membership.request_confirmations(registration.organisation.id, registration.member.id)
        return {
            "organisation": registration.organisation,
            "member_id": registration.member.id,
            "api_token": registration.api_token,
        }


@blp.route("/organisations/me")
class MyOrganisation(MethodView):
    @blp.token()
    @blp.response(200, s.OrganisationOut, example=ex.ORGANISATION_OUT)
    def get(self) -> Any:
        """The caller's organisation."""
        return _accounts().organisation(require_principal().organisation_id)


@blp.route("/organisations/me/tokens")
class Tokens(MethodView):
    decorators: ClassVar[list[Callable[..., Any]]] = [
        limiter.limit(TOKENS_PER_ORGANISATION, key_func=calling_organisation, methods=["POST"])
    ]

    @blp.token()
    @blp.response(200, s.TokenOut(many=True), example=[{**ex.TOKEN_OUT, "token": None}])
    def get(self) -> Any:
        """The organisation's API tokens (never their values)."""
        return _accounts().tokens(require_principal().organisation_id)

    @blp.token(429)
    @blp.arguments(s.TokenIn, example=ex.TOKEN_IN)
    @blp.response(201, s.TokenOut, example=ex.TOKEN_OUT)
    def post(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Create a token; its value is in this answer only."""
        caller = require_principal()
        row, token = _accounts().create_token(
            caller.organisation_id, payload["name"], caller.user_id
        )
        return {"id": row.id, "name": row.name, "created_at": row.created_at, "token": token}


@blp.route("/organisations/me/tokens/<token_id>")
class TokenById(MethodView):
    @blp.token(404)
    @blp.response(204)
    def delete(self, token_id: str) -> None:
        """Revoke a token at once."""
        _accounts().revoke_token(require_principal().organisation_id, token_id)


@blp.route("/categories")
class Categories(MethodView):
    @blp.public()
    @blp.arguments(s.CategoriesQuery, location="query")
    @blp.alt_response(
        200, schema=s.CategoryTreeOut, example=ex.CATEGORIES_OUT, description="OK", success=True
    )
    def get(self, query: dict[str, Any]) -> Any:
        """The category tree (EU List of Waste materials, reusable goods, local produce)."""
        taxonomy: Taxonomy = current_app.extensions["boucle.taxonomy"]
        lang = query["lang"]

        def node(category_id: str) -> dict[str, Any]:
            category = taxonomy.get(category_id)
            return {
                "id": category.id,
                "label": taxonomy.label(category.id, lang),
                "labels": dict(category.labels),
                "ewc": category.ewc,
                "children": [node(child) for child in taxonomy.children(category.id)],
            }

        return {"roots": [node(root) for root in taxonomy.roots]}
