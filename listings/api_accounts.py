"""REST API for organisations, their API tokens, and the category tree."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from flask import current_app, request
from flask.views import MethodView

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
from listings.places import PlaceError, resolve
from shared.i18n import SUPPORTED_LANGUAGES
from shared.taxonomy import Taxonomy
from shared.web import Blueprint

blp = Blueprint("accounts_api", __name__, url_prefix="/api/v1", description="Organisations")


def _accounts() -> AccountService:
    return current_app.extensions["boucle.accounts"]


@blp.route("/organisations")
class Organisations(MethodView):
    decorators: ClassVar[list[Callable[..., Any]]] = [
        limiter.limit(REGISTRATIONS_PER_ADDRESS, methods=["POST"])
    ]

    @blp.arguments(s.RegistrationIn)
    @blp.response(201, s.RegistrationOut)
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
        return {
            "organisation": registration.organisation,
            "member_id": registration.member.id,
            "api_token": registration.api_token,
        }


@blp.route("/organisations/me")
class MyOrganisation(MethodView):
    @blp.response(200, s.OrganisationOut)
    def get(self) -> Any:
        """The caller's organisation."""
        return _accounts().organisation(require_principal().organisation_id)


@blp.route("/organisations/me/tokens")
class Tokens(MethodView):
    decorators: ClassVar[list[Callable[..., Any]]] = [
        limiter.limit(TOKENS_PER_ORGANISATION, key_func=calling_organisation, methods=["POST"])
    ]

    @blp.response(200, s.TokenOut(many=True))
    def get(self) -> Any:
        """The organisation's API tokens (never their values)."""
        return _accounts().tokens(require_principal().organisation_id)

    @blp.arguments(s.TokenIn)
    @blp.response(201, s.TokenOut)
    def post(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Create a token; its value is in this answer only."""
        row, token = _accounts().create_token(require_principal().organisation_id, payload["name"])
        return {"id": row.id, "name": row.name, "created_at": row.created_at, "token": token}


@blp.route("/organisations/me/tokens/<token_id>")
class TokenById(MethodView):
    @blp.response(204)
    def delete(self, token_id: str) -> None:
        """Revoke a token at once."""
        _accounts().revoke_token(require_principal().organisation_id, token_id)


@blp.route("/categories")
class Categories(MethodView):
    def get(self) -> Any:
        """The category tree (EU List of Waste materials, reusable goods, local produce)."""
        taxonomy: Taxonomy = current_app.extensions["boucle.taxonomy"]
        asked = request.args.get("lang", "en")
        lang = asked if asked in SUPPORTED_LANGUAGES else "en"

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
