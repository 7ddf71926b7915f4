"""Finding a category as people name it: everyday words in three languages and EWC codes."""

from __future__ import annotations

import pytest

from listings.category_picker import grouped_choices
from shared.category_search import category_of_code, ewc_code, search
from shared.taxonomy import Taxonomy


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy.load_default()


@pytest.mark.parametrize(
    ("typed", "lang", "expected"),
    [
        ("Kartoffeln", "de", "produce-vegetables-potatoes"),
        ("pommes de terre", "fr", "produce-vegetables-potatoes"),
        ("potatoes", "en", "produce-vegetables-potatoes"),
        ("patates", "fr", "produce-vegetables-potatoes"),
        ("ferraille", "fr", "ewc-170405"),
        ("Schrott", "de", "ewc-170405"),
        ("gravats", "fr", "ewc-170904"),
        ("Sperrmüll", "de", "ewc-200307"),
        ("sperrmull", "de", "ewc-200307"),
        ("rubble", "en", "ewc-170904"),
    ],
)
def test_everyday_words_find_their_category_first(
    taxonomy: Taxonomy, typed: str, lang: str, expected: str
) -> None:
    assert search(taxonomy, typed, lang)[0] == expected


@pytest.mark.parametrize(
    ("typed", "lang"), [("palettes", "fr"), ("Paletten", "de"), ("pallets", "en")]
)
def test_pallets_find_every_kind_of_pallet_and_wooden_packaging(
    taxonomy: Taxonomy, typed: str, lang: str
) -> None:
    found = search(taxonomy, typed, lang)
    assert {"reuse-pallets", "reuse-pallets-epal", "reuse-pallets-other", "ewc-150103"} <= set(
        found
    )
    # Pallets by their label come before wooden packaging, found by an everyday word.
    assert found[0].startswith("reuse-pallets")
    assert found.index("ewc-150103") > found.index("reuse-pallets-other")


def test_a_word_of_another_language_is_found_after_the_pages_own(taxonomy: Taxonomy) -> None:
    assert search(taxonomy, "Kartoffeln", "fr") == ["produce-vegetables-potatoes"]


@pytest.mark.parametrize("typed", ["15 01 03", "150103", "15-01-03", "EWC 15 01 03", " 15 0103 "])
def test_an_ewc_code_with_or_without_spaces_finds_its_category(
    taxonomy: Taxonomy, typed: str
) -> None:
    assert search(taxonomy, typed, "en") == ["ewc-150103"]
    assert category_of_code(taxonomy, typed) == "ewc-150103"


def test_the_beginning_of_a_code_finds_the_codes_it_starts(taxonomy: Taxonomy) -> None:
    found = search(taxonomy, "15 01", "de")
    assert found[0] == "ewc-1501"
    assert {"ewc-150101", "ewc-150103", "ewc-150107"} <= set(found)
    assert all(taxonomy.get(i).ewc.startswith("15 01") for i in found)  # type: ignore[union-attr]


def test_an_unknown_code_or_plain_word_is_no_category(taxonomy: Taxonomy) -> None:
    assert category_of_code(taxonomy, "15 01 99") is None
    assert ewc_code("palettes") is None
    assert search(taxonomy, "xyzzy", "fr") == []


def test_the_list_is_grouped_by_family_with_nothing_chosen_first(taxonomy: Taxonomy) -> None:
    groups = grouped_choices(taxonomy, "fr", "Choisir une catégorie", "%(family)s (tout)")
    loose = groups[None]
    assert loose[0][:2] == ("", "Choisir une catégorie")
    assert [value for value, _, _ in loose[1:]] == taxonomy.roots
    assert "Légumes" in groups and "Emballages, absorbants" in next(
        group for group in groups if group and group.endswith("(15)")
    )
    vegetables = groups["Légumes"]
    assert vegetables[0][:2] == ("produce-vegetables", "Légumes (tout)")
    assert ("produce-vegetables-potatoes", "Pommes de terre") in [c[:2] for c in vegetables]
    options = [choice for group in groups.values() for choice in group]
    assert len(options) == len(taxonomy) + 1  # every category once, plus the empty choice
    wooden = next(choice for choice in options if choice[0] == "ewc-150103")
    assert wooden[1] == "Emballages en bois (15 01 03)"
    assert "150103" in wooden[2]["data-terms"].split("|")
