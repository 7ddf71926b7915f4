"""An organisation's account from first day to last, in headless Chromium through every real
process and a real SMTP server: register, confirm the address from the e-mail, invite a
colleague who joins; the owner removes them and their open login and token stop working in
every service within a second; forgot password, reset, old logins dead; the export zip
holds the listings; deleting the organisation takes its listings out of search and
matching, its personal data out of every service's tables, and out of the compacted topics
for any consumer reading them from the start."""

from __future__ import annotations

import io
import json
import re
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType
from sqlalchemy import create_engine, text

from services.stack import ServiceStack
from tests.conftest import random_id
from tests.e2e.test_exchange_journey import chromium, post, register, text_of
from tests.integration.kafka_helpers import wait_for
from tests.integration.test_notif_support import SmtpSink
from tests.integration.whole_stack import whole_stack

__all__ = ["chromium"]  # the browser fixture, shared with the exchange journey
pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]
PASSWORD = "a long enough password"
LINK = re.compile(r"https?://\S+/(?:account/confirm|invitations|password/reset)/[\w-]+")


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    yield SmtpSink()


@pytest.fixture(scope="module")
def prefix() -> str:
    return random_id("accounts") + "."


@pytest.fixture(scope="module")
def stack(
    kafka_bootstrap: str, module_postgres_url: str, sink: SmtpSink, prefix: str
) -> Iterator[ServiceStack]:
    env = {
        "KAFKA_TOPIC_PREFIX": prefix,
        "RATE_LIMITS": "off",
        # Compaction may forget a key as soon as its tombstone lands (production keeps a week).
        "KAFKA_MIN_COMPACTION_LAG_MS": "0",
    }
    with whole_stack(kafka_bootstrap, module_postgres_url, "accounts", sink, env) as running:
        yield running


def link_in_mail(sink: SmtpSink, to: str, kind: str) -> str:
    """The link of the newest e-mail of `kind` (its URL path) sent to `to`."""

    def found() -> str | None:
        links = [m for message in sink.to(to) for m in LINK.findall(text_of(message))]
        matching = [link for link in links if kind in link]
        return matching[-1] if matching else None

    link = wait_for(found, timeout=60, what=f"an e-mail with a {kind} link to {to}")
    return "/" + link.split("/", 3)[3]


def status(base: str, path: str, token: str | None = None, cookie: str | None = None) -> int:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if cookie:
        headers["Cookie"] = cookie
    request = urllib.request.Request(base + path, headers=headers)
    opener = urllib.request.build_opener(NoRedirect())
    try:
        with opener.open(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def cookie_of(page: Any) -> str:
    return "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())


def test_an_organisation_from_its_first_day_to_its_last(
    stack: ServiceStack,
    chromium: Any,
    sink: SmtpSink,
    kafka_bootstrap: str,
    module_postgres_url: str,
    prefix: str,
) -> None:
    base = stack.base_url
    owner = register(chromium, base, "Ressourcerie du Val", "fr", "Esch-sur-Alzette")
    email = owner.email
    assert "aucune alerte n'y est envoyée" in owner.content()  # the banner says why

    # Confirm the address from the e-mail.
    owner.goto(base + link_in_mail(sink, email, "/account/confirm/"))
    assert "est confirmée" in owner.content()
    assert "aucune alerte n'y est envoyée" not in owner.content()
    title = f"Palettes du Val {random_id('t')}"
    listing_url = post(owner, base, "offer", title, "30", "Esch-sur-Alzette", "0")
    listing_id = listing_url.rstrip("/").rsplit("/", 1)[-1]

    # Invite a colleague, who joins and logs in.
    colleague_email = f"{random_id('lena')}@example.org"
    owner.goto(f"{base}/account")
    owner.fill("#invite-email", colleague_email)
    owner.select_option("#invite-language", "de")
    owner.click("form[action='/account/members'] button")
    colleague = chromium.new_context(locale="de").new_page()
    colleague.goto(base + link_in_mail(sink, colleague_email, "/invitations/"))
    colleague.fill("#name", "Lena")
    colleague.fill("#password", PASSWORD)
    colleague.click("main form button[type=submit]")
    colleague.wait_for_load_state()
    assert "Willkommen" in colleague.content()
    colleague.goto(f"{base}/account/tokens")
    colleague.fill("#name", "Lenas Skript")
    colleague.click("main form button[type=submit]")
    token = re.search(r"bcl_[\w-]+", colleague.inner_text("main"))
    assert token, "the new token is shown once"
    lena_token, lena_cookie = token.group(0), cookie_of(colleague)
    checks = {
        "/inbox": lena_cookie,
        "/listings/new": lena_cookie,
        "/settings/notifications": lena_cookie,
    }
    assert all(status(base, path, cookie=c) == 200 for path, c in checks.items())
    assert status(base, "/api/v1/inbox", token=lena_token) == 200
    assert status(base, "/api/v1/organisations/me", token=lena_token) == 200

    # She keeps her inbox open; its live feed is connected.
    colleague.goto(f"{base}/inbox")
    colleague.wait_for_selector("#alerts[data-live=open]", state="attached", timeout=20_000)

    # The owner removes her: within a second nothing of hers works anywhere.
    owner.goto(f"{base}/account")
    owner.click("tr:has-text('Lena') form[action$='/remove'] button")
    removed_at = time.monotonic()

    def all_refused() -> bool:
        pages = [status(base, path, cookie=c) for path, c in checks.items()]
        apis = [status(base, p, token=lena_token) for p in ("/api/v1/inbox", "/api/v1/alerts")]
        return all(code == 302 for code in pages) and all(code == 401 for code in apis)

    wait_for(all_refused, timeout=1.0, interval=0.05, what="the removed member refused everywhere")
    assert time.monotonic() - removed_at < 1.5
    # Her open inbox hears of the organisation's next alert, is refused its content, says
    # so and closes its feed: nothing of the organisation reaches that page any more.
    buyer = register(chromium, base, "Épicerie solidaire du Val", "fr", "Esch-sur-Alzette")
    post(buyer, base, "need", title, "10", "Esch-sur-Alzette", "5")
    colleague.wait_for_selector("#live-ended", state="visible", timeout=60_000)
    assert colleague.get_attribute("#alerts", "data-live") == "ended"
    assert title not in colleague.inner_text("#alerts")

    # Forgot password, reset: every old login ends.
    old_cookie = cookie_of(owner)
    stranger = chromium.new_context(locale="fr").new_page()
    stranger.goto(f"{base}/password/forgot")
    stranger.fill("#email", email)
    stranger.click("main form button[type=submit]")
    stranger.goto(base + link_in_mail(sink, email, "/password/reset/"))
    new_password = "a new and long passphrase"
    stranger.fill("#password", new_password)
    stranger.fill("#again", new_password)
    stranger.click("main form button[type=submit]")
    assert status(base, "/account", cookie=old_cookie) == 302
    stranger.fill("#email", email)
    stranger.fill("#password", new_password)
    stranger.click("main form button[type=submit]")
    stranger.wait_for_load_state()
    assert "/login" not in stranger.url

    # The export opens and holds the listings (and the notifications service's part).
    stranger.goto(f"{base}/account")
    assert stranger.locator("a[href='/account/export']").count() == 1
    answer = stranger.request.get(f"{base}/account/export", max_redirects=0)
    assert answer.status == 200, answer.text()[:500]
    assert answer.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(answer.body()))
    data = json.loads(archive.read("data.json"))
    assert [row["title"] for row in data["listings"]] == [title]
    assert "listings.csv" in archive.namelist() and title in archive.read("listings.csv").decode()
    assert {"alerts", "deliveries"} <= set(data), sorted(data)

    # Delete the organisation.
    organisation_id = data["organisation"][0]["id"]
    stranger.goto(f"{base}/account")
    stranger.fill("#delete-confirm", "Ressourcerie du Val")
    stranger.click("form[action='/account/delete'] button")
    stranger.wait_for_load_state()
    with urllib.request.urlopen(f"{base}/api/v1/listings?q=Palettes", timeout=10) as answer:
        hits = json.load(answer)["hits"]
    assert listing_id not in [hit["listing"]["id"] for hit in hits]
    engine = create_engine(module_postgres_url)

    def erased() -> bool:
        with engine.connect() as db:
            members = db.execute(
                text("select count(*) from listings.members where organisation_id = :o"),
                {"o": organisation_id},
            ).scalar()
            projected = db.execute(
                text("select count(*) from notifications.organisations where id = :o"),
                {"o": organisation_id},
            ).scalar()
            named = db.execute(
                text("select count(*) from listings.organisations where name = :n"),
                {"n": "Ressourcerie du Val"},
            ).scalar()
        return members == 0 and projected == 0 and named == 0

    wait_for(erased, timeout=30, what="the organisation's personal data erased in every service")
    engine.dispose()
    assert_topics_forget(kafka_bootstrap, prefix, [organisation_id, listing_id], email)


def assert_topics_forget(bootstrap: str, prefix: str, keys: list[str], email: str) -> None:
    """A consumer reading the compacted topics from the start finds nothing of the keys."""
    topics = [f"{prefix}organisations", f"{prefix}listings"]
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    fast = {"segment.ms": "200", "min.cleanable.dirty.ratio": "0.01", "delete.retention.ms": "0"}
    admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, t, configs=fast) for t in topics])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap)

    def forgotten() -> bool:
        # A record on every partition closes the segments the tombstones are in.
        for topic in topics:
            for partition in producer.partitions_for(topic) or ():
                producer.send(topic, key=b"segment-roll", value=None, partition=partition)
        producer.flush()
        consumer = KafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            consumer_timeout_ms=2000,
        )
        remembered = [
            record
            for record in consumer
            if record.value is not None
            and ((record.key and record.key.decode() in keys) or email.encode() in record.value)
        ]
        consumer.close()
        return not remembered

    wait_for(forgotten, timeout=120, interval=2, what="the compacted topics forgetting the keys")
    producer.close()
