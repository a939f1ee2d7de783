"""Keeping a running world on the active gameplay version.

The governor moves the pointer (one ledger transaction); a running world follows it here:
between two ticks ``PointerFollower.sync(world)`` looks at the pointer (a ``stat`` of
``active.json`` while nothing changed, so it is cheap enough to call every tick), and when the
pointer names another version it submits ``gameplay.activate`` with that version's content. The
engine applies inputs at the next tick boundary, so a tick in flight always finishes on the
version it started with and the switch is atomic for the world: one input, one tick boundary.
The ledger, not the mirror file, is read for the content, so a torn mirror cannot inject anything;
content whose hash does not match its ledger entry is never applied (the world stays where it is).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ouroboros.engine import World
from ouroboros.errors import LedgerError
from ouroboros.patches.ledger import POINTER_FILE, Ledger


class PointerFollower:
    """Follows the active pointer of one data folder for one running world."""

    def __init__(self, data: Path, ledger: Ledger | None = None) -> None:
        self.data = data
        self._ledger = ledger
        self._seen: tuple[int, int] | None = None

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            self._ledger = Ledger(self.data, verify=False)
        return self._ledger

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.data / POINTER_FILE)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def sync(self, world: World, *, force: bool = False) -> str | bool | None:
        """Queue the switch if the pointer moved; returns the version queued, or ``False`` when
        the world is already on the active version."""
        stamp = self._stamp()
        if not force and stamp is not None and stamp == self._seen:
            return False
        self._seen = stamp
        from ouroboros.worlds import ACTIVATE_INPUT

        active = self.ledger.pointer().active
        if world.resources.get("gameplay_version") == active:
            return False
        content: dict[str, Any] = {}
        if active is not None:
            try:
                stored = self.ledger.version_content(active)
            except LedgerError:
                stored = None  # tampered: fail safe, keep running the last good version
            if stored is None:
                return False  # not a complete version: stay on the current one
            content = dict(stored["objects"])
        world.submit(ACTIVATE_INPUT, {"patch_id": active, "content": content})
        return active

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None
