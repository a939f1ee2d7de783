"""Crash safety below the pipeline: the pointer file is written so a crash at any step leaves the
old or the new file, and a ledger whose last writes were torn or dropped still opens, verifies
and names a complete, known-good version (in the spirit of SQLite's crash tests)."""

from __future__ import annotations

import contextlib
import json
import random
import shutil
from pathlib import Path

import pytest

from ouroboros.errors import LedgerError
from ouroboros.patches.atomic import REAL_FS, write_atomic
from ouroboros.patches.ledger import LEDGER_FILE, POINTER_FILE, Ledger
from ouroboros.patches.states import State


class Crash(Exception):
    pass


class CrashingFS:
    """Crashes at step ``at`` and, like a power cut, loses what was not yet durable: a write in
    progress is torn (a random prefix reaches the disk), a rename not followed by a directory
    fsync may be undone."""

    def __init__(self, at: int, rng: random.Random) -> None:
        self.at, self.step, self.rng = at, 0, rng
        self.undo: list[tuple[Path, bytes | None]] = []

    def _tick(self) -> bool:
        self.step += 1
        return self.step == self.at

    def write_fsync(self, path: Path, data: bytes) -> None:
        if self._tick():
            path.write_bytes(data[: self.rng.randrange(len(data) + 1)])
            raise Crash
        REAL_FS.write_fsync(path, data)

    def rename(self, src: Path, dst: Path) -> None:
        if self._tick():
            raise Crash
        self.undo.append((dst, dst.read_bytes() if dst.exists() else None))
        REAL_FS.rename(src, dst)

    def fsync_dir(self, path: Path) -> None:
        if self._tick():
            if self.rng.random() < 0.5:  # the rename never reached the disk
                for dst, old in self.undo:
                    if old is None:
                        dst.unlink()
                    else:
                        dst.write_bytes(old)
            raise Crash
        self.undo.clear()

    def unlink(self, path: Path) -> None:
        # a crashed process cleans nothing up
        if self.step < self.at:
            REAL_FS.unlink(path)


@pytest.mark.parametrize("trial", range(60))
def test_pointer_file_is_old_or_new_after_a_crash_at_any_step(tmp_path: Path, trial: int) -> None:
    rng = random.Random(trial)
    target = tmp_path / "active.json"
    old, new = b'{"active":"old"}\n', json.dumps({"active": "new", "pad": "x" * rng.randrange(5000)}).encode()
    write_atomic(target, old)
    with contextlib.suppress(Crash):
        write_atomic(target, new, CrashingFS(at=1 + trial % 3, rng=rng))
    assert target.read_bytes() in (old, new)


def _activate_chain(ledger: Ledger, n: int, start: int = 0) -> list[str]:
    ids = []
    for i in range(start, start + n):
        pid = f"p-{i:032x}"
        parent = ledger.pointer().active
        with ledger.transaction("op", f"activate {i}") as tx:
            tx.add_bundle(pid, i, parent, "h", {"i": i, "pad": "y" * 300})
            for s in (State.VALIDATED, State.CANARY, State.APPROVED, State.ACTIVE):
                tx.transition(pid, s, {"i": i})
            if parent:
                tx.transition(parent, State.SUPERSEDED)
            tx.store_version(pid, i, {"i": i})
            tx.set_pointer(pid, pid, False)
        ids.append(pid)
    return ids


@pytest.mark.parametrize("trial", range(40))
def test_torn_or_dropped_wal_writes_leave_a_verifiable_ledger(tmp_path: Path, trial: int) -> None:
    rng = random.Random(1000 + trial)
    live = tmp_path / "live"
    ledger = Ledger(live)
    ledger._db.execute("PRAGMA wal_autocheckpoint=0")  # keep every commit in the WAL
    committed = _activate_chain(ledger, 1)
    first_mirror = (live / POINTER_FILE).read_bytes()  # the oldest mirror a crash can leave
    committed += _activate_chain(ledger, 5, start=1)
    wal = live / (LEDGER_FILE + "-wal")
    image = wal.read_bytes()
    assert len(image) > 4096
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    shutil.copy(live / LEDGER_FILE, crashed / LEDGER_FILE)  # the main file as the crash found it
    (crashed / POINTER_FILE).write_bytes(first_mirror)
    cut = rng.randrange(len(image) + 1)
    torn = bytearray(image[:cut])
    if rng.random() < 0.5 and torn:  # garbage where the last frame was being written
        for _ in range(rng.randrange(1, 64)):
            torn[rng.randrange(max(1, len(torn) - 2048), len(torn))] = rng.randrange(256)
    (crashed / (LEDGER_FILE + "-wal")).write_bytes(bytes(torn))
    ledger.close()
    try:
        reopened = Ledger(crashed)
    except LedgerError as exc:  # a torn frame SQLite cannot discard is detected, never trusted
        assert exc.code in ("ledger_tampered", "ledger_unreadable")
        return
    pointer = reopened.pointer()
    assert reopened.verify() == pointer.head_seq
    if pointer.active is not None:
        assert pointer.active in committed
        assert reopened.state_of(pointer.active) is State.ACTIVE
        assert reopened.version_content(pointer.active) is not None
        assert reopened.bundle(pointer.active) is not None
