"""Every page in headless Chromium, checked by axe-core: no critical or serious violation.

axe-core (tests/e2e/vendor/axe-core, MPL-2.0) runs in each page as a member or an admin sees
it, at 1280 px; at 390 px (a phone) the page must not scroll sideways, and every radio button
and checkbox must sit on the line of its label. The pages are served and logged in as in
test_csp_browser.py: listings with a real login, notifications and the monitor with the
identity the edge forwards.
"""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from notifications.config import NotifierConfig
from services.notifications_web import create_app as notifications_app
from shared.auth import Principal
from shared.kafka_publish import KafkaPublisher, dead_letter
from shared.settings import Settings
from tests.conftest import fresh_database
from tests.e2e.test_csp_browser import PAGE_TIMEOUT_MS, chromium, served
from tests.edge_identity import identity_headers
from tests.integration.kafka_helpers import wait_for
from tests.integration.listings_client import listing_body, listings_app, register
from tests.integration.monitor_helpers import monitor_settings, running_monitor

__all__ = ["chromium"]  # the browser fixture, shared with the CSP test

AXE = Path(__file__).with_name("vendor") / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => v.impact === "critical" || v.impact === "serious")
    .map((v) => `${v.impact} ${v.id} (${v.help}): ` +
      v.nodes.slice(0, 4).map((n) => n.target.join(" ")).join(", "));
}"""
SIDEWAYS_PX = (
    """() => document.documentElement.scrollWidth - document.documentElement.clientWidth"""
)
#: Radio buttons and checkboxes whose label is not on their line (e.g. wrapped below).
LABELS_APART = """() => Array.from(document.querySelectorAll(
    "input[type=radio], input[type=checkbox]")).filter((box) => {
  const label = box.id && document.querySelector(`label[for="${box.id}"]`);
  if (!label || !box.offsetParent) { return false; }
  const a = box.getBoundingClientRect(), b = label.getBoundingClientRect();
  return b.top >= a.bottom || b.bottom <= a.top;
}).map((box) => box.id)"""
ADD_IMAGE_WITHOUT_ALT = """() => document.querySelector("main").insertAdjacentHTML(
    "beforeend", '<img src="/assets/none.png">')"""

pytestmark = [pytest.mark.postgres]


class Auditor:
    """A browser page that audits each page it opens and keeps what it finds."""

    def __init__(self, browser: Any) -> None:
        # axe is added as an inline script, which the pages' policy rightly refuses.
        self.context = browser.new_context(bypass_csp=True, viewport=DESKTOP)
        self.page = self.context.new_page()
        self.findings: list[str] = []
        self.audited: list[str] = []

    def open(self, url: str, identity: dict[str, str] | None = None, ready: str = "") -> None:
        self.page.set_viewport_size(DESKTOP)
        self.page.set_extra_http_headers(identity or {})
        response = self.page.goto(url, timeout=PAGE_TIMEOUT_MS)
        if response is None or not response.ok:
            self.findings.append(f"{url}: answered {response and response.status}")
            return
        if ready:
            self.page.wait_for_selector(ready, timeout=PAGE_TIMEOUT_MS)
        self.audit()

    def audit(self) -> None:
        """Audit the page as it is now (after a form came back with errors, say)."""
        page = self.page
        where = page.url.split("/", 3)[-1] or "/"
        self.audited.append(where)
        page.set_viewport_size(DESKTOP)
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.add_script_tag(path=str(AXE))
        self.findings += [f"/{where}: {found}" for found in page.evaluate(RUN_AXE)]
        self.findings += [
            f"/{where}: label apart at 1280 px: {b}" for b in page.evaluate(LABELS_APART)
        ]
        page.set_viewport_size(PHONE)
        sideways = page.evaluate(SIDEWAYS_PX)
        if sideways > 1:
            self.findings.append(f"/{where}: scrolls {sideways} px sideways at 390 px")
        self.findings += [
            f"/{where}: label apart at 390 px: {b}" for b in page.evaluate(LABELS_APART)
        ]
        page.set_viewport_size(DESKTOP)

    def close(self) -> None:
        self.context.close()


def test_member_pages_have_no_serious_accessibility_violation(
    chromium: Any, postgres_url: str, postgres_server_url: str
) -> None:
    listings = listings_app(postgres_url)
    api = listings.test_client()
    member = register(api, place="Metz", country="FR")
    posted = api.post(
        "/api/v1/listings", json=listing_body(title="Palettes a11y"), headers=member["headers"]
    )
    assert posted.status_code == 201, posted.get_json()
    listing_id = posted.get_json()["id"]

    auditor = Auditor(chromium)
    page = auditor.page
    with served(listings) as base:
        auditor.open(f"{base}/login")
        auditor.open(f"{base}/password/forgot")
        auditor.open(f"{base}/register")
        page.click("main form button[type=submit]")  # sent empty: every error at once
        page.wait_for_selector(".error-summary")
        auditor.audit()

        auditor.open(f"{base}/login")
        page.fill("#email", member["login"]["email"])
        page.fill("#password", member["login"]["password"])
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        assert "/login" not in page.url, "logged in"

        auditor.open(f"{base}/")
        auditor.open(f"{base}/listings?place=Metz&radius_km=50", ready=".leaflet-container")
        auditor.open(f"{base}/listings?place=Xyzzyville")
        auditor.open(f"{base}/listings/{listing_id}")
        auditor.open(f"{base}/listings/{listing_id}/edit")
        auditor.open(f"{base}/my/listings")
        auditor.open(f"{base}/account/tokens")
        auditor.open(f"{base}/exchanges")
        auditor.open(f"{base}/account")
        auditor.open(f"{base}/my/listings/import")
        auditor.open(f"{base}/api/v1/docs", ready=".swagger-ui .opblock")
        page.click("#operations-listings_api-get_api_v1_listings .opblock-summary-control")
        page.click("#operations-listings_api-get_api_v1_listings .try-out__btn")
        page.wait_for_selector("#operations-listings_api-get_api_v1_listings .execute")
        auditor.audit()  # an operation open, ready to try out

        auditor.open(f"{base}/listings/new")
        page.click("form:has(#title) button[type=submit]")
        page.wait_for_selector(".error-summary")
        # The summary has the focus, and each of its links leads to a field of the page.
        page.wait_for_function("document.activeElement.classList.contains('error-summary')")
        targets = page.eval_on_selector_all(
            ".error-summary a", "links => links.map(a => a.getAttribute('href'))"
        )
        assert "#kind-0" in targets
        for target in targets:
            assert page.locator(target).count() == 1, f"{target} leads nowhere"
        auditor.audit()

    with fresh_database(postgres_server_url) as notifications_url:
        settings = Settings(
            notifications_database_url=notifications_url,
            secret_key=listings.config["SECRET_KEY"],
            environment="test",
        )
        notifications = notifications_app(settings, NotifierConfig())
        as_member = identity_headers(
            Principal(member["organisation"]["id"], member["member_id"]), settings.secret_key
        )
        with served(notifications) as base:
            auditor.open(f"{base}/settings/notifications", as_member)
            auditor.open(f"{base}/inbox", as_member)
    auditor.close()

    assert len(auditor.audited) >= 21
    assert auditor.findings == []

    # The check sees a violation when there is one: an image without a text alternative.
    probe = Auditor(chromium)
    with served(listings) as base:
        probe.open(f"{base}/login")
        probe.page.evaluate(ADD_IMAGE_WITHOUT_ALT)
        probe.audit()
    probe.close()
    assert any("critical image-alt" in finding for finding in probe.findings), probe.findings


@pytest.mark.kafka
def test_monitor_views_have_no_serious_accessibility_violation(
    chromium: Any, kafka_bootstrap: str, topic_prefix: str
) -> None:
    with running_monitor(kafka_bootstrap, topic_prefix) as monitor, served(monitor) as base:
        as_admin = identity_headers(
            Principal("org-admin", "admin-1", "admin"), monitor.config["SECRET_KEY"]
        )
        auditor = Auditor(chromium)
        auditor.open(f"{base}/monitor", as_admin)
        auditor.open(f"{base}/monitor/tail", as_admin)
        auditor.open(f"{base}/monitor/dead-letters", as_admin)
        auditor.open(f"{base}/monitor/activity", as_admin, ready=".leaflet-container")
        auditor.open(f"{base}/monitor/impact", as_admin)
        auditor.open(dead_letter_page(kafka_bootstrap, topic_prefix, base, as_admin), as_admin)
        auditor.close()
    assert auditor.findings == []


def dead_letter_page(bootstrap: str, prefix: str, base: str, headers: dict[str, str]) -> str:
    """The address of one dead letter's page, once the monitor shows the letter."""
    topic = monitor_settings(bootstrap, prefix).topics.matches
    failed = SimpleNamespace(
        topic=topic, partition=0, offset=7, key=b"m-1", value=b"{not json", headers=[]
    )
    publisher = KafkaPublisher(bootstrap, "a11y-test")
    dead_letter(publisher, failed, "could not decode the event", 1, "notifier")
    publisher.flush(timeout_s=30)
    publisher.close()

    def listed() -> str | None:
        request = urllib.request.Request(f"{base}/monitor/dead-letters", headers=headers)
        with urllib.request.urlopen(request, timeout=10) as answer:
            page = answer.read().decode()
        found = re.search(r'href="(/monitor/dead-letters/[^"]+/\d+/\d+)"', page)
        return found.group(1) if found else None

    return base + wait_for(listed, timeout=30, what="the dead letter on the monitor")
