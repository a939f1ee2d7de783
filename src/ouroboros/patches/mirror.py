"""The pointer mirror, ``active.json``: the active pointer and the ledger head, beside the database.

The mirror is written (crash-safe) when a data folder is founded, after its first transaction and
after every transaction that moves the pointer, so on a ledger that holds entries it always
exists and names an entry of the chain: the head at the last pointer move, or a later one. What
it promises at open:

- **A missing mirror on a non-empty ledger is refused** (``pointer_mirror_missing``), never
  re-derived: deleting it is how a cut-off tail (with the other tables made consistent) went
  unseen. The database cannot tell a deleted mirror from one a crash lost, and a crash never loses
  it (it is renamed into place before the first entry is ever committed).
- **An unreadable, zeroed or torn mirror is refused** (``pointer_mirror_inconsistent``): renames
  are atomic, so a mirror that does not parse was written by someone else. So is a mirror that
  names no entry (head 0) of a ledger that holds some, and one whose pointer is not the ledger's
  pointer as of the entry it names.
- Only an explicit, recorded repair rewrites a refused mirror (``ouroboros ledger
  --rewrite-mirror``; ``repair``).
- **A mirror that leads the ledger or names another hash is refused** (``ledger_tampered``):
  entries were cut or rewritten.
- A mirror that *lags* (names an earlier entry of the same chain, with that entry's pointer) is
  consistent: entries that move no pointer do not rewrite it, and a crash may fall between a
  commit and the mirror's rename. Whoever can write the folder can also write a lagging mirror,
  so the mirror only catches the careless; the witness (``witness``) is the anchor outside the
  folder.

Every refusal is also logged on the ``ouroboros.ledger`` logger (an alert: ``CRITICAL``).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

from ouroboros.errors import LedgerError
from ouroboros.patches.atomic import REAL_FS, FileSystem, write_atomic
from ouroboros.patches.canonical import canonical_bytes

POINTER_FILE = "active.json"
GENESIS_HASH = "0" * 64
EMPTY_POINTER: dict[str, Any] = {"active": None, "permanent": None, "canary": False}
#: a mirror is a few hundred bytes; anything much bigger was not written by us
MAX_MIRROR_BYTES = 64 * 1024

log = logging.getLogger("ouroboros.ledger")
log.addHandler(logging.NullHandler())  # a command prints its own error line; ``go`` routes this one


def alert(error: LedgerError) -> LedgerError:
    """Log a refusal on the ``ouroboros.ledger`` logger (CRITICAL) and return it, to raise."""
    log.critical("ledger refused (%s): %s", error.code, error.message)
    return error


def write_mirror(folder: Path, pointer: dict[str, Any], fs: FileSystem = REAL_FS) -> None:
    write_atomic(folder / POINTER_FILE, canonical_bytes(pointer) + b"\n", fs)


def read_mirror(folder: Path) -> dict[str, Any] | None:
    """The mirror's fields, ``None`` when there is no mirror. Raises ``LedgerError``
    (``pointer_mirror_inconsistent``) for one that does not parse or has the wrong shape."""
    path = folder / POINTER_FILE
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_MIRROR_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _inconsistent(f"the pointer file {path} cannot be read: {exc.strerror or exc}") from exc
    try:
        doc = json.loads(raw) if len(raw) <= MAX_MIRROR_BYTES else None
    except (ValueError, RecursionError):
        doc = None
    if (
        not isinstance(doc, dict)
        or not {"active", "permanent", "canary", "head_seq", "head_hash"} <= set(doc)
        or not isinstance(doc["head_seq"], int)
        or isinstance(doc["head_seq"], bool)
        or doc["head_seq"] < 0
        or not isinstance(doc["head_hash"], str)
        or not isinstance(doc["canary"], bool)
    ):
        raise _inconsistent(
            f"the pointer file {path} is not a pointer mirror (zeroed, torn or forged): "
            "the ledger is refused until it is restored"
        )
    return doc


def _inconsistent(message: str) -> LedgerError:
    return LedgerError(message, code="pointer_mirror_inconsistent")


def pointer_as_of(db: sqlite3.Connection, seq: int) -> dict[str, Any]:
    """The pointer the ledger recorded at or before entry ``seq``."""
    row = db.execute(
        "SELECT after FROM entries WHERE kind = 'pointer' AND seq <= ? ORDER BY seq DESC LIMIT 1", (seq,)
    ).fetchone()
    return dict(EMPTY_POINTER) if row is None else dict(json.loads(row[0]))


def check_mirror(db: sqlite3.Connection, folder: Path, count: int) -> None:
    """Check the mirror against a ledger of ``count`` verified entries (see the module docstring)."""
    mirror = read_mirror(folder)
    if mirror is None:
        if count == 0:
            return  # founding: the mirror is written right after the database is made
        raise LedgerError(
            f"the pointer file {folder / POINTER_FILE} is missing although the ledger holds "
            f"{count} {'entry' if count == 1 else 'entries'}: entries may have been cut; the ledger "
            "is refused until the file is restored",
            code="pointer_mirror_missing",
        )
    seq, digest = mirror["head_seq"], mirror["head_hash"]
    if seq == 0 and count > 0:
        raise _inconsistent(
            f"the pointer file {folder / POINTER_FILE} names no ledger entry although the ledger "
            f"holds {count}: entries may have been cut; the ledger is refused until it is restored"
        )
    if seq == 0:
        recorded = GENESIS_HASH
    else:
        row = db.execute("SELECT hash FROM entries WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            raise LedgerError(
                f"the pointer file records ledger entry {seq}, which the ledger no longer holds",
                code="ledger_tampered",
            )
        recorded = row[0]
    if recorded != digest:
        raise LedgerError(
            f"the pointer file records another hash for ledger entry {seq} (entries rewritten)",
            code="ledger_tampered",
        )
    shown = {k: mirror[k] for k in EMPTY_POINTER}
    if shown != pointer_as_of(db, seq):
        raise _inconsistent(
            f"the pointer file names {shown}, which is not the ledger's pointer at entry {seq}"
        )


__all__ = [
    "EMPTY_POINTER",
    "GENESIS_HASH",
    "POINTER_FILE",
    "alert",
    "check_mirror",
    "pointer_as_of",
    "read_mirror",
    "write_mirror",
]
