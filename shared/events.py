"""The event contract: a CloudEvents 1.0 envelope around one typed dataclass of data.

Events travel in CloudEvents' structured JSON mode. Producers build typed contract
dataclasses, so encoding writes them out without validating them again (`validate_event`
does, for tests); every consumer validates what it reads, so a bad producer cannot poison
its state: it dead-letters what fails validation and carries on. Decoding never raises
anything but `EventValidationError` (a dead letter) or `NewerSchemaVersion` (this code is
too old for the message: the consumer stops there, it must not skip or dead-letter it).
Both directions take the fast paths of shared/event_codec.py, equal to the schemas.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import orjson
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from shared.contracts import EventData
from shared.event_codec import dumper, loader
from shared.event_schemas import EVENT_SCHEMAS, Contract

SPEC_VERSION = "1.0"
#: Far above any real event (a listing is ~1 KB): a bigger message is refused unread.
MAX_EVENT_BYTES = 256 * 1024


class EventValidationError(ValueError):
    """An event that does not match its contract; `errors` says which field and why."""

    def __init__(self, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{message}: {errors}" if errors else message)
        self.errors = errors or {}


class NewerSchemaVersion(Exception):
    """The message is of a schema version newer than this code knows: upgrade the consumer."""


def new_event_id() -> str:
    """A random (version 4) UUID from a generator seeded by the kernel.

    `uuid.uuid4()` asks the kernel for every id, ~10 µs here, and a matcher names tens of
    thousands of events a second; ids must be unique (readers drop a repeated id), not
    secret. The generator is this module's own, so nothing that seeds `random` (a test
    framework, a library) can make ids repeat, and it is seeded afresh in a forked child.
    """
    bits = _IDS.getrandbits(128) & _UUID_FIXED_BITS | _UUID_V4
    digits = f"{bits:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


# The version nibble (4) and the RFC 4122 variant bits (10) of a random UUID.
_UUID_FIXED_BITS = ~(0xF000 << 64) & ~(0xC000 << 48)
_UUID_V4 = (0x4000 << 64) | (0x8000 << 48)
_IDS = random.Random()  # seeded from os.urandom
os.register_at_fork(after_in_child=_IDS.seed)


@dataclass(frozen=True)
class Event:
    """One event: the envelope's attributes and its typed data."""

    type: str
    source: str
    subject: str
    data: EventData
    id: str = field(default_factory=new_event_id)
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


def _contract(event_type: str) -> Contract:
    known = EVENT_SCHEMAS.get(event_type)
    if known is None:
        raise EventValidationError("unknown event type", {"type": [event_type]})
    return known


_DUMP = {id(c.schema): dumper(c.schema) for c in EVENT_SCHEMAS.values()}
_LOAD = {id(c.schema): loader(c.schema) for c in EVENT_SCHEMAS.values()}
_LOAD_ENVELOPE = loader(_ENVELOPE)


def encode_event(event: Event) -> bytes:
    """Serialise `event` as structured CloudEvents JSON (its data is typed: not re-validated)."""
    contract = _contract(event.type)
    if not isinstance(event.data, contract.made_of):
        raise EventValidationError(
            f"{event.type} carries {contract.made_of.__name__}, not {type(event.data).__name__}"
        )
    try:
        envelope = _envelope(event, contract, _DUMP[id(contract.schema)](event.data))
        encoded = orjson.dumps(envelope)
    except (TypeError, ValueError, AttributeError) as exc:
        raise EventValidationError(f"unwritable {event.type} data: {exc}") from exc
    if len(encoded) > MAX_EVENT_BYTES:
        # Every consumer would refuse it: refuse it here, where the caller can say why.
        raise EventValidationError(f"event of {len(encoded)} bytes exceeds {MAX_EVENT_BYTES}")
    return encoded


def validate_event(event: Event) -> None:
    """Check `event` against its contract as a consumer will: EventValidationError if not."""
    contract = _contract(event.type)
    if not isinstance(event.data, contract.made_of):
        raise EventValidationError(
            f"{event.type} carries {contract.made_of.__name__}, not {type(event.data).__name__}"
        )
    try:
        data = contract.schema.dump(event.data)
    except (TypeError, ValueError, AttributeError) as exc:
        raise EventValidationError(f"invalid {event.type} data: {exc}") from exc
    errors = contract.schema.validate(data)
    if errors:
        raise EventValidationError(f"invalid {event.type} data", errors)
    envelope_errors = _ENVELOPE.validate(_envelope(event, contract, data))
    if envelope_errors:
        raise EventValidationError("invalid envelope", envelope_errors)


def _envelope(event: Event, contract: Contract, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": SPEC_VERSION,
        "id": event.id,
        "source": event.source,
        "type": event.type,
        "subject": event.subject,
        "time": event.time.isoformat(),
        "datacontenttype": "application/json",
        "schemaversion": contract.version,
        "data": data,
    }


def decode_event(raw: bytes | None) -> Event:
    """Parse, upcast and validate one message value into an Event with typed data.

    Raises EventValidationError with the reason for anything that is not a valid event,
    whatever is wrong with it (size, nesting, encoding, types), and NewerSchemaVersion.
    """
    if raw is None:
        raise EventValidationError("empty message (tombstone) where an event was expected")
    if len(raw) > MAX_EVENT_BYTES:
        raise EventValidationError(f"message of {len(raw)} bytes exceeds {MAX_EVENT_BYTES}")
    try:
        return _decode_canonical(raw)
    except Exception:  # anything unusual is for marshmallow to judge, below
        pass
    try:
        return _decode(raw)
    except (EventValidationError, NewerSchemaVersion):
        raise
    except RecursionError as exc:
        raise EventValidationError("nested too deeply to be an event") from exc
    except Exception as exc:
        # Whatever else a hostile or broken payload provokes is still just a bad message.
        raise EventValidationError(f"unreadable event: {type(exc).__name__}: {exc}") from exc


def _decode_canonical(raw: bytes) -> Event:
    # The fast path: what it returns, marshmallow would too; it raises on anything else.
    envelope = _LOAD_ENVELOPE(orjson.loads(raw))
    contract, version = EVENT_SCHEMAS[envelope["type"]], envelope["schemaversion"]
    if version != contract.version:
        raise ValueError("an older or newer schema version: upcast or stop on the slow path")
    return Event(
        type=envelope["type"],
        source=envelope["source"],
        subject=envelope["subject"],
        data=_LOAD[id(contract.schema)](envelope["data"]),
        id=envelope["id"],
        time=envelope["time"],
        schemaversion=version,
    )


def _decode(raw: bytes) -> Event:
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EventValidationError(f"not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise EventValidationError("not a JSON object")
    try:
        envelope = _ENVELOPE.load(document)
    except ValidationError as exc:
        raise EventValidationError("invalid envelope", exc.normalized_messages()) from exc
    contract, version = _contract(envelope["type"]), envelope["schemaversion"]
    if version > contract.version:
        raise NewerSchemaVersion(
            f"{envelope['type']} schema version {version} is newer than {contract.version}, "
            "the newest this consumer reads: deploy the newer consumer"
        )
    try:
        data = contract.schema.load(contract.upcast(envelope["data"], version))
    except ValidationError as exc:
        raise EventValidationError("invalid event", exc.normalized_messages()) from exc
    return Event(
        type=envelope["type"],
        source=envelope["source"],
        subject=envelope["subject"],
        data=data,
        id=envelope["id"],
        time=envelope["time"],
        schemaversion=version,
    )


def typed_data(event_type: str, data: Mapping[str, Any]) -> EventData:
    """The typed data of `event_type` from a wire-shaped mapping of its current version.

    For fixtures, benchmarks and replays that hold an event's data as JSON-like values;
    Python dates and datetimes are accepted where the wire has ISO strings.
    """
    contract = _contract(event_type)
    try:
        wire = json.loads(json.dumps(data, default=_iso))
        loaded: EventData = contract.schema.load(wire)
    except ValidationError as exc:
        raise EventValidationError(f"invalid {event_type} data", exc.normalized_messages()) from exc
    except (TypeError, ValueError) as exc:
        raise EventValidationError(f"invalid {event_type} data: {exc}") from exc
    return loaded


def _iso(value: object) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")
