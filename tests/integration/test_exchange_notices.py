"""Each step of an exchange reaches the other side: a notice, and an e-mail in their
language with the message and a link straight to the exchange; a repeat sends nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from notifications.tables import AlertRow, ExchangeNoticeRow
from shared.contracts import MatchFound, Price
from shared.db import unit_of_work
from shared.events import Event, typed_data
from tests.conftest import random_id
from tests.integration.kafka_helpers import wait_for
from tests.integration.test_notif_support import (
    Notifier,
    SmtpSink,
    build_notifier,
    match_event,
    organisation_event,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
def notifier(postgres_url: str, kafka_bootstrap: str, smtp_url: str) -> Iterator[Notifier]:
    yield build_notifier(postgres_url, kafka_bootstrap, random_id("ex") + ".", smtp_url)


def step(name: str, exchange_id: str, farm: str, canteen: str, author: str, **data: Any) -> Event:
    body = {
        "id": exchange_id,
        "listing_id": random_id("l"),
        "listing_kind": "offer",
        "listing_title": "40 Europaletten",
        "owner_organisation_id": farm,
        "requester_organisation_id": canteen,
        "quantity": 15.0,
        "unit": "pallets",
        "status": "requested",
        "version": 1,
        "updated_at": datetime.now(UTC),
        "author_organisation_id": author,
        **data,
    }
    event_type = f"boucle.exchange.{name}"
    return Event(
        event_type, "/boucle/listings/exchanges", exchange_id, typed_data(event_type, body)
    )


def deliver(notifier: Notifier, sink: SmtpSink, count: int) -> None:
    wait_for(lambda: notifier.deliver_due() >= 0 and len(sink.received) >= count, 20)
    notifier.deliver_due()


def test_a_request_and_a_reply_reach_the_other_side_in_its_language_with_a_link(
    notifier: Notifier, sink: SmtpSink
) -> None:
    farm, canteen = random_id("farm"), random_id("canteen")
    notifier.organisations.apply(organisation_event(farm, "farm@example.org", "de"))
    notifier.organisations.apply(organisation_event(canteen, "canteen@example.org", "fr"))
    exchange_id = random_id("x")
    asked = step("requested", exchange_id, farm, canteen, canteen, message="Pour lundi ?")
    notifier.handler(asked)
    notifier.handler(asked)  # a redelivery tells nobody twice
    deliver(notifier, sink, 1)
    [to_farm] = sink.to("farm@example.org")
    assert to_farm["Subject"] == f"Organisation {canteen} fragt nach „40 Europaletten“"
    text = to_farm.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Pour lundi ?" in text and f"/exchanges/{exchange_id}" in text
    assert sink.to("canteen@example.org") == [], "the side that asked is not told of it"

    reply = step("message_posted", exchange_id, farm, canteen, farm, version=1, message="Ja, 8 Uhr")
    notifier.handler(reply)
    deliver(notifier, sink, 2)
    [to_canteen] = sink.to("canteen@example.org")
    assert to_canteen["Subject"] == "Nouveau message à propos de « 40 Europaletten »"
    assert "Ja, 8 Uhr" in to_canteen.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    done = step("completed", exchange_id, farm, canteen, canteen, status="completed", version=5)
    notifier.handler(done)
    deliver(notifier, sink, 4)
    assert len(sink.to("farm@example.org")) == 2 and len(sink.to("canteen@example.org")) == 2
    with unit_of_work(notifier.sessions) as session:
        told = session.scalars(
            select(ExchangeNoticeRow.step).where(ExchangeNoticeRow.exchange_id == exchange_id)
        ).all()
    assert sorted(told) == ["completed", "completed", "message_posted", "requested"]


def test_a_match_alert_names_the_other_organisation_in_the_inbox_and_the_email(
    notifier: Notifier, sink: SmtpSink
) -> None:
    farm, canteen = random_id("farm"), random_id("canteen")
    notifier.organisations.apply(organisation_event(farm, "farm@example.org", "de"))
    notifier.organisations.apply(organisation_event(canteen, "canteen@example.org", "fr"))
    notifier.handler(match_event(random_id("m"), farm, canteen))
    deliver(notifier, sink, 2)
    [to_canteen] = sink.to("canteen@example.org")
    assert f"Organisation {farm}" in to_canteen.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    with unit_of_work(notifier.sessions) as session:
        names = session.scalars(
            select(AlertRow.counterpart_organisation_name).where(
                AlertRow.organisation_id == canteen
            )
        ).all()
    assert names == [f"Organisation {farm}"]


def test_the_buyer_sees_what_the_offer_costs_in_its_language(
    notifier: Notifier, sink: SmtpSink
) -> None:
    farm, canteen = random_id("farm"), random_id("canteen")
    notifier.organisations.apply(organisation_event(farm, "farm@example.org", "de"))
    notifier.organisations.apply(organisation_event(canteen, "canteen@example.org", "fr"))
    paid = match_event(random_id("m"), farm, canteen)
    assert isinstance(paid.data, MatchFound)
    offer = dataclasses.replace(paid.data.offer, price=Price("per_unit", 2.5))
    notifier.handler(
        Event(paid.type, paid.source, paid.subject, dataclasses.replace(paid.data, offer=offer))
    )
    deliver(notifier, sink, 2)
    [to_canteen] = sink.to("canteen@example.org")
    text = to_canteen.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Prix: 2.50 € par palettes" in text
    [to_farm] = sink.to("farm@example.org")
    assert "Preis" not in to_farm.get_body(("plain",)).get_content()  # type: ignore[union-attr]
