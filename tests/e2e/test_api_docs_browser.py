"""The API reference page in headless Chromium: a reader authorizes with their organisation's
token, tries an operation that needs it, and is still authorized after reloading the page;
the page runs under its Content-Security-Policy with nothing refused."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import IN_CI
from tests.e2e.test_monitor_browser import CHROMIUM, LAUNCH_ARGS
from tests.integration.api_services import served
from tests.integration.listings_client import listings_app, register

pytestmark = pytest.mark.postgres
TIMEOUT_MS = 20_000
ME = "/api/v1/organisations/me"


@pytest.fixture
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


def nothing_listening() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def try_me(page: Any) -> str:
    """Run GET /api/v1/organisations/me from the page; the status code it shows."""
    block = page.locator(".opblock.opblock-get", has=page.locator(f'[data-path="{ME}"]'))
    if "is-open" not in (block.get_attribute("class") or ""):  # deep links reopen it
        block.locator(".opblock-summary-path").click()
    block.locator("button.try-out__btn").click()
    block.locator("button.execute").click()
    status = block.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for(timeout=TIMEOUT_MS)
    return str(status.inner_text()).strip()


def test_a_reader_authorizes_once_and_calls_the_api_from_the_page(
    browser: Any, postgres_url: str, monkeypatch: pytest.MonkeyPatch
):
    # Only listings runs here: the reference names the two other parts as missing.
    monkeypatch.setenv("NOTIFICATIONS_URL", nothing_listening())
    monkeypatch.setenv("MONITOR_URL", nothing_listening())
    app = listings_app(postgres_url)
    token = register(app.test_client())["api_token"]
    context = browser.new_context()
    page = context.new_page()
    refused: list[str] = []

    def watch(message: Any) -> None:
        if "Refused" in message.text or "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", watch)
    with served(app) as base:
        page.goto(f"{base}/api/v1/docs", timeout=TIMEOUT_MS)
        page.wait_for_selector(".swagger-ui .opblock", timeout=TIMEOUT_MS)
        assert page.evaluate("document.documentElement.lang") == "en"
        assert try_me(page) == "401"

        page.click("button.btn.authorize")
        page.fill('input[aria-label="auth-bearer-value"]', token)
        page.click(".auth-btn-wrapper button.authorize")
        page.click(".auth-btn-wrapper button.btn-done")
        page.reload(timeout=TIMEOUT_MS)  # the token is kept (persistAuthorization)
        page.wait_for_selector(".swagger-ui .opblock", timeout=TIMEOUT_MS)
        assert try_me(page) == "200"
    assert refused == []
    context.close()
