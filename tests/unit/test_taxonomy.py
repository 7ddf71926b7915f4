"""The category tree: its content, its navigation and the checks made when it is loaded."""

import copy
import json
import re
from importlib import resources

import pytest

from shared.taxonomy import PATH_SEPARATOR, Category, Taxonomy


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy.load_default()


def small_tree() -> dict:
    """A tree of three generations, built by hand, for the loader tests."""

    def node(id_: str, *children: dict) -> dict:
        labels = {"fr": f"{id_} fr", "de": f"{id_} de", "en": f"{id_} en"}
        return {"id": id_, "labels": labels, "children": list(children)}

    return {"version": 1, "roots": [node("top", node("middle", node("bottom")))]}


# The shipped content


def test_the_tree_has_a_materials_root_and_a_produce_root(taxonomy):
    assert taxonomy.roots == ["materials", "produce"]


def test_wooden_packaging_sits_under_packaging_with_its_official_code(taxonomy):
    wooden = taxonomy.get("ewc-150103")
    assert wooden.ewc == "15 01 03"
    assert wooden.parent_id == "ewc-1501"
    assert wooden.depth == 3
    assert wooden.hazardous is False
    assert taxonomy.label("ewc-1501", "en") == "Packaging"
    assert taxonomy.label("ewc-150103", "de") == "Verpackungen aus Holz"
    assert taxonomy.label("ewc-150103", "fr") == "Emballages en bois"
    assert taxonomy.ancestors("ewc-150103") == ["ewc-1501", "ewc-15", "materials"]


def test_every_ewc_code_is_the_dotted_form_of_its_id_and_nests_in_its_parents_code(taxonomy):
    coded = [c for c in taxonomy.all() if c.ewc is not None]
    assert len(coded) > 60
    for category in coded:
        assert category.id == "ewc-" + category.ewc.replace(" ", "")
        assert re.fullmatch(r"\d{2}( \d{2}){0,2}", category.ewc)
        parent = taxonomy.get(category.parent_id)
        if len(category.ewc) == 2:
            assert parent.id == "materials"
        else:
            assert category.ewc.startswith(parent.ewc + " ")


def test_six_digit_entries_are_leaves_and_carry_an_explicit_hazard_flag(taxonomy):
    entries = [c for c in taxonomy.all() if c.ewc is not None and len(c.ewc) == 8]
    assert 40 <= len(entries) <= 80
    data = json.loads(resources.files("shared").joinpath("data/categories.json").read_text())

    def raw_nodes(nodes):
        for node in nodes:
            yield node
            yield from raw_nodes(node.get("children", []))

    raw = {node["id"]: node for node in raw_nodes(data["roots"])}
    for entry in entries:
        assert taxonomy.children(entry.id) == []
        assert raw[entry.id]["hazardous"] is False


def test_reusable_goods_sit_beside_the_waste_chapters_without_a_code(taxonomy):
    assert "reuse" in taxonomy.children("materials")
    assert "reuse-pallets-epal" in taxonomy.descendants("reuse")
    assert all(taxonomy.get(i).ewc is None for i in taxonomy.descendants("reuse"))


def test_every_node_has_non_empty_french_german_and_english_labels(taxonomy):
    for category in taxonomy.all():
        for lang in ("fr", "de", "en"):
            assert category.labels[lang].strip(), (category.id, lang)


def test_ids_are_unique_lowercase_ascii_slugs(taxonomy):
    ids = [c.id for c in taxonomy.all()]
    assert len(ids) == len(set(ids)) == len(taxonomy)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", i) for i in ids)


def test_fresh_produce_is_perishable_but_honey_and_wine_are_not(taxonomy):
    assert taxonomy.get("produce-dairy-milk").perishable
    assert taxonomy.get("produce-vegetables-root").perishable
    assert not taxonomy.get("produce-honey").perishable
    assert not taxonomy.get("produce-drinks-wine").perishable
    assert not taxonomy.get("ewc-170101").perishable


def test_loading_twice_gives_the_same_cached_tree():
    assert Taxonomy.load_default() is Taxonomy.load_default()


# Navigation


def test_descendants_of_vegetables_include_root_vegetables_but_not_vegetables_itself(taxonomy):
    below = taxonomy.descendants("produce-vegetables")
    assert "produce-vegetables-root" in below
    assert "produce-vegetables" not in below
    assert "produce-fruit-apples" not in below


def test_a_leaf_has_no_descendants_and_appears_among_the_leaves(taxonomy):
    assert taxonomy.descendants("produce-fruit-apples") == set()
    assert "produce-fruit-apples" in taxonomy.leaves()
    assert "produce-fruit" not in taxonomy.leaves()


def test_children_are_listed_in_file_order(taxonomy):
    assert taxonomy.children("ewc-1501")[:3] == ["ewc-150101", "ewc-150102", "ewc-150103"]


def test_a_need_for_the_offers_own_category_is_the_same(taxonomy):
    assert taxonomy.relation("ewc-150103", "ewc-150103") == "same"


def test_a_need_for_the_offers_parent_category_is_its_parent(taxonomy):
    assert taxonomy.relation("ewc-1501", "ewc-150103") == "parent"


def test_a_need_for_a_category_further_up_is_an_ancestor(taxonomy):
    assert taxonomy.relation("ewc-15", "ewc-150103") == "ancestor"
    assert taxonomy.relation("materials", "ewc-150103") == "ancestor"


def test_a_need_below_or_beside_the_offer_does_not_cover_it(taxonomy):
    assert taxonomy.relation("ewc-150103", "ewc-1501") is None
    assert taxonomy.relation("ewc-170201", "ewc-150103") is None
    assert taxonomy.relation("produce", "ewc-150103") is None


def test_unknown_categories_raise_key_error(taxonomy):
    assert "no-such-category" not in taxonomy
    with pytest.raises(KeyError, match="no-such-category"):
        taxonomy.get("no-such-category")
    with pytest.raises(KeyError):
        taxonomy.relation("no-such-category", "ewc-150103")


def test_a_label_in_an_unknown_language_falls_back_to_english(taxonomy):
    assert taxonomy.label("produce-honey", "it") == "Honey"
    assert taxonomy.label("produce-honey", "de") == "Honig"


def test_luxembourgish_pages_show_and_search_the_german_labels(taxonomy):
    # The tree has no Luxembourgish labels; readers of Luxembourgish read German every day.
    assert taxonomy.label("produce-honey", "lb") == "Honig"
    assert "produce-honey" in taxonomy.search("honig", "lb")


def test_path_labels_run_from_below_the_root_down_to_the_category(taxonomy):
    assert taxonomy.path_labels("produce-vegetables-root", "en") == (
        f"Vegetables{PATH_SEPARATOR}Root vegetables"
    )
    assert taxonomy.path_labels("ewc-150103", "en").endswith(
        f"Packaging{PATH_SEPARATOR}Wooden packaging"
    )
    assert taxonomy.path_labels("produce-honey", "fr", include_root=True) == (
        f"Produits locaux{PATH_SEPARATOR}Miel"
    )


# Search


def test_search_ignores_case_and_accents(taxonomy):
    assert "ewc-170201" in taxonomy.search("bois", "fr")
    assert "ewc-170201" in taxonomy.search("holz", "de")
    assert "ewc-170101" in taxonomy.search("beton", "fr")
    assert "produce-dairy-cheese" in taxonomy.search("KASE", "de")


def test_search_in_one_language_ignores_the_others(taxonomy):
    assert "ewc-170201" not in taxonomy.search("holz", "fr")
    assert "ewc-170201" in taxonomy.search("holz")


def test_search_finds_an_ewc_code_with_or_without_spaces(taxonomy):
    assert taxonomy.search("15 01 03") == ["ewc-150103"]
    assert taxonomy.search("150103") == ["ewc-150103"]


def test_search_for_nothing_finds_nothing(taxonomy):
    assert taxonomy.search("   ", "en") == []


# Validation on load


def test_a_hand_built_tree_loads_with_parents_and_depths():
    tree = Taxonomy.from_dict(small_tree())
    assert tree.get("bottom") == Category(
        id="bottom",
        labels={"fr": "bottom fr", "de": "bottom de", "en": "bottom en"},
        parent_id="middle",
        depth=2,
    )
    assert tree.relation("top", "bottom") == "ancestor"


def test_the_loader_rejects_a_duplicate_id_and_names_it():
    data = small_tree()
    data["roots"].append(copy.deepcopy(data["roots"][0]["children"][0]))
    with pytest.raises(ValueError, match="'middle': duplicate id"):
        Taxonomy.from_dict(data)


@pytest.mark.parametrize("lang", ["fr", "de", "en"])
def test_the_loader_rejects_a_node_missing_a_label_and_names_it(lang):
    data = small_tree()
    del data["roots"][0]["children"][0]["children"][0]["labels"][lang]
    with pytest.raises(ValueError, match=f"'bottom': missing or empty '{lang}' label"):
        Taxonomy.from_dict(data)


def test_the_loader_rejects_a_blank_label():
    data = small_tree()
    data["roots"][0]["labels"]["de"] = "  "
    with pytest.raises(ValueError, match="'top': missing or empty 'de' label"):
        Taxonomy.from_dict(data)


def test_the_loader_rejects_an_id_that_is_not_a_slug():
    data = small_tree()
    data["roots"][0]["id"] = "Top Level"
    with pytest.raises(ValueError, match="'Top Level'"):
        Taxonomy.from_dict(data)


def test_the_loader_rejects_a_malformed_ewc_code():
    data = small_tree()
    data["roots"][0]["ewc"] = "150103"
    with pytest.raises(ValueError, match="'top': ewc code"):
        Taxonomy.from_dict(data)


def test_each_category_has_a_usual_unit_from_itself_or_its_nearest_ancestor() -> None:
    from shared.units import usual_unit

    taxonomy = Taxonomy.load_default()

    def of(category: str) -> str:
        return usual_unit([category, *taxonomy.ancestors(category)])

    assert of("reuse-pallets-epal") == "pallets"
    assert of("produce-fruit-apples") == "kg"
    assert of("produce-dairy-milk") == "l"
    assert of("ewc-170201") == "m3"
    assert of("ewc-170405") == "t"
    assert of("ewc-200110") == "kg"
