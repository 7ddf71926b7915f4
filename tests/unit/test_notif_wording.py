"""Why a match went reads in the reader's language, whoever wrote the reason: the readers of
the matches topic ("offer reserved") or the matcher when a pair stops fitting."""

from __future__ import annotations

import pytest

from matching import rules
from notifications.mail import catalogue
from notifications.wording import retraction_label

MATCHER_REASONS = [
    rules.NOT_A_PAIR,
    rules.SAME_ORGANISATION,
    rules.CATEGORY_MISFIT,
    rules.EXPIRED,
    rules.WINDOWS_APART,
    rules.QUANTITY_SHORT,
    rules.PRICE_TOO_HIGH,
    rules.OUT_OF_RANGE,
]
LISTING_REASONS = [
    f"{kind} {change}"
    for kind in ("offer", "need")
    for change in ("reserved", "closed", "withdrawn", "expired", "updated")
]


def test_a_reservation_reaches_german_french_and_luxembourgish_readers_in_their_language():
    def shown(language: str) -> str:
        return retraction_label("offer reserved", catalogue(language).gettext)

    assert shown("de") == "das Angebot ist reserviert"
    assert shown("fr") == "l\u2019offre est réservée"
    assert shown("lb") == "d'Offer ass reservéiert"


@pytest.mark.parametrize("language", ["fr", "de", "lb"])
@pytest.mark.parametrize("reason", LISTING_REASONS + MATCHER_REASONS)
def test_no_reason_is_shown_as_its_english_code(language: str, reason: str):
    shown = retraction_label(reason, catalogue(language).gettext)
    assert shown and shown != reason
    assert shown != retraction_label(reason, catalogue("en").gettext)
