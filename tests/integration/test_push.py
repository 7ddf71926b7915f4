"""Web Push as a member's phone gets it: the settings page subscribes the browser, an alert
leaves through the delivery worker encrypted for that browser and signed with the
exchange's VAPID key, and a local push service decrypts it (aes128gcm) to the alert."""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient
from py_vapid import Vapid02
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Request, Response

from notifications.channels.email import SmtpMailer, SmtpServer
from notifications.channels.push import PushSender, VapidKeys
from notifications.channels.webhook import WebhookPolicy, WebhookSender
from notifications.config import NotifierConfig
from notifications.dispatch import EmailSender, PushDispatch, WebhookDispatch, senders
from notifications.handler import MatchAlertHandler
from notifications.mail import MailComposer
from notifications.outcomes import GIVEN_UP, OutcomeRecorder
from notifications.push_store import forgetter
from notifications.retry import RetryPolicy
from notifications.tables import DeliveryRow, PushSubscriptionRow
from notifications.unsubscribe import UnsubscribeTokens
from notifications.wiring import lineage
from notifications.worker import DeliveryWorker
from services.notifications_web import create_app
from shared.auth import Principal
from shared.db import unit_of_work
from shared.settings import Settings
from shared.taxonomy import Taxonomy
from tests.conftest import random_id
from tests.edge_identity import act_as
from tests.integration.kafka_helpers import wait_for
from tests.integration.test_notif_support import (
    BASE_URL,
    SECRET_KEY,
    match_event,
    organisation_event,
)

pytestmark = [pytest.mark.postgres]


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class Browser:
    """What a browser keeps of its push subscription: its key pair and auth secret."""

    key: ec.EllipticCurvePrivateKey
    auth: bytes

    @classmethod
    def new(cls) -> Browser:
        return cls(ec.generate_private_key(ec.SECP256R1()), os.urandom(16))

    def subscription(self, endpoint: str) -> dict[str, Any]:
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"endpoint": endpoint, "keys": {"p256dh": b64url(point), "auth": b64url(self.auth)}}

    def decrypt(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(
            body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        return json.loads(plain)


@pytest.fixture
def vapid(monkeypatch: pytest.MonkeyPatch) -> VapidKeys:
    key = Vapid02()
    key.generate_keys()
    private = key.private_key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    keys = VapidKeys(b64url(private), b64url(public), "mailto:ops@boucle.test")
    monkeypatch.setenv("VAPID_PRIVATE_KEY", keys.private_key)
    monkeypatch.setenv("VAPID_PUBLIC_KEY", keys.public_key)
    monkeypatch.setenv("VAPID_SUBJECT", keys.subject)
    return keys


def web_app(url: str, allow_private: bool = True) -> Flask:
    settings = Settings(notifications_database_url=url, secret_key=SECRET_KEY, environment="test")
    return create_app(settings, NotifierConfig(webhooks_allow_private_networks=allow_private))


def worker_for(app: Flask, keys: VapidKeys) -> DeliveryWorker:
    sessions = app.extensions["boucle.notifications"].sessions
    checker = WebhookSender(WebhookPolicy(allow_private=True, require_https=False))
    email = EmailSender(
        MailComposer(BASE_URL, "Boucle <alerts@boucle.test>"),
        SmtpMailer(SmtpServer.from_url("smtp://127.0.0.1:9"), timeout_s=1),
        UnsubscribeTokens(SECRET_KEY),
        BASE_URL,
    )
    return DeliveryWorker(
        sessions,
        senders(
            email,
            WebhookDispatch(checker, BASE_URL),
            PushDispatch(PushSender(keys, checker), BASE_URL, forgetter(sessions)),
        ),
        OutcomeRecorder("deliveries"),
        RetryPolicy(max_attempts=3, base_delay_s=0.05, max_delay_s=0.2),
    )


def csrf_of_settings(client: FlaskClient) -> tuple[str, str]:
    page = client.get("/settings/notifications").get_data(as_text=True)
    token = re.search(r'id="push"[^>]*data-csrf="([^"]+)"', page)
    assert token, "the settings page has no push section"
    return token.group(1), page


@pytest.fixture
def world(postgres_url: str, vapid: VapidKeys) -> Iterator[tuple[Flask, str, str]]:
    app = web_app(postgres_url)
    buyer, member = random_id("canteen"), random_id("member")
    members = [{"id": member, "email": "chef@canteen.lu", "language": "fr", "role": "member"}]
    app.extensions["boucle.notifications"].organisations.apply(
        organisation_event(buyer, "canteen@example.org", "fr", members)
    )
    yield app, buyer, member


def test_an_alert_reaches_the_subscribed_browser_encrypted_and_signed(
    world: tuple[Flask, str, str], vapid: VapidKeys, httpserver: HTTPServer
) -> None:
    app, buyer, member = world
    browser = Browser.new()
    received: list[Request] = []

    def push_service(request: Request) -> Response:
        received.append(request)
        return Response(status=201)

    httpserver.expect_request("/push/phone-1", method="POST").respond_with_handler(push_service)
    client = act_as(app.test_client(), Principal(buyer, member), SECRET_KEY, "fr")
    token, page = csrf_of_settings(client)
    assert f'data-public-key="{vapid.public_key}"' in page
    subscribed = client.post(
        "/settings/notifications/push?lang=fr",
        json=browser.subscription(httpserver.url_for("/push/phone-1")),
        headers={"X-CSRFToken": token},
    )
    assert subscribed.status_code == 201, subscribed.get_json()

    sessions = app.extensions["boucle.notifications"].sessions
    handler = MatchAlertHandler(
        sessions,
        OutcomeRecorder("deliveries"),
        lineage(Taxonomy.load_default()),
        ZoneInfo("Europe/Luxembourg"),
    )
    match_id = random_id("m")
    handler(match_event(match_id, random_id("farm"), buyer, title="Palettes Europe"))
    worker = worker_for(app, vapid)
    wait_for(lambda: worker.run_once() is not None and received, timeout=20, what="a push")

    [request] = received
    assert request.headers["Content-Encoding"] == "aes128gcm"
    assert int(request.headers["TTL"]) > 0
    scheme, _, params = request.headers["Authorization"].partition(" ")
    assert scheme == "vapid" and f"k={vapid.public_key}" in params
    jwt = dict(part.strip().split("=", 1) for part in params.split(","))["t"]
    assert Vapid02.verify(f"vapid t={jwt},k={vapid.public_key}")  # signed with our key
    claims = json.loads(base64.urlsafe_b64decode(jwt.split(".")[1] + "=="))
    assert claims["aud"] == httpserver.url_for("/").rstrip("/")
    assert claims["sub"] == vapid.subject
    alert = browser.decrypt(request.get_data())
    assert alert["title"] == "Nouvelle offre pour votre besoin : Palettes Europe"
    assert alert["url"] == f"{BASE_URL}/listings/offer-{match_id}"
    assert alert["tag"] == match_id and alert["lang"] == "fr"
    with unit_of_work(sessions) as session:
        push = session.scalars(select(DeliveryRow).where(DeliveryRow.channel == "push")).one()
        assert (push.status, push.subscriber, push.attempts) == ("sent", member, 1)


def test_a_device_turned_off_on_the_settings_page_gets_no_more_alerts(
    world: tuple[Flask, str, str], vapid: VapidKeys, httpserver: HTTPServer
) -> None:
    app, buyer, member = world
    client = act_as(app.test_client(), Principal(buyer, member), SECRET_KEY)
    token, _ = csrf_of_settings(client)
    endpoint = httpserver.url_for("/push/desk")
    created = client.post(
        "/settings/notifications/push",
        json=Browser.new().subscription(endpoint),
        headers={"X-CSRFToken": token, "User-Agent": "Firefox on the office desk"},
    )
    subscription_id = created.get_json()["id"]
    _, page = csrf_of_settings(client)
    assert "Firefox on the office desk" in page
    removed = client.post(
        f"/settings/notifications/push/{subscription_id}/delete", data={"csrf_token": token}
    )
    assert removed.status_code == 303
    assert "Firefox on the office desk" not in csrf_of_settings(client)[1]

    sessions = app.extensions["boucle.notifications"].sessions
    handler = MatchAlertHandler(
        sessions,
        OutcomeRecorder("deliveries"),
        lineage(Taxonomy.load_default()),
        ZoneInfo("Europe/Luxembourg"),
    )
    handler(match_event(random_id("m"), random_id("farm"), buyer))
    worker_for(app, vapid).run_once()
    with unit_of_work(sessions) as session:
        channels = set(session.scalars(select(DeliveryRow.channel)))
    assert "push" not in channels and "inbox" in channels
    assert httpserver.log == []


def test_subscribing_needs_a_member_the_csrf_token_sound_keys_and_a_public_push_service(
    postgres_url: str, vapid: VapidKeys
) -> None:
    app = web_app(postgres_url, allow_private=False)
    buyer, member = random_id("canteen"), random_id("member")
    client = act_as(app.test_client(), Principal(buyer, member), SECRET_KEY)
    token, _ = csrf_of_settings(client)
    good = Browser.new().subscription("https://push.example.net/wpush/v2/abc")

    def post(body: dict[str, Any], **headers: str) -> Any:
        return client.post("/settings/notifications/push", json=body, headers=headers)

    assert post(good).status_code == 400  # no CSRF token
    loopback = {**good, "endpoint": "http://127.0.0.1:9/push"}
    refused = post(loopback, **{"X-CSRFToken": token})
    assert refused.status_code == 400 and "endpoint" in refused.get_json()["message"]
    bad_keys = {**good, "keys": {"p256dh": "not-a-key", "auth": "x"}}
    assert post(bad_keys, **{"X-CSRFToken": token}).status_code == 400
    anonymous = app.test_client().post("/settings/notifications/push", json=good)
    assert anonymous.status_code == 400  # no login, so no CSRF token either


def test_the_service_worker_and_manifest_are_served_for_the_whole_site(postgres_url: str) -> None:
    from tests.integration.listings_client import listings_app

    client = listings_app(postgres_url).test_client()
    worker = client.get("/sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.headers["Service-Worker-Allowed"] == "/"
    assert "showNotification" in worker.get_data(as_text=True)
    manifest = client.get("/manifest.webmanifest?lang=de")
    assert manifest.mimetype == "application/manifest+json"
    document = manifest.get_json()
    assert document["display"] == "standalone" and document["lang"] == "de"
    for icon in document["icons"]:
        assert client.get(icon["src"]).status_code == 200
    assert '<link rel="manifest" href="/manifest.webmanifest">' in client.get("/").get_data(
        as_text=True
    )


def alert_handler(app: Flask) -> MatchAlertHandler:
    return MatchAlertHandler(
        app.extensions["boucle.notifications"].sessions,
        OutcomeRecorder("deliveries"),
        lineage(Taxonomy.load_default()),
        ZoneInfo("Europe/Luxembourg"),
    )


def subscribe(app: Flask, buyer: str, member: str, endpoint: str) -> None:
    client = act_as(app.test_client(), Principal(buyer, member), SECRET_KEY)
    token, _ = csrf_of_settings(client)
    answer = client.post(
        "/settings/notifications/push",
        json=Browser.new().subscription(endpoint),
        headers={"X-CSRFToken": token},
    )
    assert answer.status_code == 201, answer.get_json()


def push_rows(app: Flask) -> tuple[list[str], list[tuple[str, str]]]:
    """Stored subscriptions, and the push deliveries with their status."""
    with unit_of_work(app.extensions["boucle.notifications"].sessions) as session:
        browsers = list(session.scalars(select(PushSubscriptionRow.id)))
        deliveries = session.execute(
            select(DeliveryRow.recipient, DeliveryRow.status).where(DeliveryRow.channel == "push")
        )
        return browsers, [tuple(row) for row in deliveries]


def test_a_subscription_the_push_service_says_is_gone_is_forgotten(
    world: tuple[Flask, str, str], vapid: VapidKeys, httpserver: HTTPServer
) -> None:
    app, buyer, member = world
    httpserver.expect_request("/push/old-phone").respond_with_data("gone", status=410)
    subscribe(app, buyer, member, httpserver.url_for("/push/old-phone"))
    [browser], _ = push_rows(app)
    alert_handler(app)(match_event(random_id("m"), random_id("farm"), buyer))
    worker = worker_for(app, vapid)
    wait_for(lambda: worker.run_once() is not None and not push_rows(app)[0], what="forgotten")
    # Given up at once (no retries against a dead subscription), and no push planned again.
    assert push_rows(app)[1] == [(browser, GIVEN_UP)]
    alert_handler(app)(match_event(random_id("m"), random_id("farm"), buyer))
    assert push_rows(app)[1] == [(browser, GIVEN_UP)]
    assert len(httpserver.log) == 1


def test_a_member_who_left_the_organisation_gets_no_push(
    world: tuple[Flask, str, str], vapid: VapidKeys, httpserver: HTTPServer
) -> None:
    app, buyer, member = world
    subscribe(app, buyer, member, httpserver.url_for("/push/phone"))
    organisations = app.extensions["boucle.notifications"].organisations
    organisations.apply(organisation_event(buyer, "canteen@example.org", "fr", [], version=2))
    alert_handler(app)(match_event(random_id("m"), random_id("farm"), buyer))
    worker_for(app, vapid).run_once()
    assert push_rows(app)[1] == []
    assert httpserver.log == []
