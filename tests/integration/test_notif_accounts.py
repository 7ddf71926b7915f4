"""The notifier and accounts (issue 12), against real PostgreSQL, Kafka and SMTP: no alert
e-mailed to an unconfirmed address, inbox read state per member (and its migration),
erasure of a deleted organisation, and its notifications export."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from notifications.config import NotifierConfig
from notifications.jobs import HELD_UNCONFIRMED
from notifications.preference_store import add_endpoint, save_preferences
from notifications.preferences import CONTACT, Preferences
from notifications.store import AlertStore
from notifications.tables import (
    AlertReadRow,
    AlertRow,
    DeliveryRow,
    ErasedAlertTally,
    ExchangeNoticeRow,
    OrganisationRow,
    OrganisationTokenRow,
    PreferenceRow,
    WebhookEndpointRow,
)
from services.notifications_web import create_app
from shared.auth import Principal, new_api_token, token_digest
from shared.contracts import Member, OrganisationDeleted
from shared.db import make_engine, service_database, unit_of_work
from shared.event_schemas import ORGANISATION_DELETED
from shared.events import Event, decode_event
from shared.kafka import KafkaPublisher, TableReader
from shared.settings import Settings
from tests.conftest import random_id
from tests.edge_identity import act_as, identity_headers
from tests.integration.kafka_helpers import read_topic, wait_for
from tests.integration.test_notif_support import (
    SECRET_KEY,
    Notifier,
    SmtpSink,
    build_notifier,
    match_event,
    organisation_event,
)
from tests.integration.test_notif_web import csrf_token

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@dataclasses.dataclass
class World:
    notifier: Notifier
    app: Flask

    def client(self, organisation_id: str, member_id: str | None, language: str = "en") -> Any:
        client = self.app.test_client()
        return act_as(client, Principal(organisation_id, member_id), SECRET_KEY, language)


@pytest.fixture
def world(
    postgres_url: str, kafka_bootstrap: str, topic_prefix: str, smtp_url: str
) -> Iterator[World]:
    notifier = build_notifier(postgres_url, kafka_bootstrap, topic_prefix, smtp_url)
    settings = Settings(
        notifications_database_url=postgres_url, secret_key=SECRET_KEY, environment="test"
    )
    app = create_app(settings, NotifierConfig(webhooks_allow_private_networks=False))
    yield World(notifier, app)
    notifier.publisher.close()


def member(member_id: str, email: str, verified: bool = True, role: str = "owner") -> Member:
    return Member(
        id=member_id,
        email=email,
        name=member_id,
        language="en",
        email_verified=verified,
        organisation_role=role,
    )


def organisation(
    org_id: str,
    contact: str,
    members: list[Member],
    contact_verified: bool = True,
    version: int = 1,
    language: str = "fr",
    tokens: list[str] | None = None,
) -> Event:
    event = organisation_event(org_id, contact, language, version=version, token_hashes=tokens)
    data = dataclasses.replace(
        event.data, members=tuple(members), contact_email_verified=contact_verified
    )
    return dataclasses.replace(event, data=data)


def deliver_all(notifier: Notifier) -> None:
    def settled() -> bool:
        notifier.deliver_due()
        with unit_of_work(notifier.sessions) as session:
            return not session.scalar(
                select(func.count()).select_from(DeliveryRow).where(DeliveryRow.status == "pending")
            )

    wait_for(settled, interval=0.05, what="every delivery made or held")


def emails_on(notifier: Notifier, email_on: list[str], org_id: str) -> None:
    with unit_of_work(notifier.sessions) as session:
        for member_id in email_on:
            save_preferences(session, org_id, member_id, Preferences(email=True))


# --- 2. no alert e-mailed to an unconfirmed address ----------------------------------------


def test_no_alert_is_emailed_to_an_unconfirmed_address_until_it_is_confirmed(
    world: World, sink: SmtpSink
) -> None:
    notifier = world.notifier
    buyer, seller = random_id("canteen"), random_id("farm")
    members = [member("chef", "chef@canteen.lu"), member("apprentice", "new@canteen.lu", False)]
    notifier.organisations.apply(organisation(buyer, "canteen@example.org", members, False))
    notifier.organisations.apply(organisation(seller, "farm@example.org", []))
    emails_on(notifier, ["chef", "apprentice"], buyer)

    notifier.handler(match_event(random_id("m"), seller, buyer))
    deliver_all(notifier)
    assert sink.to("farm@example.org") and sink.to("chef@canteen.lu")
    assert sink.to("canteen@example.org") == [] and sink.to("new@canteen.lu") == []
    with unit_of_work(notifier.sessions) as session:
        held = {
            r.recipient: (r.status, r.last_error)
            for r in session.scalars(select(DeliveryRow).where(DeliveryRow.channel == "email"))
        }
    assert held["canteen@example.org"] == ("cancelled", HELD_UNCONFIRMED)
    assert held["new@canteen.lu"] == ("cancelled", HELD_UNCONFIRMED)
    assert AlertStore(notifier.sessions).unread_count(buyer) == 1  # the inbox has it
    outcomes = [
        decode_event(m.value).data
        for m in read_topic(notifier.publisher._bootstrap, notifier.topics.deliveries, 6)
    ]
    assert {(o.recipient, o.outcome, o.error) for o in outcomes if o.outcome == "skipped"} == {
        ("canteen@example.org", "skipped", HELD_UNCONFIRMED),
        ("new@canteen.lu", "skipped", HELD_UNCONFIRMED),
    }

    # The settings page says why, in the reader's language.
    for language, note in (
        ("en", "Alerts are not e-mailed to new@canteen.lu until it is confirmed."),
        ("fr", "Les alertes ne sont pas envoyées à new@canteen.lu tant qu"),
        ("de", "Benachrichtigungen werden erst an new@canteen.lu gesendet, wenn sie bestätigt"),
    ):
        page = world.client(buyer, "apprentice", language).get("/settings/notifications")
        html = page.get_data(as_text=True)
        assert note in html.replace("&#39;", "'"), html
        assert "canteen@example.org" in html.split('id="contact-unconfirmed"')[1]
    chef_page = world.client(buyer, "chef").get("/settings/notifications").get_data(as_text=True)
    assert 'id="mine-unconfirmed"' not in chef_page

    # Confirmed (a newer version of the organisation): the next alert is e-mailed.
    confirmed = [member("chef", "chef@canteen.lu"), member("apprentice", "new@canteen.lu")]
    notifier.organisations.apply(organisation(buyer, "canteen@example.org", confirmed, True, 2))
    notifier.handler(match_event(random_id("m"), seller, buyer, title="Oak planks"))
    deliver_all(notifier)
    assert len(sink.to("canteen@example.org")) == 1 and len(sink.to("new@canteen.lu")) == 1


# --- 3. read state per member ------------------------------------------------------------


def test_one_member_reading_an_alert_leaves_it_unread_for_a_colleague_and_for_api_clients(
    world: World,
) -> None:
    notifier = world.notifier
    buyer, seller = random_id("canteen"), random_id("farm")
    token = new_api_token()
    members = [member("anne", "anne@canteen.lu"), member("ben", "ben@canteen.lu")]
    notifier.organisations.apply(
        organisation(buyer, "c@example.org", members, tokens=[token_digest(token)])
    )
    notifier.handler(match_event(random_id("m"), seller, buyer))
    anne, ben = world.client(buyer, "anne"), world.client(buyer, "ben")
    first = anne.get("/api/v1/inbox")
    assert first.status_code == 200, first.json
    [alert] = first.json["items"]

    page = anne.get("/inbox").get_data(as_text=True)
    answer = anne.post(f"/inbox/{alert['id']}/read", data={"csrf_token": csrf_token(page)})
    assert answer.status_code == 303
    assert anne.get("/api/v1/inbox").json["unread"] == 0
    assert anne.get("/api/v1/inbox").json["items"][0]["read"] is True
    assert anne.get("/inbox/updates").json["unread"] == 0

    assert ben.get("/api/v1/inbox").json["unread"] == 1
    assert ben.get("/api/v1/inbox?unread=true").json["items"][0]["id"] == alert["id"]
    assert ben.get("/inbox/updates").json["unread"] == 1

    # An API token is no member: its clients share the organisation's own read mark.
    api = identity_headers(Principal(buyer), SECRET_KEY)
    assert world.app.test_client().get("/api/v1/inbox", headers=api).json["unread"] == 1
    assert world.app.test_client().post("/api/v1/inbox/read", headers=api).json == {"marked": 1}
    assert world.app.test_client().get("/api/v1/inbox", headers=api).json["unread"] == 0
    assert ben.get("/api/v1/inbox").json["unread"] == 1
    assert ben.post("/api/v1/inbox/read", headers=_csrf(ben)).json == {"marked": 1}
    assert ben.post("/api/v1/inbox/read", headers=_csrf(ben)).json == {"marked": 0}


def _csrf(client: FlaskClient) -> dict[str, str]:
    """The page's CSRF token, as the inbox's script sends it with a cookie-authenticated call."""
    return {"X-CSRFToken": csrf_token(client.get("/inbox").get_data(as_text=True))}


def test_the_migration_keeps_what_an_organisation_had_read_read_for_each_of_its_members(
    postgres_url: str,
) -> None:
    config = Config()
    config.attributes["schema"] = "notifications"
    config.set_main_option("script_location", "notifications:migrations")
    config.set_main_option("sqlalchemy.url", postgres_url.replace("%", "%%"))
    config.attributes["version_table"] = "alembic_version_notifications"
    command.upgrade(config, "0009")
    engine = make_engine(postgres_url, schema="notifications")
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(
            text(
                "insert into organisations (id, name, contact_email, language, members, version,"
                " updated_at) values ('org', 'Org', 'c@example.org', 'fr', :members, 1, :now)"
            ),
            {
                "members": '[{"id": "anne", "email": "a@x.lu"}, {"id": "ben", "email": "b@x.lu"}]',
                "now": now,
            },
        )
        for alert_id, read_at in (("read-1", now), ("unread-1", None)):
            connection.execute(
                text(
                    "insert into alerts (id, match_id, listing_id, organisation_id, role,"
                    " counterpart_listing_id, counterpart_title, category, quantity, unit,"
                    " distance_km, score, status, created_at, own_title, read_at,"
                    " listing_version, counterpart_version, counterpart_organisation_name)"
                    " values (:id, :id, :id, 'org', 'buyer', 'x', 'x', 'c', 1, 'kg', 1, 1,"
                    " 'active', :now, '', :read_at, 0, 0, '')"
                ),
                {"id": alert_id, "now": now, "read_at": read_at},
            )
    engine.dispose()
    _, sessions = service_database(postgres_url, "notifications")
    with unit_of_work(sessions) as session:
        reads = {(r.alert_id, r.member_id) for r in session.scalars(select(AlertReadRow))}
        contact_verified = session.get(OrganisationRow, "org").contact_email_verified
    assert reads == {("read-1", "anne"), ("read-1", "ben")}
    assert contact_verified is True
    store = AlertStore(sessions)
    assert store.unread_count("org", "anne") == 1 and store.unread_count("org", "ben") == 1
    assert store.unread_count("org") == 1  # the API's organisation-wide mark, as before


# --- 4. erasure --------------------------------------------------------------------------


def count(session: Any, table: Any, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def test_a_deleted_organisation_is_erased_and_only_anonymous_tallies_stay(
    world: World, sink: SmtpSink, kafka_bootstrap: str
) -> None:
    notifier = world.notifier
    gone, other, tombstoned = random_id("gone"), random_id("stays"), random_id("tomb")
    token = new_api_token()
    topic = notifier.topics.organisations
    publisher = KafkaPublisher(kafka_bootstrap, "test")
    for event in (
        organisation(
            gone, "gone@example.org", [member("g1", "g1@x.lu")], tokens=[token_digest(token)]
        ),
        organisation(other, "stays@example.org", []),
        organisation(tombstoned, "tomb@example.org", []),
    ):
        publisher.publish(topic, event, event.data.id)
    publisher.flush(30)
    store = notifier.organisations
    reader = TableReader(
        kafka_bootstrap,
        topic,
        store.apply,
        name="notifier-test-orgs",
        apply_many=store.apply_many,
        forget=store.forget,
    )
    try:
        reader.catch_up()
        with unit_of_work(notifier.sessions) as session:
            add_endpoint(session, gone, "https://93.184.216.34/hooks", "ERP")
            save_preferences(session, gone, "g1", Preferences(email=True))
        notifier.handler(match_event(random_id("m"), other, gone))
        notifier.handler(match_event(random_id("m"), gone, other, title="Oak planks"))
        notifier.handler(match_event(random_id("m"), other, tombstoned))
        deliver_all(notifier)
        assert sink.to("gone@example.org")
        before = AlertStore(notifier.sessions).inbox(gone)
        gone_alerts = len(before)

        # Deleted: the event, then the tombstone; `tombstoned` gets only a tombstone.
        deleted = Event(
            type=ORGANISATION_DELETED,
            source="/boucle/listings",
            subject=gone,
            data=OrganisationDeleted(id=gone, deleted_at=datetime.now(UTC)),
        )
        publisher.publish(topic, deleted, gone)
        publisher.publish_raw(topic, gone.encode(), None)
        publisher.publish_raw(topic, tombstoned.encode(), None)
        publisher.flush(30)
        reader.catch_up()
    finally:
        reader.close()
        publisher.close()

    with unit_of_work(notifier.sessions) as session:
        for org in (gone, tombstoned):
            assert count(session, AlertRow, AlertRow.organisation_id == org) == 0
            assert count(session, DeliveryRow, DeliveryRow.organisation_id == org) == 0
            assert session.get(OrganisationRow, org) is None
        assert count(session, ExchangeNoticeRow, ExchangeNoticeRow.organisation_id == gone) == 0
        assert count(session, PreferenceRow, PreferenceRow.organisation_id == gone) == 0
        assert count(session, WebhookEndpointRow, WebhookEndpointRow.organisation_id == gone) == 0
        assert (
            count(session, OrganisationTokenRow, OrganisationTokenRow.organisation_id == gone) == 0
        )
        assert count(session, AlertReadRow) == 0
        # No recipient address of theirs stays anywhere.
        assert count(session, DeliveryRow, DeliveryRow.recipient == "gone@example.org") == 0
        # The other side keeps its alerts, without the erased organisation's name or id.
        theirs = list(session.scalars(select(AlertRow).where(AlertRow.organisation_id == other)))
        assert len(theirs) == 3
        assert all(a.counterpart_organisation_id not in (gone,) for a in theirs)
        assert not [a for a in theirs if "gone" in (a.counterpart_organisation_name or "")]
        tallies = list(session.scalars(select(ErasedAlertTally)))
    assert sum(t.alerts for t in tallies) == gone_alerts + 1  # and the tombstoned one's
    assert sum(t.emails_sent for t in tallies) >= 1
    assert {t.role for t in tallies} == {"buyer", "seller"}
    assert all(len(t.day) == 10 for t in tallies)


# --- 5. export ---------------------------------------------------------------------------


def test_an_owner_exports_the_organisations_notifications_without_secrets(world: World) -> None:
    notifier = world.notifier
    buyer, seller = random_id("canteen"), random_id("farm")
    members = [member("owner", "o@canteen.lu"), member("staff", "s@canteen.lu", role="member")]
    notifier.organisations.apply(organisation(buyer, "c@example.org", members))
    notifier.organisations.apply(organisation(seller, "farm@example.org", []))
    with unit_of_work(notifier.sessions) as session:
        endpoint = add_endpoint(session, buyer, "https://93.184.216.34/hooks", "ERP")
        save_preferences(session, buyer, CONTACT, Preferences(email=True, digest=True))
    notifier.handler(match_event(random_id("m"), seller, buyer))
    path = "/api/v1/organisations/me/export/notifications"

    answer = world.client(buyer, "owner").get(path)
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["organisation_id"] == buyer
    assert [a["organisation_id"] for a in body["alerts"]] == [buyer]
    assert {d["recipient"] for d in body["deliveries"]} >= {"c@example.org"}
    assert [w["url"] for w in body["webhooks"]] == ["https://93.184.216.34/hooks"]
    assert endpoint.secret not in answer.get_data(as_text=True)
    assert "secret" not in body["webhooks"][0]
    assert body["preferences"][0]["digest"] is True

    assert world.client(buyer, "staff").get(path).status_code == 403
    token_call = world.app.test_client().get(
        path, headers=identity_headers(Principal(buyer), SECRET_KEY)
    )
    assert token_call.status_code == 403
    assert world.app.test_client().get(path).status_code == 401
    other = world.client(seller, "someone").get(path)
    assert other.status_code == 403  # not a member the organisations topic knows
