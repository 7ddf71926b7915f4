"""API schemas of exchanges (marshmallow at the edge)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from listings.api_schemas import Text


class TermsIn(Schema):
    quantity = fields.Float(
        required=True, validate=validate.Range(min=0, min_inclusive=False, max=1e9)
    )
    window_from = fields.AwareDateTime(load_default=None, allow_none=True)
    window_until = fields.AwareDateTime(load_default=None, allow_none=True)

    @validates_schema
    def _window(self, data: dict[str, Any], **_kwargs: Any) -> None:
        start, end = data.get("window_from"), data.get("window_until")
        if start and end and end < start:
            raise ValidationError("the window ends before it starts", "window_until")


class RequestIn(TermsIn):
    message = Text(load_default="", validate=validate.Length(max=5000))


class AnswerIn(Schema):
    action = fields.String(required=True, validate=validate.OneOf(("accept", "decline")))


class MessageIn(Schema):
    text = Text(required=True, validate=validate.Length(min=1, max=5000))


class HandOverIn(Schema):
    quantity = fields.Float(
        required=True, validate=validate.Range(min=0, min_inclusive=False, max=1e9)
    )
    reference = Text(load_default="", validate=validate.Length(max=200))


class ProblemIn(Schema):
    text = Text(required=True, validate=validate.Length(min=1, max=2000))


class PartyOut(Schema):
    id = fields.String()
    name = fields.String()
    contact_email = fields.String(
        allow_none=True, metadata={"description": "shown to both once the exchange is accepted"}
    )
    contact_phone = fields.String(
        allow_none=True, metadata={"description": "shown to both once accepted, if given"}
    )


class MessageOut(Schema):
    author_id = fields.String()
    author = fields.String()
    text = fields.String()
    created_at = fields.AwareDateTime()


class ExchangeOut(Schema):
    id = fields.Function(lambda v: v.exchange.id)
    listing_id = fields.Function(lambda v: v.exchange.listing_id)
    listing_title = fields.String()
    listing_kind = fields.String()
    owner = fields.Nested(PartyOut)
    requester = fields.Nested(PartyOut)
    quantity = fields.Function(lambda v: v.exchange.terms.quantity)
    unit = fields.Function(lambda v: v.exchange.unit)
    window_from = fields.Function(lambda v: _iso(v.exchange.terms.window_from))
    window_until = fields.Function(lambda v: _iso(v.exchange.terms.window_until))
    status = fields.Function(lambda v: v.exchange.status)
    awaiting = fields.Function(
        lambda v: v.exchange.awaiting, metadata={"description": "whose answer is awaited"}
    )
    expires_at = fields.Function(lambda v: _iso(v.exchange.expires_at))
    owner_handed_over = fields.Function(lambda v: v.exchange.owner_handed_over)
    requester_handed_over = fields.Function(lambda v: v.exchange.requester_handed_over)
    reference = fields.Function(lambda v: v.exchange.reference)
    problem = fields.Function(lambda v: v.exchange.problem)
    version = fields.Function(lambda v: v.exchange.version)
    created_at = fields.Function(lambda v: _iso(v.exchange.created_at))
    updated_at = fields.Function(lambda v: _iso(v.exchange.updated_at))
    messages = fields.List(fields.Nested(MessageOut))
    repeats = fields.Function(
        lambda v: v.exchange.repeats,
        metadata={"description": "weekly or monthly: a standing order; one-off: it ends"},
    )
    series_id = fields.Function(lambda v: v.exchange.series_id)
    occurrence = fields.Function(lambda v: v.exchange.occurrence)


def _iso(moment: Any) -> str | None:
    return None if moment is None else moment.isoformat()
