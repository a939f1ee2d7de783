"""The engine optimizer's files, at the shell: the engine takes plain data and callbacks
(``ouroboros.engine.optimizer.Hooks``) and this module gives them files in a world's folder.

- ``optimizer.json`` (``CONTROL_FILE``), written by ``ouroboros optimizer freeze|force``:
  ``{"frozen": bool, "forced": {system: variant}}``, read between ticks when its stamp changed;
  unreadable means frozen (fail safe).
- ``optimizer-history.jsonl`` (``HISTORY_FILE``): every decision, one JSON object a line, read
  back at start so it survives a restart; compacted (atomically) to the decisions kept in memory
  once it holds twice as many. A torn last line from a crash is skipped.
- ``optimizer-diagnostics/``: one JSON report per failed guard.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ouroboros.engine.optimizer import Hooks

__all__ = [
    "CONTROL_FILE",
    "DIAGNOSTICS_FOLDER",
    "HISTORY_FILE",
    "ControlFile",
    "DiagnosticsFolder",
    "HistoryFile",
    "file_hooks",
    "read_control",
    "read_history",
]

CONTROL_FILE = "optimizer.json"
HISTORY_FILE = "optimizer-history.jsonl"
DIAGNOSTICS_FOLDER = "optimizer-diagnostics"


def read_history(path: Path) -> list[dict[str, Any]]:
    """The decisions recorded in a history file (a torn last line from a crash is skipped)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict):
            out.append(entry)
    return out


def read_control(path: Path) -> dict[str, Any]:
    """``{"frozen": bool, "forced": {system: variant}}``; unreadable means frozen (fail safe)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"frozen": True, "forced": {}}
    if not isinstance(doc, dict):
        return {"frozen": True, "forced": {}}
    forced = doc.get("forced", {})
    if not isinstance(forced, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in forced.items()
    ):
        return {"frozen": True, "forced": {}}
    return {"frozen": bool(doc.get("frozen", False)), "forced": forced}


class HistoryFile:
    """A ``Journal`` in a JSON-lines file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries = 0  # decisions in the file

    def read(self) -> list[dict[str, Any]]:
        entries = read_history(self.path)
        self._entries = len(entries)
        return entries

    def append(self, entry: dict[str, Any], kept: Sequence[dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._entries += 1
        if self._entries > 2 * max(1, len(kept)):  # compact: the decisions kept, atomically
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in kept), "utf-8")
            os.replace(tmp, self.path)
            self._entries = len(kept)
            return
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")


class ControlFile:
    """The control document when the file changed since the last call (size or mtime), else
    ``None``; ``None`` too while there is no file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None

    def __call__(self) -> dict[str, Any] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return None
        self._stamp = stamp
        return read_control(self.path)


class DiagnosticsFolder:
    """Writes a failed guard's report as ``tick<N>-<system>-<variant>.json``; returns its path."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __call__(self, report: dict[str, Any]) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"tick{report['tick']}-{report['system']}-{report['variant']}.json"
        path.write_text(json.dumps(report, indent=2) + "\n")
        return str(path)


def file_hooks(folder: Path) -> Hooks:
    """The optimizer's journal, control file and diagnostics in ``folder`` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    return Hooks(
        journal=HistoryFile(folder / HISTORY_FILE),
        control=ControlFile(folder / CONTROL_FILE),
        diagnostics=DiagnosticsFolder(folder / DIAGNOSTICS_FOLDER),
    )
