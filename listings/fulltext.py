"""Words in a listing's title and description, found in French, German and English.

PostgreSQL: each listing row keeps a `search_vector` (migration 0010), the title and
description stemmed by the Snowball stemmers of the three languages and joined, with a GIN
index; a query is stemmed the same three ways and matches if one of them does. So
"palette" finds "Palettes" (French stem "palet") and "Paletten" (German stem "palett").

SQLite (the one-machine `make run`): no stemming in the database, so each query word is
stemmed here with the same Snowball algorithms and looked for as a substring of the title
and description, case-insensitively for ASCII letters. It finds what PostgreSQL finds for
plain inflections, and a little more: a stem inside a longer word ("palet" in
"Europalette") matches here and not there.
"""

from __future__ import annotations

import re

import snowballstemmer
from sqlalchemy import ColumnElement, and_, func, literal_column, or_
from sqlalchemy.sql.expression import ColumnClause

from listings.tables import ListingRow

LANGUAGES = ("english", "french", "german")
_WORD = re.compile(r"\w+")
# Shorter words are mostly articles and prepositions, which PostgreSQL drops as stop words.
_MIN_WORD = 3


def search_vector() -> ColumnClause[object]:
    """The PostgreSQL-only column (not mapped: SQLite has no such type)."""
    return literal_column("listings.search_vector")


def postgres_match(text: str) -> ColumnElement[bool]:
    """The row's words match `text` in at least one of the three languages."""
    queries = [
        func.websearch_to_tsquery(literal_column(f"'{lang}'::regconfig"), text)
        for lang in LANGUAGES
    ]
    combined: ColumnElement[object] = queries[0]
    for query in queries[1:]:
        combined = combined.op("||")(query)
    return search_vector().bool_op("@@")(combined)


def fallback_match(text: str) -> ColumnElement[bool]:
    """Every word of `text` appears, as one of its stems, in the title or description."""
    words = [word.lower() for word in _WORD.findall(text)]
    words = [word for word in words if len(word) >= _MIN_WORD] or words
    if not words:
        return and_(True)
    document = func.lower(ListingRow.title + " " + func.coalesce(ListingRow.description, ""))
    return and_(
        *(
            or_(*(document.like(f"%{_escaped(stem)}%", escape="\\") for stem in stems(word)))
            for word in words
        )
    )


def stems(word: str) -> list[str]:
    """The word's distinct stems in the three languages, none containing another."""
    found = sorted({_stemmer(lang).stemWord(word.lower()) or word for lang in LANGUAGES}, key=len)
    kept: list[str] = []
    for stem in found:
        if not any(shorter in stem for shorter in kept):
            kept.append(stem)
    return kept


def _stemmer(language: str) -> snowballstemmer.stemmer:
    # A stemmer keeps state while it works: one per call, as requests run in threads.
    return snowballstemmer.stemmer(language)


def _escaped(stem: str) -> str:
    return stem.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
