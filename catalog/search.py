"""The customer's search: every word of the query, accents, case and plurals aside.

Each word becomes one regular expression that tolerates accents (each vowel, n and c stand for
their accented forms, both cases) and number (the word is cut to what its singular and plural
share). The same expression is matched in Python against the category names and search words
(a small table, read once) and in the database (``iregex``, which PostgreSQL and Django's SQLite
both have) against the product's name and description: no extension, one query for the
categories.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import Q, QuerySet

from catalog.models import Category, Product

# Letters customers type with or without their accent; the key is the folded form.
_ACCENTED = "áàâäãåéèêëíìîïóòôöõúùûüñçý"
_VARIANTS: dict[str, set[str]] = {}
for _letter in _ACCENTED + _ACCENTED.upper():
    _base = unicodedata.normalize("NFKD", _letter)[0].lower()
    _VARIANTS.setdefault(_base, {_base, _base.upper()}).add(_letter)
# Spanish words in -y pluralise in -is (jersey, jerséis): a final i or y stands for both.
_FINAL_IY = _VARIANTS["i"] | _VARIANTS["y"]

# Joining words that say nothing about the product; "vestido de verano" must still find
# "Vestido verano azul". A query of only such words keeps them.
STOP_WORDS = frozenset(
    {"a", "al", "con", "de", "del", "e", "el", "en", "la", "las", "lo", "los", "o", "para"}
    | {"por", "u", "un", "una", "y", "an", "and", "for", "in", "of", "on", "or", "the", "with"}
)
# the start of the text or a character that is not a letter, digit or _ (\W is the same in
# PostgreSQL's regular expressions and Python's; \b and \m are not)
WORD_START = r"(^|\W)"
MAX_RELAXED_WORDS = 8  # words tried one by one when a search found nothing
# what a word is looked for in, of each category
CATEGORY_TEXT = ("name_es", "name_en", "keywords")
WORD = re.compile(r"\w+(?:[-'.]\w+)*")


def fold(text: str) -> str:
    """Lower case without accents: "Jerséis" → "jerseis"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(query: str) -> list[str]:
    """The query's words, folded, without repeats or joining words. Composed first: typed
    decomposed ("a" + a combining accent, as macOS may), a word split at its accent."""
    composed = unicodedata.normalize("NFC", query)
    found = list(dict.fromkeys(fold(w) for w in WORD.findall(composed)))
    return [w for w in found if w not in STOP_WORDS] or found


def stem(word: str) -> str:
    """What a word's singular and plural share: a trailing "es", else "s", goes (pantalones,
    botines, vestidos, dresses → pantalon, botin, vestido, dress), never below three letters.
    Cutting "es" is safe even where the singular ends in -e (trajes → traj, a prefix of traje),
    because the result is matched as a substring."""
    for suffix in ("es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def pattern(word: str) -> str:
    """A regular expression, valid for Python, PostgreSQL and SQLite, matching the stem of a
    folded ``word`` with or without accents, in either case, at the start of a word: "shirt"
    finds "T-shirt" but not "sweatshirt", "ten" not "Pantene"."""
    base = stem(word)
    parts = [WORD_START]
    for i, char in enumerate(base):
        variants = _FINAL_IY if i == len(base) - 1 and char in "iy" else _VARIANTS.get(char)
        parts.append(f"[{''.join(sorted(variants))}]" if variants else re.escape(char))
    return "".join(parts)


def matching_categories(expression: str, categories: Sequence[Mapping[str, Any]]) -> set[int]:
    """Ids of the categories a word finds: those whose Spanish or English name or other search
    words (``Category.keywords``: "zapatos" for Calzado) match, their sub-categories ("calzado"
    finds sandals) and their parents ("zapatillas" finds the footwear the model filed under
    Calzado, not knowing which)."""
    compiled = re.compile(expression, re.IGNORECASE)
    named = [c for c in categories if any(compiled.search(c[field]) for field in CATEGORY_TEXT)]
    found = {c["pk"] for c in named}
    parents = {c["parent_id"] for c in named if c["parent_id"] is not None}
    children = {c["pk"] for c in categories if c["parent_id"] in found}
    return found | parents | children


def category_texts() -> list[dict[str, Any]]:
    """What ``matching_categories`` reads of every category (one query)."""
    return list(Category.objects.values("pk", "parent_id", *CATEGORY_TEXT))


def search_filter(query: str, categories: Sequence[Mapping[str, Any]] | None = None) -> Q:
    """The condition a product meets when every word of ``query`` is in its name, description
    or its category's names and search words. A query without a single word (only punctuation)
    matches nothing. ``categories``: ``category_texts()``, when the caller has them already."""
    expressions = [pattern(w) for w in words(query)]
    if not expressions:
        return Q(pk__in=[])
    categories = category_texts() if categories is None else categories
    condition = Q()
    for expression in expressions:
        condition &= (
            Q(name__iregex=expression)
            | Q(description__iregex=expression)
            | Q(category_id__in=matching_categories(expression, categories))
        )
    return condition


def words_found_nowhere(query: str, products: QuerySet[Product]) -> list[str]:
    """The words of ``query`` that no product of ``products`` matches on its own: "blanca" in
    "camiseta blanca", where no product says its colour. One query a word; the storefront
    asks only once a search found nothing."""
    categories = category_texts()
    return [
        word
        for word in words(query)[:MAX_RELAXED_WORDS]
        if not products.filter(search_filter(word, categories)).exists()
    ]


def spelling_suggestion(query: str) -> str:
    """The query with each word the categories' names and search words do not know replaced by
    the closest one they do ("zapatilas" → "zapatillas"), or "" when nothing changed."""
    vocabulary: set[str] = set()
    for category in category_texts():
        vocabulary.update(WORD.findall(fold(" ".join(category[f] for f in CATEGORY_TEXT))))
    suggested = []
    for word in words(query):
        known = len(word) < 4 or any(re.match(pattern(word), v) for v in vocabulary)
        close = [] if known else difflib.get_close_matches(word, vocabulary, n=1, cutoff=0.8)
        suggested.append(close[0] if close else word)
    suggestion = " ".join(suggested)
    return suggestion if suggestion != " ".join(words(query)) else ""
