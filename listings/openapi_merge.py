"""Several OpenAPI documents as one: paths, components and tags of each part added to a base.

A part's component whose name the document already uses for something else is renamed with
the part's prefix (`Alert` -> `NotificationsAlert`), and every reference inside the part is
rewritten, so two services may name their schemas alike. Components that are the same in
both (the shared error schema and answers) are kept once.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})

Document = dict[str, Any]
Key = tuple[str, str]  # (components section, name)


def merge(base: Document, parts: Mapping[str, Document]) -> tuple[Document, list[str]]:
    """`base` with every part added (inputs are not changed), and notes on what was left out."""
    document = copy.deepcopy(base)
    notes: list[str] = []
    for prefix, part in parts.items():
        notes.extend(_add_part(document, copy.deepcopy(part), prefix))
    return document, notes


def _add_part(document: Document, part: Document, prefix: str) -> list[str]:
    components = document.setdefault("components", {})
    renames = _renames(components, part.get("components", {}), prefix)
    _rewrite_refs(part, renames)
    _rename_security(
        part,
        {name: new for (section, name), new in renames.items() if section == "securitySchemes"},
    )
    for section, entries in part.get("components", {}).items():
        target = components.setdefault(section, {})
        for name, value in entries.items():
            target[renames.get((section, name), name)] = value
    notes = []
    paths = document.setdefault("paths", {})
    for path, item in part.get("paths", {}).items():
        existing = paths.setdefault(path, {})
        for key, operation in item.items():
            if key in existing and key in HTTP_METHODS:
                notes.append(f"{key.upper()} {path} of {prefix} is also in another part")
                continue
            existing.setdefault(key, operation)
    tags = document.setdefault("tags", [])
    known = {tag["name"] for tag in tags}
    tags.extend(tag for tag in part.get("tags", []) if tag["name"] not in known)
    return notes


def _renames(ours: Document, theirs: Document, prefix: str) -> dict[Key, str]:
    """New names for the part's components that clash with different ones of the document."""
    clashing: set[Key] = {
        (section, name)
        for section, entries in theirs.items()
        for name, value in entries.items()
        if name in ours.get(section, {}) and ours[section][name] != value
    }
    # A component equal to ours by its text but referring to a renamed one is not the same.
    grew = True
    while grew:
        grew = False
        for section, entries in theirs.items():
            for name, value in entries.items():
                key = (section, name)
                if key in clashing or name not in ours.get(section, {}):
                    continue
                if _refers_to(value, clashing):
                    clashing.add(key)
                    grew = True
    renames: dict[Key, str] = {}
    for section, name in sorted(clashing):
        taken = set(ours.get(section, {})) | set(theirs.get(section, {}))
        taken |= {new for (s, _), new in renames.items() if s == section}
        candidate, n = f"{prefix}{name}", 2
        while candidate in taken:
            candidate, n = f"{prefix}{name}{n}", n + 1
        renames[(section, name)] = candidate
    return renames


def _ref(section: str, name: str) -> str:
    return f"#/components/{section}/{name}"


def _refers_to(node: Any, keys: set[Key]) -> bool:
    refs = {_ref(section, name) for section, name in keys}
    found = False

    def visit(value: Any) -> None:
        nonlocal found
        if isinstance(value, dict):
            if value.get("$ref") in refs:
                found = True
            for child in value.values():
                visit(child)
        elif isinstance(value, list):
            for child in value:
                visit(child)

    visit(node)
    return found


def _rewrite_refs(node: Any, renames: dict[Key, str]) -> None:
    targets = {_ref(section, name): _ref(section, new) for (section, name), new in renames.items()}

    def visit(value: Any) -> None:
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str) and ref in targets:
                value["$ref"] = targets[ref]
            for child in value.values():
                visit(child)
        elif isinstance(value, list):
            for child in value:
                visit(child)

    if targets:
        visit(node)


def _rename_security(part: Document, renames: dict[str, str]) -> None:
    # Security requirements name their scheme as a key, not with a $ref.
    if not renames:
        return

    def renamed(requirements: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{renames.get(k, k): v for k, v in r.items()} for r in requirements]

    if "security" in part:
        part["security"] = renamed(part["security"])
    for item in part.get("paths", {}).values():
        for key, operation in item.items():
            if key in HTTP_METHODS and "security" in operation:
                operation["security"] = renamed(operation["security"])
