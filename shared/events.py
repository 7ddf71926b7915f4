"""The event contract: a CloudEvents 1.0 envelope and one marshmallow schema per event type.

Events travel in CloudEvents' structured JSON mode. Every event is validated when it is
produced and again when it is consumed, so a bad producer cannot poison a consumer's state:
the consumer dead-letters what fails validation and carries on.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from shared.event_schemas import EVENT_SCHEMAS

SPEC_VERSION = "1.0"


class EventValidationError(ValueError):
    """An event that does not match its contract; `errors` says which field and why."""

    def __init__(self, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{message}: {errors}" if errors else message)
        self.errors = errors or {}


@dataclass(frozen=True)
class Event:
    """One event: the envelope's attributes and its data."""

    type: str
    source: str
    subject: str
    data: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    schemaversion: int = 1


class EnvelopeSchema(Schema):
    """CloudEvents 1.0 required attributes plus `subject`, `time` and our `schemaversion`."""

    class Meta:
        unknown = EXCLUDE

    specversion = fields.String(required=True, validate=validate.Equal(SPEC_VERSION))
    id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    source = fields.String(required=True, validate=validate.Length(min=1, max=200))
    type = fields.String(required=True, validate=validate.OneOf(sorted(EVENT_SCHEMAS)))
    subject = fields.String(required=True, validate=validate.Length(min=1, max=200))
    time = fields.AwareDateTime(required=True)
    datacontenttype = fields.String(load_default="application/json")
    schemaversion = fields.Integer(required=True, validate=validate.Range(min=1))
    data = fields.Dict(required=True)


_ENVELOPE = EnvelopeSchema()


def _data_schema(event_type: str, version: int) -> Schema:
    known = EVENT_SCHEMAS.get(event_type)
    if known is None:
        raise EventValidationError("unknown event type", {"type": [event_type]})
    supported_version, schema = known
    if version > supported_version:
        raise EventValidationError(
            "unsupported schema version",
            {"schemaversion": [f"{version} is newer than {supported_version}"]},
        )
    return schema


def encode_event(event: Event) -> bytes:
    """Validate `event` against its contract and serialise it as structured CloudEvents JSON."""
    schema = _data_schema(event.type, event.schemaversion)
    data = schema.dump(event.data)
    errors = schema.validate(data)
    if errors:
        raise EventValidationError(f"invalid {event.type} data", errors)
    envelope = {
        "specversion": SPEC_VERSION,
        "id": event.id,
        "source": event.source,
        "type": event.type,
        "subject": event.subject,
        "time": event.time.isoformat(),
        "datacontenttype": "application/json",
        "schemaversion": event.schemaversion,
        "data": data,
    }
    envelope_errors = _ENVELOPE.validate(envelope)
    if envelope_errors:
        raise EventValidationError("invalid envelope", envelope_errors)
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode_event(raw: bytes | None) -> Event:
    """Parse and validate one message value; raise EventValidationError with the reason."""
    if raw is None:
        raise EventValidationError("empty message (tombstone) where an event was expected")
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EventValidationError(f"not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise EventValidationError("not a JSON object")
    try:
        envelope = _ENVELOPE.load(document)
        schema = _data_schema(envelope["type"], envelope["schemaversion"])
        data = schema.load(envelope["data"])
    except ValidationError as exc:
        raise EventValidationError("invalid event", exc.normalized_messages()) from exc
    return Event(
        type=envelope["type"],
        source=envelope["source"],
        subject=envelope["subject"],
        data=data,
        id=envelope["id"],
        time=envelope["time"],
        schemaversion=envelope["schemaversion"],
    )
