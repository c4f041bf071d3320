"""The committed translations: complete, not fuzzy, and with the placeholders of the original."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from tests.conftest import ROOT

# one entry: comments, msgid, msgid_plural if a plural, then msgstr or msgstr[0], msgstr[1]…
ENTRY = re.compile(
    r'^(#.*\n)*msgid ((?:".*"\n)+)(?:msgid_plural ((?:".*"\n)+))?'
    r'((?:msgstr(?:\[\d\])? (?:".*"\n?)+)+)',
    re.MULTILINE,
)
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}")


@dataclass(frozen=True)
class Entry:
    block: str
    msgid: str
    plural: str  # "" unless a plural message
    forms: list[str]  # the msgstr, or every msgstr[n]


def _text(lines: str | None) -> str:
    return "".join(re.findall(r'"(.*)"', lines or ""))


def entries(language: str) -> list[Entry]:
    text = (ROOT / "locale" / language / "LC_MESSAGES" / "django.po").read_text()
    found = []
    for match in ENTRY.finditer(text):
        forms = [_text(form) for form in re.split(r"msgstr(?:\[\d\])? ", match.group(4))[1:]]
        entry = Entry(match.group(0), _text(match.group(2)), _text(match.group(3)), forms)
        if entry.msgid:  # the header has an empty msgid
            found.append(entry)
    return found


def test_spanish_is_complete_and_nothing_is_fuzzy():
    """Every form of every message, plurals (blocktranslate count, ngettext) included."""
    spanish = entries("es")
    assert len(spanish) > 150 and sum(bool(e.plural) for e in spanish) > 5
    assert [e.msgid for e in spanish if not all(e.forms)] == []
    assert [e.msgid for e in spanish if "#, fuzzy" in e.block] == []


@pytest.mark.parametrize("language", ["es", "en"])
def test_translations_keep_the_placeholders(language):
    """A fuzzy match once gave "%(file)s" to a message formatted with "%(id)s": a crash. A
    plural's forms may leave a placeholder out ("un producto"), never bring in another."""
    wrong = []
    for e in entries(language):
        original = PLACEHOLDER.findall(e.msgid + e.plural)
        for form in filter(None, e.forms):
            used = PLACEHOLDER.findall(form)
            ok = set(used) <= set(original) if e.plural else sorted(used) == sorted(original)
            if not ok:
                wrong.append((e.msgid, form))
    assert wrong == []
