"""Dialogue: lines of text linked into a graph by ``next``; the first line is where talk starts.

Lines may hold ``{placeholders}`` and must pass the banned-terms filter (``text_checks``); both,
and that every ``next`` names a line of the same dialogue, are checked by the linter.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from ouroboros.content._base import DomainObject, Id, LocalName, StrictModel, Tup, single_line_text
from ouroboros.content.limits import LIMITS

__all__ = ["Dialogue", "DialogueLine"]

LineText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=LIMITS.max_dialogue_line_chars),
    AfterValidator(single_line_text),
]


class DialogueLine(StrictModel):
    """One line; ``next`` lists the line ids a player may go on to (empty: the talk ends)."""

    id: LocalName
    text: LineText
    next: Annotated[Tup[LocalName], Field(max_length=LIMITS.max_next_lines)] = ()


class Dialogue(DomainObject):
    """A conversation, spoken by ``npc`` (an npc id) or by anyone who uses it (null)."""

    npc: Id | None = None
    lines: Annotated[Tup[DialogueLine], Field(min_length=1, max_length=LIMITS.max_dialogue_lines)]
