"""The category list of the pages: grouped by family, short labels, search terms for the
filter that /assets/category_picker.js adds on top (without JavaScript it is a plain grouped
<select>)."""

from __future__ import annotations

from typing import Any

from shared.category_search import terms
from shared.taxonomy import Taxonomy

#: One <option>: value, label and its extra attributes (WTForms' 3-tuple choice).
Choice = tuple[str, str, dict[str, Any]]


#: (taxonomy, lang, blank, everything) -> choices: the tree never changes while a process
#: runs, and building them (search terms of every category) cost ~3 ms on every page.
_CACHE: dict[tuple[int, str, str, str], tuple[Taxonomy, dict[str | None, list[Choice]]]] = {}


def grouped_choices(
    taxonomy: Taxonomy, lang: str, blank: str, everything: str
) -> dict[str | None, list[Choice]]:
    """The choices of `build_choices`, built once per taxonomy, language and wording."""
    key = (id(taxonomy), lang, blank, everything)
    cached = _CACHE.get(key)
    if cached is None or cached[0] is not taxonomy:
        cached = _CACHE[key] = (taxonomy, build_choices(taxonomy, lang, blank, everything))
    return cached[1]


def build_choices(
    taxonomy: Taxonomy, lang: str, blank: str, everything: str
) -> dict[str | None, list[Choice]]:
    """WTForms choices: ``blank`` first and no group, then one <optgroup> per family (the
    second level of the tree: "Packaging...", "Vegetables"), holding the family itself,
    labelled ``everything`` ("%(family)s (all)"), and everything below it. Roots, broader
    still, come right after ``blank``.

    An option shows its own label and EWC code, not its path, so that it fits on a phone;
    its group says where it belongs.
    """
    groups: dict[str | None, list[Choice]] = {None: [("", blank, {})]}
    for root in taxonomy.roots:
        groups[None].append(_choice(taxonomy, root, lang, everything))
    for root in taxonomy.roots:
        for family in taxonomy.children(root):
            group = _label(taxonomy, family, lang)
            options = [_choice(taxonomy, family, lang, everything)]
            below = sorted(taxonomy.descendants(family), key=_tree_position(taxonomy))
            options += [_choice(taxonomy, category_id, lang) for category_id in below]
            groups[group] = options
    return groups


def _label(taxonomy: Taxonomy, category_id: str, lang: str) -> str:
    category = taxonomy.get(category_id)
    label = taxonomy.label(category_id, lang)
    return f"{label} ({category.ewc})" if category.ewc else label


def _choice(taxonomy: Taxonomy, category_id: str, lang: str, everything: str = "") -> Choice:
    label = _label(taxonomy, category_id, lang)
    if everything:
        label = everything % {"family": label}
    return (category_id, label, {"data-terms": "|".join(terms(taxonomy, category_id, lang))})


def _tree_position(taxonomy: Taxonomy) -> Any:
    order = {category.id: position for position, category in enumerate(taxonomy.all())}
    return order.__getitem__
