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

Every switch migrates: the input carries a ``migration`` hint — ``kind`` (``rollback`` when the
new version is older than the one the world runs, or none), the new patch's ``announcement`` and
``items`` hints (its envelope's ``migration``) — and the world leaves a migration report after the
tick, which ``record_migration`` writes to the ledger as a ``migration`` entry of the version.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from ouroboros.engine import World
from ouroboros.errors import LedgerError
from ouroboros.patches.ledger import POINTER_FILE, Entry, Ledger
from ouroboros.patches.mirror import alert, read_mirror

#: a pointer file written less than this long ago is compared by its bytes, not only its stat
RECENT_WRITE_NS = 1_000_000_000

MIGRATION_ENTRY = "migration"


def record_migration(ledger: Ledger, report: dict[str, Any], actor: str = "ouroboros") -> Entry:
    """The ledger's ``migration`` entry for a version change: what moved, closed and converted.
    Its ``patch_id`` is the version the world landed on (``None``: the base world)."""
    counts = report.get("counts", {})
    reason = ", ".join(f"{k} {v}" for k, v in counts.items() if v) or "nothing to migrate"
    with ledger.transaction(actor, f"migration at tick {report.get('tick')}: {reason}") as tx:
        to = report.get("to")
        return tx.audit(MIGRATION_ENTRY, report, before=report.get("from"), after=to, patch_id=to)


class PointerFollower:
    """Follows the active pointer of one data folder for one running world."""

    def __init__(self, data: Path, ledger: Ledger | None = None) -> None:
        self.data = data
        self._ledger = ledger
        self._seen: tuple[int, int, int, bytes] | None = None
        self._anchor: tuple[int, str] | None = None  # the newest ledger head this follower saw
        #: why the world is not following the pointer now (``None``: it is)
        self.refusal: str | None = None

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            self._ledger = Ledger(self.data, verify=False)
        return self._ledger

    def _stamp(self) -> tuple[int, int, int, bytes] | None:
        """What the pointer file is now: a ``stat`` (inode, time, size; each write is an atomic
        rename). File times are coarse (a few ms), so two pointer moves in one such tick, to
        pointers of one length, can leave the same stat: while the file is younger than
        ``RECENT_WRITE_NS`` its bytes are compared too. An older file is only ``stat``-ed."""
        path = self.data / POINTER_FILE
        try:
            st = os.stat(path)
            head = (st.st_ino, st.st_mtime_ns, st.st_size)
            if time.time_ns() - st.st_mtime_ns < RECENT_WRITE_NS:
                return (*head, hashlib.blake2b(path.read_bytes()[: 1 << 16], digest_size=16).digest())
        except OSError:
            return None
        seen = self._seen
        return (*head, seen[3] if seen is not None and seen[:3] == head else b"")

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
        current = world.resources.get("gameplay_version")
        migration = self.migration_hint(current, active)
        world.submit(ACTIVATE_INPUT, {"patch_id": active, "content": content, "migration": migration})
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

    def migration_hint(self, current: str | None, active: str | None) -> dict[str, Any]:
        """The ``gameplay.activate`` migration hint for a switch from ``current`` to ``active``."""
        ledger = self.ledger
        was = ledger.sequence_of(current) if current is not None else None
        now = ledger.sequence_of(active) if active is not None else None
        backwards = was is not None and (now is None or now < was)
        hint: dict[str, Any] = {"kind": "rollback" if backwards else "change"}
        try:
            doc = ledger.bundle(active) if active is not None and not backwards else None
        except LedgerError:
            doc = None  # a tampered bundle carries no words into the city
        declared = doc.get("migration") if isinstance(doc, dict) else None
        if isinstance(declared, dict):
            if isinstance(declared.get("announcement"), str):
                hint["announcement"] = declared["announcement"]
            if isinstance(declared.get("items"), dict) and declared["items"]:
                hint["items"] = dict(declared["items"])
        return hint

    def record(self, world: World, actor: str = "ouroboros") -> Entry | None:
        """After a tick: write the migration report it left (if any) to the ledger."""
        from ouroboros.worlds import MIGRATION_SCRATCH

        report = world.scratch.get(MIGRATION_SCRATCH)
        return None if report is None else record_migration(self.ledger, report, actor)

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None
