"""Small pieces of English the city speaks: counts, dialogue placeholders."""

from __future__ import annotations

import re

from ouroboros.worlds.neon.tables import DIALOGUE_PLACEHOLDERS

_BRACED = re.compile(r"\{[^{}]*\}")


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``1 credit``, ``2 credits``, ``0 credits``."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def credits(n: int) -> str:
    return count(n, "credit")


def render_line(text: str, values: dict[str, str]) -> str:
    """A dialogue line as the player reads it: each placeholder of ``DIALOGUE_PLACEHOLDERS`` filled
    from ``values`` (keyed by the placeholder), never a raw brace."""
    for placeholder in DIALOGUE_PLACEHOLDERS:
        if placeholder in text:
            text = text.replace(placeholder, values.get(placeholder, ""))
    return _BRACED.sub("", text).replace("  ", " ")


def unknown_placeholders(text: str) -> list[str]:
    """Braced tokens in ``text`` that ``render_line`` would not fill."""
    return [m for m in _BRACED.findall(text) if m not in DIALOGUE_PLACEHOLDERS]
