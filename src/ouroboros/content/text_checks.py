"""Checks on player-visible text: a banned-terms filter and the ``{placeholder}`` grammar.

The filter matches whole words only (so "class" never trips on a shorter term), case-insensitively,
after folding what people use to dodge a word list: accents (``fück``), look-alike digits and
symbols (``sh1t``, ``$hit``, ``B4dW0rd``) and punctuation inserted inside a word (``s.h.i.t``).
It does not try to catch words spelt across spaces or with letters removed; a filter that guesses
harder starts refusing ordinary words.

Placeholders are ``{name}`` with ``name`` from ``ALLOWED_PLACEHOLDERS``; braces are for
placeholders only, so every ``{`` closes with ``}`` before the next ``{``.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

__all__ = [
    "ALLOWED_PLACEHOLDERS",
    "default_banned_terms",
    "find_banned_terms",
    "fold_word",
    "placeholder_problems",
]

ALLOWED_PLACEHOLDERS: frozenset[str] = frozenset(
    {"player.name", "npc.name", "quest.name", "item.name", "room.name", "credits"}
)

# One spelling for each look-alike; the ambiguous ones are read every way they could mean
# ("1" is "i" or "l"; "|" and "!" may also be punctuation dropped inside a word).
_LOOKALIKES = str.maketrans(
    {
        "4": "a",
        "@": "a",
        "8": "b",
        "3": "e",
        "6": "g",
        "9": "g",
        "0": "o",
        "5": "s",
        "$": "s",
        "7": "t",
        "+": "t",
    }
)
_AMBIGUOUS: dict[str, tuple[str, ...]] = {"1": ("i", "l"), "|": ("i", "l", ""), "!": ("i", "")}


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold_word(word: str) -> str:
    """Lower case, no accents, letters only: the form both terms and text are compared in."""
    return "".join(c for c in _strip_accents(word).casefold() if c.isalpha())


@lru_cache(maxsize=1)
def default_banned_terms() -> frozenset[str]:
    """The terms shipped in ``banned_terms.txt``, folded."""
    text = resources.files("ouroboros.content").joinpath("banned_terms.txt").read_text(encoding="utf-8")
    terms = (line.strip() for line in text.splitlines())
    return frozenset(fold_word(t) for t in terms if t and not t.startswith("#"))


def _candidates(token: str) -> set[str]:
    """The words a whitespace-separated token could be read as."""
    plain = _strip_accents(token).casefold()
    trimmed = plain.strip("".join(c for c in set(plain) if not c.isalnum()))
    forms = {plain, trimmed}
    # punctuation between words ("hello,word") as well as inside one ("w.o.r.d")
    piece = []
    for char in plain:
        if char.isalnum():
            piece.append(char)
        elif piece:
            forms.add("".join(piece))
            piece = []
    if piece:
        forms.add("".join(piece))
    words: set[str] = set()
    for form in forms:
        present = [c for c in _AMBIGUOUS if c in form]
        for readings in itertools.product(*(_AMBIGUOUS[c] for c in present)):
            spelled = form
            for char, reading in zip(present, readings, strict=True):
                spelled = spelled.replace(char, reading)
            words.add(fold_word(spelled.translate(_LOOKALIKES)))
    words.discard("")
    return words


def find_banned_terms(text: str, terms: Iterable[str] | None = None) -> list[str]:
    """The banned terms ``text`` contains (folded, sorted, each once); ``terms`` defaults to the
    shipped list."""
    banned = default_banned_terms() if terms is None else frozenset(fold_word(t) for t in terms)
    found: set[str] = set()
    for token in text.split():
        found.update(_candidates(token) & banned)
    return sorted(found)


def placeholder_problems(text: str) -> list[str]:
    """What is wrong with the placeholders in ``text``, as sentences; empty when all is well."""
    problems: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "}":
            problems.append(f"'}}' at offset {index} closes no placeholder")
        elif char == "{":
            end = text.find("}", index + 1)
            nested = text.find("{", index + 1)
            if end < 0:
                problems.append(f"'{{' at offset {index} is never closed")
                break
            if 0 <= nested < end:
                problems.append(f"'{{' at offset {index} is not closed before the next '{{'")
                index = nested
                continue
            name = text[index + 1 : end]
            if name not in ALLOWED_PLACEHOLDERS:
                allowed = ", ".join(sorted(ALLOWED_PLACEHOLDERS))
                problems.append(f"unknown placeholder {{{name[:40]}}} (allowed: {allowed})")
            index = end
        index += 1
    return problems
