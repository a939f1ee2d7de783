"""Keeping a running world on the active gameplay version.

The governor moves the pointer (one ledger transaction); a running world follows it here:
between two ticks ``PointerFollower.sync(world)`` looks at the pointer (a ``stat`` of
``active.json`` while nothing changed, so it is cheap enough to call every tick), and when the
pointer names another version it submits ``gameplay.activate`` with that version's content. The
engine applies inputs at the next tick boundary, so a tick in flight always finishes on the
version it started with and the switch is atomic for the world: one input, one tick boundary.
The ledger, not the mirror file, is read for the content, so a torn mirror cannot inject anything;
content whose hash does not match its ledger entry is never applied (the world stays where it is).

A running world never follows a ledger it cannot trust: when the mirror is missing, unreadable
or names an entry the ledger does not hold, or the ledger no longer holds the newest head this
follower saw (entries cut or rewritten under it), the world keeps its version, ``refusal`` says
why and the refusal is logged once as an alert (``ouroboros.ledger``, CRITICAL).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from ouroboros.engine import World
from ouroboros.errors import LedgerError
from ouroboros.patches.ledger import POINTER_FILE, Ledger
from ouroboros.patches.mirror import alert, read_mirror


class PointerFollower:
    """Follows the active pointer of one data folder for one running world."""

    def __init__(self, data: Path, ledger: Ledger | None = None) -> None:
        self.data = data
        self._ledger = ledger
        self._seen: tuple[int, int] | None = None
        self._anchor: tuple[int, str] | None = None  # the newest ledger head this follower saw
        #: why the world is not following the pointer now (``None``: it is)
        self.refusal: str | None = None

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
        if not force and stamp == self._seen and (stamp is not None or self.refusal is not None):
            return False
        self._seen = stamp
        refusal = self._untrusted()
        if refusal is not None:
            if refusal != self.refusal:
                alert(LedgerError(f"{refusal}: the world keeps its version", code="ledger_tampered"))
            self.refusal = refusal
            return False
        self.refusal = None
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

    def _untrusted(self) -> str | None:
        """Why the ledger must not be followed now, or ``None``. Advances the anchor."""
        ledger = self.ledger
        try:
            head = ledger.head()
            if self._anchor is not None and ledger.hash_at(self._anchor[0]) != self._anchor[1]:
                return f"the ledger lost entry {self._anchor[0]} as this world saw it (cut or rewritten)"
            mirror = read_mirror(self.data)
            if mirror is None:
                return None if head[0] == 0 else f"the pointer file {self.data / POINTER_FILE} is missing"
            if ledger.hash_at(mirror["head_seq"]) != mirror["head_hash"]:
                return f"the pointer file names ledger entry {mirror['head_seq']}, not in the ledger"
        except LedgerError as exc:
            return exc.message
        except sqlite3.DatabaseError as exc:
            return f"the ledger cannot be read: {exc}"
        self._anchor = head
        return None

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None
