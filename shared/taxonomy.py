"""The category tree: EU List of Waste materials, reusable goods and local produce.

Pure Python (standard library only), so every service and every test can use it. The tree
lives in ``shared/data/categories.json``; each node carries French, German and English labels.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

LANGUAGES = ("fr", "de", "en")
FALLBACK_LANGUAGE = "en"
#: Page languages without labels of their own in the tree, and whose labels they show instead:
#: Luxembourg's written everyday language beside Luxembourgish is German.
LABEL_FALLBACKS = {"lb": "de"}
PATH_SEPARATOR = " \u203a "  # single right-pointing angle quotation mark
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_EWC = re.compile(r"\d{2}(?: \d{2}){0,2}")


@dataclass(frozen=True, slots=True)
class Category:
    """One node of the tree. ``depth`` is 0 for a root."""

    id: str
    labels: Mapping[str, str] = field(hash=False)
    parent_id: str | None
    depth: int
    ewc: str | None = None
    hazardous: bool = False
    perishable: bool = False


def _fold(text: str) -> str:
    """Lower case without accents, so that "Béton" and "beton" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


class Taxonomy:
    """A validated, read-only category tree."""

    def __init__(self, categories: list[Category]) -> None:
        self._by_id = {c.id: c for c in categories}
        self._order = [c.id for c in categories]
        self._children: dict[str, list[str]] = {c.id: [] for c in categories}
        for c in categories:
            if c.parent_id is not None:
                self._children[c.parent_id].append(c.id)
        self._haystacks = {
            c.id: {lang: _fold(label) for lang, label in c.labels.items()} for c in categories
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Taxonomy:
        """Build from the JSON structure; ValueError names the first bad node."""
        roots = data.get("roots")
        if not isinstance(roots, list):
            raise ValueError("taxonomy data needs a list of 'roots'")
        categories: list[Category] = []
        seen: set[str] = set()
        stack: list[tuple[Any, Category | None]] = [(node, None) for node in reversed(roots)]
        while stack:
            node, parent = stack.pop()
            category = _category(node, parent, seen)
            categories.append(category)
            children = node.get("children", [])
            if not isinstance(children, list):
                raise ValueError(f"category {category.id!r}: 'children' must be a list")
            stack.extend((child, category) for child in reversed(children))
        return cls(categories)

    @classmethod
    def load_default(cls) -> Taxonomy:
        """The tree shipped in ``shared/data/categories.json``, read once per process."""
        return _default()

    def get(self, category_id: str) -> Category:
        try:
            return self._by_id[category_id]
        except KeyError:
            raise KeyError(f"unknown category: {category_id!r}") from None

    def __contains__(self, category_id: object) -> bool:
        return category_id in self._by_id

    def __len__(self) -> int:
        return len(self._order)

    def all(self) -> Iterator[Category]:
        """Every category, parents before their children, in file order."""
        return (self._by_id[i] for i in self._order)

    @property
    def roots(self) -> list[str]:
        return [i for i in self._order if self._by_id[i].parent_id is None]

    def children(self, category_id: str) -> list[str]:
        self.get(category_id)
        return list(self._children[category_id])

    def leaves(self) -> list[str]:
        return [i for i in self._order if not self._children[i]]

    def ancestors(self, category_id: str) -> list[str]:
        """Parent first, root last; the category itself is not included."""
        found: list[str] = []
        parent = self.get(category_id).parent_id
        while parent is not None:
            found.append(parent)
            parent = self._by_id[parent].parent_id
        return found

    def descendants(self, category_id: str) -> set[str]:
        """Every category below this one; the category itself is not included."""
        found: set[str] = set()
        pending = self.children(category_id)
        while pending:
            current = pending.pop()
            found.add(current)
            pending.extend(self._children[current])
        return found

    def relation(self, need_category: str, offer_category: str) -> str | None:
        """How a need's category covers an offer's: "same", "parent", "ancestor" or None."""
        if need_category == offer_category:
            self.get(need_category)
            return "same"
        lineage = self.ancestors(offer_category)
        self.get(need_category)
        if lineage and lineage[0] == need_category:
            return "parent"
        return "ancestor" if need_category in lineage else None

    def label(self, category_id: str, lang: str) -> str:
        labels = self.get(category_id).labels
        return labels.get(LABEL_FALLBACKS.get(lang, lang)) or labels[FALLBACK_LANGUAGE]

    def path_labels(self, category_id: str, lang: str, *, include_root: bool = False) -> str:
        """Labels from the top down (the root only if asked), joined by PATH_SEPARATOR."""
        lineage = [category_id, *self.ancestors(category_id)]
        if not include_root and len(lineage) > 1:
            lineage.pop()
        return PATH_SEPARATOR.join(self.label(i, lang) for i in reversed(lineage))

    def search(self, text: str, lang: str | None = None) -> list[str]:
        """Ids whose label (in ``lang``, or any language) or EWC code contains ``text``.

        Case and accents are ignored; "150103" finds "15 01 03". Results are in tree order.
        """
        needle = _fold(text.strip())
        if not needle:
            return []
        lang = LABEL_FALLBACKS.get(lang, lang) if lang else lang
        compact = needle.replace(" ", "")
        hits = []
        for i in self._order:
            labels = self._haystacks[i]
            texts = [labels.get(lang, "")] if lang in LANGUAGES else list(labels.values())
            ewc = self._by_id[i].ewc
            if any(needle in t for t in texts) or (
                ewc is not None and compact.isdigit() and compact in ewc.replace(" ", "")
            ):
                hits.append(i)
        return hits


def _category(node: Any, parent: Category | None, seen: set[str]) -> Category:
    where = f"under {parent.id!r}" if parent else "at the top"
    if not isinstance(node, Mapping) or not isinstance(node.get("id"), str):
        raise ValueError(f"category node without a string id {where}")
    cid = node["id"]
    if not _SLUG.fullmatch(cid):
        raise ValueError(f"category {cid!r}: id must be a lowercase ascii slug with hyphens")
    if cid in seen:
        raise ValueError(f"category {cid!r}: duplicate id")
    seen.add(cid)
    labels = node.get("labels")
    if not isinstance(labels, Mapping):
        raise ValueError(f"category {cid!r}: 'labels' must map languages to labels")
    for lang in LANGUAGES:
        value = labels.get(lang)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"category {cid!r}: missing or empty {lang!r} label")
    ewc = node.get("ewc")
    if ewc is not None and (not isinstance(ewc, str) or not _EWC.fullmatch(ewc)):
        raise ValueError(f"category {cid!r}: ewc code must look like '15 01 03'")
    inherited = parent.perishable if parent else False
    flags = {"hazardous": node.get("hazardous", False)}
    flags["perishable"] = node.get("perishable", inherited)
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise ValueError(f"category {cid!r}: {name!r} must be true or false")
    return Category(
        id=cid,
        labels=MappingProxyType({k: v for k, v in labels.items() if isinstance(v, str) and v}),
        parent_id=parent.id if parent else None,
        depth=parent.depth + 1 if parent else 0,
        ewc=ewc,
        **flags,
    )


@cache
def _default() -> Taxonomy:
    source = resources.files("shared").joinpath("data").joinpath("categories.json")
    return Taxonomy.from_dict(json.loads(source.read_text(encoding="utf-8")))
