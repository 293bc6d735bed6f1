"""The French reads as one writer wrote it: the glossary's words (popup/locale/fr/GLOSSARY.md), its
typography (no-break spaces before « : » and « ; ? ! », inside « »), vouvoiement throughout."""

import re

import pytest

from tests.popup.test_catalogues import PACKAGES, catalogue

# Words the glossary chose against, with the one it chose.
NOT_OURS = {
    r"\bcourriel": "e-mail",
    r"\bpré-?ventes?\b": "précommande",
    r"\bpré-commandes?\b": "précommande",
    r"\bcaddie\b": "panier",
    r"\bcheck-?out\b": "paiement",
    r"\bsold[ -]out\b": "épuisé",
    r"\bpledges?\b": "engagement",
}
TUTOIEMENT = re.compile(r"\b(tu|toi|ton|ta|tes|t'as)\b", re.IGNORECASE)
# A colon, semicolon, question or exclamation mark ending a word of text (not one inside a URL,
# a time such as 18:00, or a placeholder), with what must come before it.
PUNCTUATION = re.compile(r"(?P<before>.)(?P<mark>[:;?!])(?=\s|$|<|»|\)|\.|,)")
BEFORE = {":": "\u00a0", ";": "\u202f", "?": "\u202f", "!": "\u202f"}


# What is not French words: markup, entities, placeholders, a separator named as itself ("(;)").
NOT_WORDS = re.compile(r"<[^>]+>|&\w+;|%\(\w+\)[sdfi]|%%|\(;\)")


def french(package: str):
    """Each message's French texts (all plural forms), with its msgid to name it."""
    for message in catalogue(package):
        if message.id:
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for text in strings:
                yield message.id, NOT_WORDS.sub("", text)


@pytest.mark.parametrize("package", PACKAGES)
def test_the_glossary_s_words_and_vouvoiement(package):
    faults = []
    for msgid, text in french(package):
        faults += [
            f"{msgid!r}: {pattern} → {chosen}"
            for pattern, chosen in NOT_OURS.items()
            if re.search(pattern, text, re.IGNORECASE)
        ]
        if TUTOIEMENT.search(text):
            faults.append(f"{msgid!r}: tutoiement in {text!r}")
    assert faults == []


@pytest.mark.parametrize("package", PACKAGES)
def test_french_typography(package):
    faults = []
    for msgid, text in french(package):
        for found in PUNCTUATION.finditer(text):
            wanted = BEFORE[found["mark"]]
            if found["before"] != wanted and not found["before"].isdigit():
                faults.append(f"{msgid!r}: {found['mark']!r} after {found['before']!r}")
        for quote in re.finditer(r"«(.)|(.)»", text):
            if "\u00a0" not in quote.group(0):
                faults.append(f"{msgid!r}: {quote.group(0)!r} without a no-break space")
    assert faults == []
