"""The category picker in Chromium: typing narrows the list by word or EWC code in the page's
language, what is chosen stays chosen through any filtering, and the form sends it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_csp_browser import PAGE_TIMEOUT_MS, chromium, served
from tests.integration.listings_client import listings_app

__all__ = ["chromium"]  # the browser fixture, shared with the CSP test

pytestmark = [pytest.mark.postgres]
OPTIONS = "select => Array.from(select.options).map(option => option.value)"
CHOSEN = "select => Array.from(select.selectedOptions).map(option => option.value)"


def test_typing_narrows_the_list_and_the_choice_is_kept_and_sent(
    chromium: Any, postgres_url: str
) -> None:
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    with served(listings_app(postgres_url)) as base:
        page.goto(f"{base}/listings?lang=de", timeout=PAGE_TIMEOUT_MS)
        search = page.get_by_label("Kategorie finden: ein Wort oder ein Abfallschlüssel (15 01 03)")
        everything = page.eval_on_selector("#category", OPTIONS)

        search.fill("Kartoffeln")
        assert page.eval_on_selector("#category", OPTIONS) == ["", "produce-vegetables-potatoes"]
        assert page.inner_text(".category-filter [role=status]") == "Eine Kategorie passt."
        page.select_option("#category", "produce-vegetables-potatoes")

        search.fill("150103")  # a code without its spaces; the choice made stays in the list
        assert page.eval_on_selector("#category", OPTIONS) == [
            "",
            "ewc-150103",
            "produce-vegetables-potatoes",
        ]
        assert page.eval_on_selector("#category", CHOSEN) == ["produce-vegetables-potatoes"]

        search.fill("Paletten")
        found = page.eval_on_selector("#category", OPTIONS)
        assert {"reuse-pallets", "reuse-pallets-epal", "ewc-150103"} <= set(found)

        search.fill("")
        assert page.eval_on_selector("#category", OPTIONS) == everything
        assert page.eval_on_selector("#category", CHOSEN) == ["produce-vegetables-potatoes"]
        with page.expect_navigation():
            page.click("form.search button[type=submit]")
        assert "category=produce-vegetables-potatoes" in page.url
    context.close()
