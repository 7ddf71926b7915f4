"""Every page string exists in French, German and Luxembourgish, with the same placeholders as
the English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted(ROOT.glob("*/translations/*/LC_MESSAGES/messages.po"))
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


LANGUAGES = {"fr", "de", "lb"}  # English is the source


@pytest.mark.parametrize("package", ["listings", "notifications", "monitor", "shared"])
def test_every_package_has_a_french_german_and_luxembourgish_catalogue(package: str):
    languages = {path.parts[-3] for path in CATALOGUES if path.parts[-5] == package}
    assert languages == LANGUAGES


def test_the_pages_offer_every_catalogued_language():
    from shared.event_schemas import LANGUAGES as MEMBER_LANGUAGES
    from shared.i18n import SUPPORTED_LANGUAGES

    assert set(SUPPORTED_LANGUAGES) == LANGUAGES | {"en"}
    assert set(MEMBER_LANGUAGES) == LANGUAGES | {"en"}, "members and organisations may choose it"


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
