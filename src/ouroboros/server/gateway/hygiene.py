"""Input hygiene: what a raw line from any transport becomes before anything reads it.

``clean_line`` promises: the result is valid text (invalid UTF-8 replaced by U+FFFD), holds only
printable characters (controls, escape sequences' ESC, format and private-use characters
removed; tabs and other spaces become a plain space), has no surrounding whitespace, and encodes
to at most ``max_bytes`` UTF-8 bytes (cut on a character boundary; ``truncated`` says so).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

MAX_LINE_BYTES = 512


@dataclass(frozen=True)
class CleanLine:
    text: str
    truncated: bool


def _printable(text: str) -> str:
    if text.isascii() and text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable():
            out.append(ch)
        elif ch.isspace():
            out.append(" ")
    return "".join(out)


def clean_line(raw: bytes | str, max_bytes: int = MAX_LINE_BYTES) -> CleanLine:
    data = raw.encode("utf-8", "replace") if isinstance(raw, str) else raw
    truncated = len(data) > max_bytes
    if truncated:
        # final=False holds back a character cut in half by the limit instead of replacing it.
        text = codecs.getincrementaldecoder("utf-8")("replace").decode(data[:max_bytes], final=False)
    else:
        text = data.decode("utf-8", "replace")
    text = _printable(text).strip()
    encoded = text.encode("utf-8")
    if len(encoded) > max_bytes:  # replacement characters are 3 bytes for 1 bad byte
        text = encoded[:max_bytes].decode("utf-8", "ignore").rstrip()
        truncated = True
    return CleanLine(text=text, truncated=truncated)
