"""Every page string exists in French and German, with the same placeholders as the English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted(ROOT.glob("*/translations/*/LC_MESSAGES/messages.po"))
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def test_french_and_german_catalogues_exist_for_the_listings_pages():
    languages = {path.parts[-3] for path in CATALOGUES if path.parts[-5] == "listings"}
    assert languages == {"fr", "de"}


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_message_is_translated_with_its_placeholders(path: Path):
    with path.open("rb") as po_file:
        catalogue = read_po(po_file)
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"untranslated in {path.name}: {ids[0]!r}"
        assert not message.fuzzy, f"fuzzy in {path.name}: {ids[0]!r}"
        expected = set(PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) <= expected | set(PLACEHOLDER.findall(ids[0])), (
                f"placeholders differ in {path.name}: {ids[0]!r} -> {text!r}"
            )
