"""The exchange journey in headless Chromium through every real process: a farm (German)
posts pallets, a canteen (French) needs some and is matched, asks for part of them, the
farm proposes less, the canteen accepts, they write to each other (the inbox and the
e-mail link lead to the thread), both confirm the hand-over, the offer keeps what is left,
and the admin sees the completed exchange and its impact in the monitor."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from services.stack import ServiceStack
from tests.conftest import IN_CI, random_id
from tests.e2e.test_monitor_browser import CHROMIUM, LAUNCH_ARGS
from tests.integration.kafka_helpers import wait_for
from tests.integration.test_notif_support import SmtpSink
from tests.integration.whole_stack import whole_stack

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]
PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    yield SmtpSink()


@pytest.fixture(scope="module")
def stack(kafka_bootstrap: str, module_postgres_url: str, sink: SmtpSink) -> Iterator[ServiceStack]:
    env = {"RATE_LIMITS": "off"}
    with whole_stack(kafka_bootstrap, module_postgres_url, "journey", sink, env) as running:
        admin = [sys.executable, "-m", "services.admin", "--email", "admin@example.org"]
        subprocess.run([*admin, "--password", PASSWORD], env=running.environment(), check=True)
        yield running


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing", pytrace=False)
        pytest.skip(f"{CHROMIUM} is missing")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


def register(browser: Any, base: str, name: str, language: str, place: str) -> Any:
    page = browser.new_context(locale=language).new_page()
    page.goto(f"{base}/register?lang={language}")
    email = f"{random_id('m')}@example.org"
    page.fill("#name", name)
    page.select_option("#kind", "association")
    page.select_option("#country", "LU" if place != "Metz" else "FR")
    page.fill("#place", place)
    page.fill("#contact_email", email)
    page.select_option("#language", language)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "/register" not in page.url, page.inner_text("main")
    page.email = email  # type: ignore[attr-defined]
    return page


def confirm_address(page: Any, base: str, sink: SmtpSink) -> None:
    """Follow the confirmation link e-mailed at registration: alerts are e-mailed after it."""

    def link() -> str | None:
        for message in sink.to(page.email):
            found = re.search(r"https?://\S+/account/confirm/[\w-]+", text_of(message))
            if found:
                return found.group(0)
        return None

    url = wait_for(link, timeout=60, what=f"the confirmation e-mail to {page.email}")
    page.goto(base + "/" + url.split("/", 3)[3])
    assert "/account" in page.url


def post(
    page: Any, base: str, kind: str, title: str, quantity: str, place: str, radius: str
) -> str:
    page.goto(f"{base}/listings/new")
    page.check(f"input[name=kind][value={kind}]")
    page.fill("#title", title)
    page.select_option("#category", "ewc-150103")
    assert page.input_value("#unit") == "pallets", "the form proposes the usual unit"
    page.fill("#quantity", quantity)
    page.select_option("#unit", "pallets")
    page.fill("#place", place)
    page.fill("#radius_km", radius)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "/new" not in page.url, page.inner_text("main")
    return str(page.url)


def text_of(message: Any) -> str:
    return str(message.get_body(("plain",)).get_content())


def reload_until(page: Any, url: str, text: str, timeout: float = 60) -> None:
    def shows() -> bool:
        page.goto(url)
        return text in page.content()

    try:
        wait_for(shows, timeout=timeout, interval=0.5, what=f"{text!r} on {url}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the page says: {page.inner_text('main')[:1500]}") from None


def test_from_a_match_to_a_completed_hand_over_in_two_languages(
    stack: ServiceStack, chromium: Any, sink: SmtpSink
) -> None:
    base = stack.base_url
    farm = register(chromium, base, "Hof Weber", "de", "Metz")
    confirm_address(farm, base, sink)
    offer_url = post(farm, base, "offer", "40 Europaletten", "40", "Metz", "0")
    canteen = register(chromium, base, "Cantine d'Esch", "fr", "Esch-sur-Alzette")
    confirm_address(canteen, base, sink)
    need_url = post(
        canteen, base, "need", "Palettes pour la cantine", "25", "Esch-sur-Alzette", "80"
    )

    reload_until(canteen, need_url, "· Hof Weber")  # matched, shown with its owner
    canteen.click("text=40 Europaletten")
    canteen.fill("#quantity", "15")
    canteen.fill("#message", "Pour la cantine, lundi ?")
    canteen.click("text=Envoyer la demande")
    canteen.wait_for_url(lambda url: "/exchanges/" in url)
    exchange_url = str(canteen.url)

    reload_until(farm, f"{base}/inbox", "Cantine d'Esch fragt nach")  # told in its inbox
    farm.click("text=Cantine d'Esch fragt nach")
    farm.click("text=Andere Bedingungen vorschlagen")
    farm.fill("#counter-quantity", "10")
    farm.click("text=Vorschlag senden")

    reload_until(canteen, exchange_url, "votre réponse est attendue")
    canteen.click("button:has-text('Accepter')")
    farm.goto(exchange_url)
    farm.fill("#message-text", "Lieferung Montag 8 Uhr")
    farm.click("form[action$='/message'] button")
    wait_for(
        lambda: any(exchange_url in text_of(m) for m in sink.to(canteen.email)),  # type: ignore[attr-defined]
        timeout=60,
        what="the e-mail to the canteen with a link to the thread",
    )
    reload_until(canteen, exchange_url, "Lieferung Montag 8 Uhr")
    canteen.fill("#message-text", "Merci, à lundi !")
    canteen.click("form[action$='/message'] button")
    reload_until(farm, exchange_url, "Merci, à lundi !")

    farm.fill("#handover-quantity", "10")
    farm.click("form[action$='/handover'] button")
    canteen.goto(exchange_url)
    canteen.fill("#handover-quantity", "10")
    canteen.click("form[action$='/handover'] button")
    assert "terminé" in canteen.content()

    farm.goto(offer_url)
    assert "noch 30" in farm.content() and "veröffentlicht" in farm.content()
    # What is left still matches other needs.
    shop = register(chromium, base, "Repair Café Luxembourg", "en", "Luxembourg")
    other_need = post(shop, base, "need", "Pallets for planters", "20", "Luxembourg", "80")
    reload_until(shop, other_need, "· Hof Weber")

    admin = chromium.new_context().new_page()
    admin.goto(f"{base}/login?lang=en")
    admin.fill("#email", "admin@example.org")
    admin.fill("#password", PASSWORD)
    admin.click("main form button[type=submit]")
    reload_until(admin, f"{base}/monitor/activity", "1 completed")
    admin.goto(f"{base}/monitor/impact")
    # 10 confirmed Euro pallets (25 kg each) over the 55 km from Metz to Esch-sur-Alzette.
    total = admin.inner_text("#impact tfoot tr, #impact tr:has-text('Total')")
    assert "0.250" in total, total
