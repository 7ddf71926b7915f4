"""The event contract: what is produced validates, what is malformed is refused with a reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from shared.events import Event, EventValidationError, decode_event, encode_event


def listing_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "id": "l-1",
        "organisation_id": "o-1",
        "kind": "offer",
        "status": "published",
        "title": "Euro pallets",
        "category": "ewc-150103",
        "quantity": 40.0,
        "unit": "pallets",
        "location": {"lat": 49.6116, "lon": 6.1319},
        "radius_km": 0.0,
        "version": 1,
        "updated_at": datetime(2026, 11, 26, 10, tzinfo=UTC),
    }
    data.update(overrides)
    return data


def test_an_encoded_listing_event_carries_the_cloudevents_attributes() -> None:
    event = Event(
        type="boucle.listing.published", source="/test", subject="l-1", data=listing_data()
    )
    envelope = json.loads(encode_event(event))
    assert envelope["specversion"] == "1.0"
    assert envelope["id"] == event.id
    assert envelope["subject"] == "l-1"
    assert envelope["schemaversion"] == 1
    assert envelope["data"]["location"] == {"lat": 49.6116, "lon": 6.1319}


def test_a_decoded_event_equals_what_was_encoded() -> None:
    event = Event(
        type="boucle.listing.published", source="/test", subject="l-1", data=listing_data()
    )
    decoded = decode_event(encode_event(event))
    assert decoded.id == event.id
    assert decoded.time == event.time
    assert decoded.data["updated_at"] == listing_data()["updated_at"]
    assert decoded.data["title"] == "Euro pallets"


def test_producing_an_event_with_a_bad_field_is_refused_with_the_field_named() -> None:
    event = Event(
        type="boucle.listing.published",
        source="/test",
        subject="l-1",
        data=listing_data(kind="gift"),
    )
    with pytest.raises(EventValidationError) as error:
        encode_event(event)
    assert "kind" in error.value.errors


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (None, "tombstone"),
        (b'{"specversion": "1.0"}', "invalid event"),
    ],
)
def test_a_malformed_message_is_refused_with_a_reason(raw: bytes | None, reason: str) -> None:
    with pytest.raises(EventValidationError, match=reason):
        decode_event(raw)


def test_an_unknown_event_type_is_refused() -> None:
    event = Event(type="boucle.listing.published", source="/t", subject="l-1", data=listing_data())
    envelope = json.loads(encode_event(event))
    envelope["type"] = "boucle.listing.teleported"
    with pytest.raises(EventValidationError, match="type"):
        decode_event(json.dumps(envelope).encode())


def test_a_newer_schema_version_than_known_is_refused_rather_than_misread() -> None:
    event = Event(type="boucle.listing.published", source="/t", subject="l-1", data=listing_data())
    envelope = json.loads(encode_event(event))
    envelope["schemaversion"] = 7
    with pytest.raises(EventValidationError, match="schemaversion"):
        decode_event(json.dumps(envelope).encode())


def test_consumers_ignore_fields_they_do_not_know() -> None:
    event = Event(type="boucle.listing.published", source="/t", subject="l-1", data=listing_data())
    envelope = json.loads(encode_event(event))
    envelope["data"]["colour"] = "blue"
    envelope["traceparent"] = "00-abc"
    decoded = decode_event(json.dumps(envelope).encode())
    assert "colour" not in decoded.data
    assert decoded.data["kind"] == "offer"
