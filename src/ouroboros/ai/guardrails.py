"""Guardrails: the budgets and bans every generated proposal must keep, and the file they live in.

What it promises:

- The rules themselves (``Guardrails``, ``item_power``, the number, word and legendary-rate checks)
  are pure and live below both the generators and this module, in ``ouroboros.content.rules``; the
  pipeline runs the same rules on every machine-made bundle. This module applies them to a
  ``Proposal`` and keeps the file.
- ``check(proposal, guardrails, history=...)``, ``enforce`` and ``RarityHistory`` live in
  ``generators.checks`` (pure; the generators enforce them on every draft) and are re-exported
  here.
- ``GuardrailsFile`` reloads its file when its mtime or size changes; a bad file keeps the last
  good guardrails in force and says why in ``last_error``; ``write`` validates before it writes,
  atomically (a crash leaves the old or the new file).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ouroboros.ai.generators.checks import RarityHistory, check, enforce
from ouroboros.content.rules import (
    CRIT_EXTENSION,
    POINT_COSTS,
    PROCS_EXTENSION,
    RARITY_ORDER,
    Guardrails,
    Violation,
    item_power,
    letter_runs,
    parse_guardrails,
)
from ouroboros.errors import BadInputError
from ouroboros.patches import canonical_bytes, write_atomic

__all__ = [
    "CRIT_EXTENSION",
    "GUARDRAILS_FILE",
    "POINT_COSTS",
    "PROCS_EXTENSION",
    "RARITY_ORDER",
    "Guardrails",
    "GuardrailsFile",
    "RarityHistory",
    "Violation",
    "check",
    "enforce",
    "item_power",
    "letter_runs",
    "parse_guardrails",
]


# --- the file -------------------------------------------------------------------------------------

#: the file's name in a data folder
GUARDRAILS_FILE = "guardrails.json"


class GuardrailsFile:
    """``<data>/guardrails.json``: the guardrails an operator edits while the world runs.

    A missing file means the defaults. ``current()`` rereads the file when its mtime or size
    changed; a file that does not parse keeps the last good guardrails and sets ``last_error``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._good = Guardrails()
        self._seen: tuple[int, int] | None = None
        self.last_error: str | None = None

    def current(self) -> Guardrails:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            if self._seen is not None:
                self._seen = None
                self.last_error = f"{self.path} is gone; keeping the last good guardrails"
            return self._good
        key = (stat.st_mtime_ns, stat.st_size)
        if key == self._seen:
            return self._good
        self._seen = key
        try:
            data = json.loads(self.path.read_bytes().decode("utf-8"))
            self._good = parse_guardrails(data)
            self.last_error = None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, BadInputError) as exc:
            self.last_error = f"{self.path}: {exc}; keeping the last good guardrails"
        return self._good

    def write(self, data: Mapping[str, Any]) -> Guardrails:
        """Validate ``data`` (raises ``BadInputError``), then replace the file atomically."""
        guardrails = parse_guardrails(data)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, canonical_bytes(guardrails.as_dict()))
        stat = self.path.stat()
        self._good, self._seen, self.last_error = guardrails, (stat.st_mtime_ns, stat.st_size), None
        return guardrails
