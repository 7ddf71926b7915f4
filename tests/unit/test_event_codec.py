"""The fast encoder and decoder cannot drift from the marshmallow schemas.

For every event type, hypothesis draws valid data from the type's own schema (its field
types and validators): the typed dataclass, encoded without validation, decodes through
full marshmallow validation to an equal dataclass, and the fast decoder gives the same.
A mangled message is either refused by both or, when the fast path accepts it, accepted
by marshmallow with the same result.
"""

from __future__ import annotations

import json
from datetime import UTC, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, fields, validate

import shared.events
from shared.event_codec import dumper
from shared.event_schemas import EVENT_SCHEMAS
from shared.events import Event, EventValidationError, decode_event, encode_event

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
JSON_INT = st.integers(-(2**53), 2**53)
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))])
#: one event type per contract (the six listing types share one schema, and so on)
TYPES = sorted({type(c.schema): t for t, c in EVENT_SCHEMAS.items()}.values())


def wire_of(schema: Schema) -> st.SearchStrategy[dict[str, Any]]:
    """Valid wire data of `schema`: what a consumer must accept."""
    required, optional = {}, {}
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        value = _value(field)
        if field.allow_none:
            value = st.none() | value
        (required if field.required else optional)[key] = value
    return st.fixed_dictionaries(required, optional=optional)


def _value(field: fields.Field) -> st.SearchStrategy[Any]:
    checks = {type(v): v for v in field.validators}
    one_of = checks.get(validate.OneOf)
    if one_of is not None:
        return st.sampled_from(list(one_of.choices))
    equal = checks.get(validate.Equal)
    if equal is not None:
        return st.just(equal.comparable)
    if isinstance(field, fields.Nested):
        return wire_of(field.schema)
    if isinstance(field, fields.List):
        return st.lists(_value(field.inner), max_size=3)
    if isinstance(field, fields.AwareDateTime):
        return st.datetimes(timezones=ZONES).map(lambda moment: moment.isoformat())
    if isinstance(field, fields.Date):
        return st.dates().map(lambda day: day.isoformat())
    bounds = checks.get(validate.Range)
    low = bounds.min if bounds else None
    high = bounds.max if bounds else None
    if isinstance(field, fields.Float):
        return st.floats(
            low,
            high,
            allow_nan=False,
            allow_infinity=False,
            exclude_min=bool(bounds and not bounds.min_inclusive),
        )
    if isinstance(field, fields.Integer):
        return JSON_INT.filter(lambda n: (low is None or n >= low) and (high is None or n <= high))
    if isinstance(field, fields.Boolean):
        return st.booleans()
    if isinstance(field, fields.Email):
        return st.emails()
    if isinstance(field, fields.Url):
        paths = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=40)
        hosts = st.sampled_from(["https://boucle.example", "http://127.0.0.1:8000"])
        return st.builds(lambda host, path: f"{host}/account/confirm/{path}", hosts, paths)
    if isinstance(field, fields.String):
        length = checks.get(validate.Length)
        if length is not None and length.equal is not None:
            return st.text("ABCDEFGHIJ", min_size=length.equal, max_size=length.equal)
        if length is not None:
            shortest = length.min or 0
            return TEXT.filter(lambda s: len(s) >= shortest) | st.just("x" * shortest)
        return TEXT
    raise AssertionError(f"no strategy for {type(field).__name__}")


def valid_event(draw: st.DrawFn, event_type: str) -> Event:
    schema = EVENT_SCHEMAS[event_type].schema
    wire = draw(wire_of(schema))
    errors = schema.validate(wire)
    assume(not errors)  # e.g. an address hypothesis finds valid and marshmallow does not
    return Event(event_type, "/test", draw(TEXT.filter(bool)), schema.load(wire))


@pytest.mark.parametrize("event_type", TYPES)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_what_the_fast_encoder_writes_decodes_through_full_validation_to_the_same_data(
    event_type: str, data: st.DataObject
) -> None:
    event = valid_event(data.draw, event_type)
    contract = EVENT_SCHEMAS[event_type]
    encoded = encode_event(event)
    validated = shared.events._decode(encoded)  # marshmallow, every validator
    assert validated.data == event.data
    assert (validated.id, validated.time, validated.subject) == (
        event.id,
        event.time,
        event.subject,
    )
    assert shared.events._decode_canonical(encoded) == validated
    # The wire is the one marshmallow writes: same fields, same order, same values.
    marshmallow_dump = contract.schema.dump(event.data)
    fast_dump = dumper(contract.schema)(event.data)
    assert list(fast_dump) == list(marshmallow_dump)
    assert json.loads(json.dumps(fast_dump)) == json.loads(json.dumps(marshmallow_dump))


MANGLED = (
    st.none()
    | st.booleans()
    | JSON_INT
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
    | st.sampled_from(["1.5", "12", "2026-13-01T00:00:00", "2026-12-01T10:00:00", "true"])
    | st.lists(JSON_INT, max_size=2)
    | st.dictionaries(TEXT, JSON_INT, max_size=2)
)


@pytest.mark.parametrize("event_type", TYPES)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_fast_decoder_accepts_nothing_that_full_validation_refuses(
    event_type: str, data: st.DataObject
) -> None:
    event = valid_event(data.draw, event_type)
    envelope = json.loads(encode_event(event))
    # Replace one field anywhere in the message (or drop it) with any JSON value.
    target, path = envelope, []
    while True:
        key = data.draw(st.sampled_from(sorted(target)))
        path.append(key)
        if not isinstance(target[key], dict) or data.draw(st.booleans()):
            break
        target = target[key]
    if data.draw(st.booleans()):
        del target[key]
    else:
        target[key] = data.draw(MANGLED)
    raw = json.dumps(envelope).encode()
    try:
        full: Event | None = shared.events._decode(raw)
    except (EventValidationError, shared.events.NewerSchemaVersion):
        full = None
    try:
        fast: Event | None = shared.events._decode_canonical(raw)
    except Exception:
        fast = None
    if fast is not None:
        assert full == fast, path
    # And the public decoder answers as marshmallow does, whichever path it took.
    try:
        assert decode_event(raw) == full
    except (EventValidationError, shared.events.NewerSchemaVersion):
        assert full is None
