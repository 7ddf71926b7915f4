"""Finding a category the way people name it: everyday words in their language, or its EWC
code as written on a waste transfer note ("15 01 03", "150103").

Pure Python over :class:`shared.taxonomy.Taxonomy`, so the pages (the picker's search terms),
the API (an EWC code given as a category) and tests share one notion of what matches.
"""

from __future__ import annotations

import re
import unicodedata

from shared.taxonomy import LANGUAGES, Taxonomy

# Everyday words that are not in a category's label, by language. Children inherit their
# family's words only through their own labels: "palette" finds every kind of pallet because
# each label says so; the words here fill what the official labels do not say.
WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "reuse-pallets": {
        "fr": ("palette europe", "europalette"),
        "de": ("palette", "europalette", "holzpalette"),
        "en": ("pallet", "skid"),
    },
    "reuse-pallets-epal": {"fr": ("europe",), "de": ("europalette",), "en": ("euro pallet",)},
    "reuse-containers-ibc": {
        "fr": ("cuve 1000 l", "conteneur", "citerne"),
        "de": ("tank", "1000 l", "tankcontainer"),
        "en": ("tote", "1000 l", "tank"),
    },
    "reuse-containers-crates": {
        "fr": ("cagette", "caisse"),
        "de": ("obstkiste", "gemüsekiste"),
        "en": ("crate",),
    },
    "reuse-furniture-office": {
        "fr": ("bureau", "chaise", "armoire"),
        "de": ("schreibtisch", "stuhl", "schrank"),
        "en": ("desk", "chair", "cabinet"),
    },
    "reuse-construction-timber": {
        "fr": ("planches", "poutres", "contreplaqué"),
        "de": ("bretter", "balken", "sperrholz"),
        "en": ("planks", "beams", "plywood"),
    },
    "reuse-it-computers": {
        "fr": ("pc", "ordinateur portable"),
        "de": ("pc", "notebook", "rechner"),
        "en": ("pc", "notebook"),
    },
    "ewc-150101": {"fr": ("carton", "cartons"), "de": ("karton", "kartonagen"), "en": ("boxes",)},
    "ewc-150102": {
        "fr": ("plastique", "film étirable", "sacs"),
        "de": ("plastik", "folie", "stretchfolie"),
        "en": ("plastic film", "wrap", "bags"),
    },
    "ewc-150103": {
        "fr": ("palette", "palettes", "cagette", "caisse en bois"),
        "de": ("palette", "paletten", "holzpalette", "holzkiste"),
        "en": ("pallet", "pallets", "crate"),
    },
    "ewc-160103": {"fr": ("pneus",), "de": ("reifen",), "en": ("tires", "tyres")},
    "ewc-160214": {"fr": ("deee",), "de": ("elektroschrott",), "en": ("e-waste", "weee")},
    "ewc-170405": {"fr": ("ferraille",), "de": ("schrott",), "en": ("scrap metal",)},
    "ewc-170504": {"fr": ("terre", "remblai"), "de": ("erde", "aushub"), "en": ("soil", "dirt")},
    "ewc-170904": {"fr": ("gravats",), "de": ("bauschutt",), "en": ("rubble",)},
    "ewc-200108": {
        "fr": ("biodéchets", "restes alimentaires"),
        "de": ("bioabfall", "essensreste"),
        "en": ("food waste", "leftovers"),
    },
    "ewc-200110": {
        "fr": ("habits", "textile"),
        "de": ("kleidung", "altkleider"),
        "en": ("clothing", "garments"),
    },
    "ewc-200125": {
        "fr": ("huile de friture",),
        "de": ("frittierfett", "altspeiseöl"),
        "en": ("cooking oil", "frying oil"),
    },
    "ewc-200136": {"fr": ("deee", "électroménager"), "de": ("elektroschrott",), "en": ("weee",)},
    "ewc-200201": {
        "fr": ("déchets verts", "tonte"),
        "de": ("grünschnitt", "rasenschnitt"),
        "en": ("green waste", "grass cuttings"),
    },
    "ewc-200307": {"fr": ("encombrants", "meubles"), "de": ("sperrmüll",), "en": ("bulky",)},
    "produce-vegetables-potatoes": {
        "fr": ("patates",),
        "de": ("erdäpfel", "grumbeeren"),
        "en": ("spuds",),
    },
    "produce-bakery-bread": {"fr": ("baguette",), "de": ("brötchen",), "en": ("loaves",)},
}

_EWC_CODE = re.compile(r"^(?:ewc[\s-]*)?(\d{2})\s*(\d{2})?\s*(\d{2})?\*?$", re.IGNORECASE)


def fold(text: str) -> str:
    """Lower case, no accents, single spaces: how search terms and queries are compared."""
    text = text.casefold().replace("ß", "ss").replace("œ", "oe")
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain).split())


def ewc_code(text: str) -> str | None:
    """The EWC code written in ``text`` as "15 01 03" (from "150103", "15 01 03", "15-01-03",
    "EWC 15 01 03"), or None if ``text`` is no EWC code."""
    match = _EWC_CODE.match(re.sub(r"[.-]", " ", text.strip()))
    if match is None or (match[3] and not match[2]):
        return None
    return " ".join(part for part in match.groups() if part)


def category_of_code(taxonomy: Taxonomy, text: str) -> str | None:
    """The category whose EWC code ``text`` is, or None (no such code in the tree)."""
    code = ewc_code(text)
    if code is None:
        return None
    return next((c.id for c in taxonomy.all() if c.ewc == code), None)


def terms(taxonomy: Taxonomy, category_id: str, lang: str) -> list[str]:
    """What a category can be found by, folded: its labels (the page's language first), its
    everyday words and its EWC code with and without spaces."""
    category = taxonomy.get(category_id)
    order = [lang, *(other for other in LANGUAGES if other != lang)]
    # taxonomy.label: a page language without labels of its own shows another's.
    found = [taxonomy.label(category_id, lang)]
    found += [category.labels.get(language, "") for language in order]
    words = WORDS.get(category_id, {})
    found += [word for language in order for word in words.get(language, ())]
    if category.ewc:
        found += [category.ewc, category.ewc.replace(" ", "")]
    return list(dict.fromkeys(folded for text in found if (folded := fold(text))))


def search(taxonomy: Taxonomy, text: str, lang: str) -> list[str]:
    """Categories matching what someone typed, best first: an EWC code, then labels, then
    everyday words of the page's language, then those of the other languages; tree order
    within each.

    Every word typed must begin a word of the category's terms ("kart" finds "Kartoffeln"), or
    from five letters on lie inside one (German compounds: "paletten" in "Mehrwegpaletten");
    an EWC code, complete or its beginning ("15 01"), finds the codes it starts.
    """
    query = fold(text)
    if not query:
        return []
    code = ewc_code(text)
    ranked: list[tuple[int, int, str]] = []
    for position, category in enumerate(taxonomy.all()):
        if code is not None:
            if category.ewc and category.ewc.startswith(code):
                ranked.append((0, position, category.id))
            continue
        label, words, other = _split_terms(taxonomy, category.id, lang)
        # Words begun before words only contained; then label, everyday word, other language.
        tiers = [(infix, terms) for infix in (False, True) for terms in (label, words, other)]
        tier = next(
            (n for n, (infix, terms) in enumerate(tiers, 1) if _matches(query, terms, infix)), 0
        )
        if tier:
            ranked.append((tier, position, category.id))
    return [category_id for _, _, category_id in sorted(ranked)]


def _split_terms(
    taxonomy: Taxonomy, category_id: str, lang: str
) -> tuple[list[str], list[str], list[str]]:
    """The label in ``lang``, the everyday words in ``lang``, then both in other languages."""
    category = taxonomy.get(category_id)
    words = WORDS.get(category_id, {})
    label = [fold(taxonomy.label(category_id, lang))]
    own = [fold(word) for word in words.get(lang, ())]
    other = [
        fold(text)
        for language in LANGUAGES
        if language != lang
        for text in (category.labels.get(language, ""), *words.get(language, ()))
    ]
    return label, own, other


def _matches(query: str, haystacks: list[str], infix: bool) -> bool:
    words = query.split()
    return any(
        all(any(_word_matches(typed, word, infix) for word in haystack.split()) for typed in words)
        for haystack in haystacks
        if haystack
    )


def _word_matches(typed: str, word: str, infix: bool) -> bool:
    return word.startswith(typed) or (infix and len(typed) >= MIN_INFIX and typed in word)


MIN_INFIX = 5
