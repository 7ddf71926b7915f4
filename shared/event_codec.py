"""Fast paths of the event contract, derived from the marshmallow schemas at import.

Encoding: a contract dataclass is typed already (and checked by mypy), so `dumper`
turns it into the wire's JSON values field by field, exactly as `Schema.dump` would,
without validating it again: a matcher publishes tens of thousands of events a second,
and marshmallow's dump and validate cost ~0.2 ms each. Consumers still validate all.

Decoding: `loader` reads the wire the way `Schema.load` does when the message is in the
canonical form our producers write (JSON types as declared, ISO dates, every validator
of the field passing) and raises `Unusual` for anything else, whatever it is; the caller
then hands the message to marshmallow, which accepts or refuses it with its reasons. So
what the fast path accepts is a subset of what marshmallow accepts, with the same result
(tests/unit/test_event_codec.py holds both to it), and a consumer still refuses exactly
what it refused before.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from marshmallow import Schema, fields, missing

Convert = Callable[[Any], Any]


class Unusual(Exception):
    """The message is not in the canonical form: let marshmallow judge it."""


# ---------------------------------------------------------------------------- encoding


def dumper(schema: Schema) -> Callable[[Any], dict[str, Any]]:
    """obj -> the wire mapping `schema.dump(obj)` gives, without validation."""
    parts = [
        (field.data_key or name, field.attribute or name, _dump_converter(field))
        for name, field in schema.dump_fields.items()
    ]

    def dump(obj: Any) -> dict[str, Any]:
        out = {}
        for key, attribute, convert in parts:
            value = getattr(obj, attribute)
            out[key] = value if convert is None or value is None else convert(value)
        return out

    return dump


def _dump_converter(field: fields.Field) -> Convert | None:
    """How one field's value goes on the wire (None: as it is, e.g. a str)."""
    if isinstance(field, fields.Nested):
        return _remembering_the_last(dumper(field.schema))
    if isinstance(field, fields.List):
        inner = _dump_converter(field.inner)
        if inner is None:
            return list
        return lambda values: [None if v is None else inner(v) for v in values]
    if isinstance(field, fields.DateTime):
        return datetime.isoformat
    if isinstance(field, fields.Date):
        return date.isoformat
    if isinstance(field, fields.Float):
        return float  # an int quantity goes out as 40.0, as marshmallow writes it
    if isinstance(field, fields.Integer):
        return int
    if isinstance(field, fields.Boolean):
        return bool
    if isinstance(field, fields.String | fields.Dict):
        return None
    raise TypeError(f"no fast encoding for {type(field).__name__}: add it to event_codec")


def _remembering_the_last(dump: Callable[[Any], dict[str, Any]]) -> Convert:
    # A listing's own side is the same object in each of its matches: written out once.
    # The dataclasses are frozen, so the same object always gives the same mapping.
    last: list[tuple[Any, dict[str, Any]]] = [(None, {})]

    def remembered(obj: Any) -> dict[str, Any]:
        held = last[0]  # one tuple, read and replaced whole: safe between threads
        if held[0] is obj:
            return held[1]
        out = dump(obj)
        last[0] = (obj, out)
        return out

    return remembered


# ---------------------------------------------------------------------------- decoding


def loader(schema: Schema) -> Callable[[Mapping[str, Any]], Any]:
    """wire mapping -> what `schema.load` gives, or `Unusual` (then ask marshmallow)."""
    made_of: type | None = getattr(schema, "made_of", None)
    hooks = {tag for tag, registered in type(schema)._hooks.items() if registered}
    if hooks - {"post_load"} or (hooks and made_of is None):
        raise TypeError(f"{type(schema).__name__} has hooks the fast path does not know")
    steps = [_load_step(name, field) for name, field in schema.load_fields.items()]

    def load(document: Mapping[str, Any]) -> Any:
        out: dict[str, Any] = {}
        for attribute, key, required, default, nullable, convert, validators in steps:
            value = document.get(key, missing)
            if value is missing:
                if required:
                    raise Unusual(key)
                if default is missing:
                    continue
                value = default() if callable(default) else default
            elif value is not None:
                value = convert(value)
                for check in validators:
                    check(value)  # a ValidationError: marshmallow says why
            elif not nullable:
                raise Unusual(key)
            out[attribute] = value
        if made_of is None:
            return out
        # As the schemas' post_load: lists become tuples in the frozen dataclasses.
        return made_of(**{k: tuple(v) if type(v) is list else v for k, v in out.items()})

    return load


_Step = tuple[str, str, bool, Any, bool, Convert, tuple[Callable[[Any], Any], ...]]


def _load_step(name: str, field: fields.Field) -> _Step:
    return (
        field.attribute or name,
        field.data_key or name,
        field.required,
        field.load_default,
        field.allow_none,
        _load_converter(field),
        tuple(field.validators),
    )


def _load_converter(field: fields.Field) -> Convert:
    """The strict reading of one field's JSON value; `Unusual` for anything else."""
    if isinstance(field, fields.Nested):
        nested = loader(field.schema)
        return lambda value: nested(_mapping(value))
    if isinstance(field, fields.List):
        inner = _load_converter(field.inner)
        return lambda value: [inner(v) for v in _of_type(value, list)]
    if isinstance(field, fields.AwareDateTime):
        return _aware
    if isinstance(field, fields.DateTime):
        raise TypeError("naive DateTime fields are not part of the contract")
    if isinstance(field, fields.Date):
        return lambda value: date.fromisoformat(_of_type(value, str))
    if isinstance(field, fields.Float):
        return _finite
    if isinstance(field, fields.Integer):
        return lambda value: _of_type(value, int)
    if isinstance(field, fields.Boolean):
        return lambda value: _of_type(value, bool)
    if isinstance(field, fields.String):
        return lambda value: _of_type(value, str)
    if isinstance(field, fields.Dict) and field.key_field is None and field.value_field is None:
        return lambda value: dict(_mapping(value))
    raise TypeError(f"no fast decoding for {type(field).__name__}: add it to event_codec")


def _of_type(value: Any, kind: type) -> Any:
    if type(value) is not kind:
        raise Unusual(value)
    return value


def _mapping(value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise Unusual(value)
    return value


def _finite(value: Any) -> float:
    kind = type(value)
    if kind is not float and kind is not int:
        raise Unusual(value)
    number = float(value)
    if not math.isfinite(number):
        raise Unusual(value)
    return number


def _aware(value: Any) -> datetime:
    moment = datetime.fromisoformat(_of_type(value, str))
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise Unusual(value)
    return moment
