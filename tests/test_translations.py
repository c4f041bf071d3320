"""The committed translations: complete, not fuzzy, and with the placeholders of the original."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

ENTRY = re.compile(r'^(#.*\n)*msgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)', re.MULTILINE)
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}")


def entries(language: str) -> list[tuple[str, str, str]]:
    text = (ROOT / "locale" / language / "LC_MESSAGES" / "django.po").read_text()
    found = []
    for match in ENTRY.finditer(text):
        msgid = "".join(re.findall(r'"(.*)"', match.group(2)))
        msgstr = "".join(re.findall(r'"(.*)"', match.group(3)))
        if msgid:  # the header has an empty msgid
            found.append((match.group(0), msgid, msgstr))
    return found


PLURAL = re.compile(
    r'^msgid ((?:".*"\n)+)msgid_plural ((?:".*"\n)+)((?:msgstr\[\d\] (?:".*"\n?)+)+)', re.MULTILINE
)


def test_spanish_plurals_are_complete():
    """Plural messages (blocktranslate count, ngettext) have every form translated."""
    text = (ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po").read_text()
    missing = []
    for match in PLURAL.finditer(text):
        forms = re.split(r"msgstr\[\d\] ", match.group(3))[1:]
        if any(not "".join(re.findall(r'"(.*)"', form)) for form in forms):
            missing.append("".join(re.findall(r'"(.*)"', match.group(1))))
    assert len(re.findall(r"^msgid_plural", text, re.M)) > 5
    assert missing == []


def test_spanish_is_complete_and_nothing_is_fuzzy():
    spanish = entries("es")
    assert len(spanish) > 150
    assert [m for _, m, s in spanish if not s] == []
    assert [m for block, m, _ in spanish if "#, fuzzy" in block] == []


@pytest.mark.parametrize("language", ["es", "en"])
def test_translations_keep_the_placeholders(language):
    """A fuzzy match once gave "%(file)s" to a message formatted with "%(id)s": a crash."""
    wrong = [
        (msgid, msgstr)
        for _, msgid, msgstr in entries(language)
        if msgstr and sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(msgstr))
    ]
    assert wrong == []
