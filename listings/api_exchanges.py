"""REST API of exchanges under /api/v1: ask for a listing, answer, talk, hand over."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView

from listings import api_examples as ex
from listings import exchange_schemas as s
from listings.auth import require_principal
from listings.exchange_service import ExchangeService, ExchangeView
from shared.openapi import ApiBlueprint

blp = ApiBlueprint(
    "exchanges_api", __name__, url_prefix="/api/v1", description="Exchanges between members"
)


def _service() -> ExchangeService:
    return current_app.extensions["boucle.exchanges"]


@blp.route("/listings/<listing_id>/exchanges")
class ListingExchanges(MethodView):
    @blp.token(403, 404, 409)
    @blp.arguments(s.RequestIn, example=ex.REQUEST_IN)
    @blp.response(201, s.ExchangeOut, example=ex.EXCHANGE_OUT)
    def post(self, payload: dict[str, Any], listing_id: str) -> ExchangeView:
        """Ask for part or all of a published listing, within a window, with a message."""
        return _service().request(listing_id, payload, require_principal())


@blp.route("/exchanges")
class Exchanges(MethodView):
    @blp.token()
    @blp.response(200, s.ExchangeOut(many=True), example=[ex.EXCHANGE_OUT])
    def get(self) -> list[ExchangeView]:
        """Your organisation's exchanges, as owner or requester, latest change first."""
        return _service().of_organisation(require_principal())


@blp.route("/exchanges/<exchange_id>")
class ExchangeById(MethodView):
    @blp.token(404)
    @blp.response(200, s.ExchangeOut, example=ex.EXCHANGE_OUT)
    def get(self, exchange_id: str) -> ExchangeView:
        """One exchange with its messages; contacts are shown once it is accepted."""
        return _service().get(exchange_id, require_principal())

    @blp.token(403, 404, 409)
    @blp.response(200, s.ExchangeOut, example={**ex.EXCHANGE_OUT, "status": "cancelled"})
    def delete(self, exchange_id: str) -> ExchangeView:
        """Cancel an exchange (an accepted quantity goes back to the listing)."""
        return _service().cancel(exchange_id, require_principal())


@blp.route("/exchanges/<exchange_id>/answer")
class ExchangeAnswer(MethodView):
    @blp.token(403, 404, 409)
    @blp.arguments(s.AnswerIn, example=ex.ANSWER_IN)
    @blp.response(200, s.ExchangeOut, example=ex.EXCHANGE_OUT)
    def post(self, payload: dict[str, Any], exchange_id: str) -> ExchangeView:
        """Accept or decline the terms awaiting your answer."""
        return _service().answer(exchange_id, payload["action"], require_principal())


@blp.route("/exchanges/<exchange_id>/counter")
class ExchangeCounter(MethodView):
    @blp.token(403, 404, 409)
    @blp.arguments(s.TermsIn, example=ex.TERMS_IN)
    @blp.response(200, s.ExchangeOut, example=ex.EXCHANGE_OUT)
    def post(self, payload: dict[str, Any], exchange_id: str) -> ExchangeView:
        """Propose other terms instead; the other side answers next."""
        return _service().answer(exchange_id, "counter", require_principal(), payload)


@blp.route("/exchanges/<exchange_id>/messages")
class ExchangeMessages(MethodView):
    @blp.token(403, 404, 409)
    @blp.arguments(s.MessageIn, example=ex.MESSAGE_IN)
    @blp.response(201, s.ExchangeOut, example=ex.EXCHANGE_OUT)
    def post(self, payload: dict[str, Any], exchange_id: str) -> ExchangeView:
        """Write to the other side of the exchange."""
        return _service().post_message(exchange_id, payload["text"], require_principal())


@blp.route("/exchanges/<exchange_id>/handover")
class ExchangeHandOver(MethodView):
    @blp.token(403, 404, 409)
    @blp.arguments(s.HandOverIn, example=ex.HANDOVER_IN)
    @blp.response(200, s.ExchangeOut, example=ex.EXCHANGE_OUT)
    def post(self, payload: dict[str, Any], exchange_id: str) -> ExchangeView:
        """Confirm what changed hands; the exchange completes when both sides have."""
        return _service().hand_over(
            exchange_id, payload["quantity"], payload["reference"], require_principal()
        )


@blp.route("/exchanges/<exchange_id>/problem")
class ExchangeProblem(MethodView):
    @blp.token(403, 404, 409)
    @blp.arguments(s.ProblemIn, example=ex.PROBLEM_IN)
    @blp.response(200, s.ExchangeOut, example=ex.EXCHANGE_OUT)
    def post(self, payload: dict[str, Any], exchange_id: str) -> ExchangeView:
        """Report a no-show or another problem (the admins see it)."""
        return _service().report_problem(exchange_id, payload["text"], require_principal())


@blp.route("/exchanges/<exchange_id>/stop-repeating")
class ExchangeStopRepeating(MethodView):
    @blp.token(403, 404, 409)
    @blp.response(200, s.ExchangeOut, example=ex.EXCHANGE_OUT)
    def post(self, exchange_id: str) -> ExchangeView:
        """End a standing order: the current occurrence is the last one."""
        return _service().stop_repeating(exchange_id, require_principal())
