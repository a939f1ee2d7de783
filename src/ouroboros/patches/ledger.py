"""The ledger: an append-only, hash-chained record of every patch transition, and the one pointer
to the active gameplay version. SQLite in WAL mode, one file on disk.

What it promises:

- **Append-only.** Entries are inserted, never updated or deleted (triggers refuse both). Each
  entry carries the hash of the one before; ``verify`` recomputes the chain at open and a
  tampered, reordered or truncated ledger raises ``LedgerError`` (the head is also recorded in
  the ``head`` row and in the pointer file, so cutting off the tail is seen too: a pointer file
  that records more entries than the database holds, another hash at the same length, or that
  is missing, zeroed or torn on a non-empty ledger is refused (see ``mirror``); only a mirror
  that is behind is rewritten). A tail cut together with the mirror is caught outside the
  folder: by the witness (``witness``), and while a process has the ledger open, by the head it
  last saw: every transaction first checks that the ledger still holds it (``ledger_tampered``).
- **Everything the world runs is chained.** The other tables are checked against the chain: a
  bundle's draft entry records the sha256 of the stored bundle (and its sequence, parent and
  bundle hash), ``store_version`` appends a ``version`` entry with the sha256 of the stored
  content, and the pointer row must equal the last ``pointer`` entry. ``verify`` checks them
  all at open, and ``bundle`` and ``version_content`` check the row they load, so a changed,
  blanked or removed row raises ``LedgerError`` (``ledger_tampered``) instead of reaching a world.
- **All or nothing.** Every change is a ``with ledger.transaction(actor, reason) as tx:`` block:
  its entries, its state changes and its pointer move commit together or not at all. SQLite's
  journal makes that hold across a crash or a SIGKILL at any point.
- **One pointer.** ``pointer()`` names the active patch and the last permanent one. A canary is
  active but not permanent; ``recover`` (run at open) puts a canary left over from a crash or a
  restart back to the permanent version, as an Erlang release that was never made permanent.
- The pointer is mirrored to ``active.json`` beside the database, written the crash-safe way, for
  processes that only watch it (a running world applies it at its next tick boundary), first
  when the folder is founded. The database is the truth for what runs; a lagging mirror is
  rewritten, a missing or inconsistent one denies (``mirror``).
- ``head_signer(seq, hash)``, when set, signs the head each transaction leaves, inside the
  transaction (the ``head_signature`` row; ``signed_head``); ``on_commit(seq, hash)`` is called
  after the commit (the governor witnesses the head there). Every refusal is logged as an alert.
- The effective content of the last ``keep_known_good`` known-good versions is kept, so a
  rollback to any of them needs nothing else.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ouroboros.errors import LedgerError, PatchError
from ouroboros.patches import states
from ouroboros.patches.atomic import REAL_FS, FileSystem, clean_temporaries
from ouroboros.patches.canonical import canonical_bytes, load_json
from ouroboros.patches.entries import Entry, Pointer, entry_hash
from ouroboros.patches.mirror import (
    EMPTY_POINTER,
    GENESIS_HASH,
    POINTER_FILE,
    alert,
    check_mirror,
    write_mirror,
)
from ouroboros.patches.states import State

LEDGER_FILE = "ledger.sqlite3"
DEFAULT_KEEP_KNOWN_GOOD = 10

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL, actor TEXT NOT NULL, kind TEXT NOT NULL, patch_id TEXT,
    before TEXT, after TEXT, reason TEXT NOT NULL, evidence TEXT NOT NULL,
    prev_hash TEXT NOT NULL, hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS entries_no_update BEFORE UPDATE ON entries
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS entries_no_delete BEFORE DELETE ON entries
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TABLE IF NOT EXISTS bundles (
    patch_id TEXT PRIMARY KEY, sequence INTEGER NOT NULL, parent TEXT,
    bundle_hash TEXT NOT NULL, bundle BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS patch_state (patch_id TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
    patch_id TEXT PRIMARY KEY, sequence INTEGER NOT NULL, content TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pointer (
    id INTEGER PRIMARY KEY CHECK (id = 1), active TEXT, permanent TEXT, canary INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS head (
    id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS head_signature (
    id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL,
    keyid TEXT NOT NULL, sig TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_by_patch ON entries (patch_id, kind);
"""


def _sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def _tampered(message: str) -> LedgerError:
    return LedgerError(message, code="ledger_tampered")


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Transaction:
    """The changes of one ``Ledger.transaction`` block. Nothing is visible until it commits."""

    def __init__(self, ledger: Ledger, actor: str, reason: str) -> None:
        self._ledger = ledger
        self._db = ledger._db
        self.actor = actor
        self.reason = reason
        self.entries: list[Entry] = []
        self.pointer_moved = False

    def _append(
        self,
        kind: str,
        patch_id: str | None,
        before: str | None,
        after: str | None,
        reason: str | None,
        evidence: Any,
    ) -> Entry:
        row = self._db.execute("SELECT seq, hash FROM head WHERE id = 1").fetchone()
        seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS_HASH)
        at = self._ledger.clock()
        text = canonical_bytes(evidence if evidence is not None else {}).decode()
        why = reason if reason is not None else self.reason
        digest = entry_hash(seq, at, self.actor, kind, patch_id, before, after, why, text, prev)
        self._db.execute(
            "INSERT INTO entries VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (seq, at, self.actor, kind, patch_id, before, after, why, text, prev, digest),
        )
        self._db.execute("INSERT OR REPLACE INTO head VALUES (1, ?, ?)", (seq, digest))
        entry = Entry(seq, at, self.actor, kind, patch_id, before, after, why, load_json(text), prev, digest)
        self.entries.append(entry)
        return entry

    def add_bundle(
        self,
        patch_id: str,
        sequence: int,
        parent: str | None,
        bundle_hash: str,
        bundle: dict[str, Any],
        evidence: Any = None,
    ) -> Entry:
        """Record a new patch as a draft (with its bundle). A patch id is accepted once, ever.
        The draft entry's evidence carries ``record``: what the bundles row must hold."""
        if self._db.execute("SELECT 1 FROM bundles WHERE patch_id = ?", (patch_id,)).fetchone():
            raise PatchError(f"patch {patch_id} is already in the ledger", code="replayed")
        blob = canonical_bytes(bundle)
        self._db.execute(
            "INSERT INTO bundles VALUES (?,?,?,?,?)", (patch_id, sequence, parent, bundle_hash, blob)
        )
        record = {"sha256": _sha256(blob), "sequence": sequence, "parent": parent, "bundle_hash": bundle_hash}
        shown = (
            dict(evidence)
            if isinstance(evidence, dict)
            else ({} if evidence is None else {"evidence": evidence})
        )
        return self.transition(patch_id, State.DRAFT, {**shown, "record": record})

    def transition(
        self, patch_id: str, after: State, evidence: Any = None, reason: str | None = None
    ) -> Entry:
        row = self._db.execute("SELECT state FROM patch_state WHERE patch_id = ?", (patch_id,)).fetchone()
        before = State(row[0]) if row else None
        states.check(before, after)
        self._db.execute("INSERT OR REPLACE INTO patch_state VALUES (?, ?)", (patch_id, str(after)))
        return self._append(
            "transition", patch_id, None if before is None else str(before), str(after), reason, evidence
        )

    def audit(
        self,
        kind: str,
        evidence: Any,
        *,
        before: str | None = None,
        after: str | None = None,
        patch_id: str | None = None,
        reason: str | None = None,
    ) -> Entry:
        """An event that changes no patch's state (a kill-switch change, a refused rollback)."""
        return self._append(kind, patch_id, before, after, reason, evidence)

    def set_pointer(self, active: str | None, permanent: str | None, canary: bool) -> Entry:
        old = self._ledger._pointer_row()
        self._db.execute(
            "INSERT OR REPLACE INTO pointer VALUES (1, ?, ?, ?)", (active, permanent, int(canary))
        )
        self.pointer_moved = True
        return self._append(
            "pointer",
            active,
            json.dumps(old, sort_keys=True),
            json.dumps({"active": active, "permanent": permanent, "canary": canary}, sort_keys=True),
            None,
            {},
        )

    def store_version(self, patch_id: str, sequence: int, content: dict[str, Any]) -> Entry:
        """Keep a version's effective content; a ``version`` entry chains its sha256."""
        text = canonical_bytes(content).decode()
        self._db.execute("INSERT OR REPLACE INTO versions VALUES (?,?,?)", (patch_id, sequence, text))
        return self._append(
            "version", patch_id, None, None, None, {"sha256": _sha256(text), "sequence": sequence}
        )


class Ledger:
    """The ledger of one data folder. Opening it verifies the whole chain."""

    def __init__(
        self,
        folder: Path,
        *,
        keep_known_good: int = DEFAULT_KEEP_KNOWN_GOOD,
        clock: Callable[[], str] = utc_now,
        fs: FileSystem = REAL_FS,
        verify: bool = True,
    ) -> None:
        self.folder = folder
        self.keep_known_good = keep_known_good
        self.clock = clock
        self.fs = fs
        self.on_commit: Callable[[int, str], None] | None = None
        self.head_signer: Callable[[int, str], dict[str, str] | None] | None = None
        self._anchor: tuple[int, str] | None = None  # the newest head this process has seen
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / LEDGER_FILE
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise LedgerError(
                f"ledger {self.path} cannot be opened: {exc}", code="ledger_unreadable"
            ) from exc
        clean_temporaries(folder, POINTER_FILE)
        if verify and self.verify() == 0 and not (folder / POINTER_FILE).exists():
            self.write_pointer_file()  # founding: the mirror exists before the first entry

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------------
    @contextmanager
    def transaction(self, actor: str, reason: str) -> Iterator[Transaction]:
        if not actor or not reason:
            raise PatchError("every ledger change needs an actor and a reason", code="unattributed")
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"ledger {self.path} is not writable: {exc}", code="ledger_unreadable") from exc
        tx = Transaction(self, actor, reason)
        try:
            self._check_anchor()
            yield tx
            if tx.entries and self.head_signer is not None:
                self.sign_head()
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        if tx.pointer_moved:
            self.write_pointer_file()
            self._prune_versions()
        elif tx.entries and tx.entries[0].seq == 1:
            self.write_pointer_file()  # the founding mirror (entry 0) never outlives the first commit
        if tx.entries:
            head = tx.entries[-1]
            self._anchor = (head.seq, head.hash)
            if self.on_commit is not None:
                self.on_commit(head.seq, head.hash)

    def _check_anchor(self) -> None:
        """The ledger still holds the newest head this process saw, with its hash: entries cut or
        rewritten under a running process are refused before anything is appended to them."""
        if self._anchor is None:
            return
        seq, digest = self._anchor
        held = self.hash_at(seq)
        if held != digest:
            what = "no longer holds" if held is None else "holds another hash for"
            raise alert(
                _tampered(f"the ledger {what} entry {seq}, which this process saw (entries cut or rewritten)")
            )

    @contextmanager
    def transaction_lock(self) -> Iterator[None]:
        """A write transaction that appends no entry (housekeeping such as ``sign_head``)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def sign_head(self) -> bool:
        """Sign the head with ``head_signer`` (a row beside it); ``False``: no signer at hand."""
        seq, digest = self.head()
        signature = self.head_signer(seq, digest) if self.head_signer is not None else None
        if signature is None:
            self._db.execute("DELETE FROM head_signature")
            return False
        self._db.execute(
            "INSERT OR REPLACE INTO head_signature VALUES (1, ?, ?, ?, ?)",
            (seq, digest, signature["keyid"], signature["sig"]),
        )
        return True

    def signed_head(self) -> tuple[int, str, str, str] | None:
        """The head last signed (seq, hash, keyid, signature), ``None`` when none was."""
        row = self._db.execute("SELECT seq, hash, keyid, sig FROM head_signature WHERE id = 1").fetchone()
        return None if row is None else (int(row[0]), str(row[1]), str(row[2]), str(row[3]))

    def head(self) -> tuple[int, str]:
        """The last entry's sequence number and hash (0 and the genesis hash when empty)."""
        row = self._db.execute("SELECT seq, hash FROM head WHERE id = 1").fetchone()
        return (int(row[0]), str(row[1])) if row else (0, GENESIS_HASH)

    def hash_at(self, seq: int) -> str | None:
        """The hash of entry ``seq`` (the genesis hash for 0), ``None`` when there is none."""
        if seq == 0:
            return GENESIS_HASH
        row = self._db.execute("SELECT hash FROM entries WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else str(row[0])

    def write_pointer_file(self) -> None:
        write_mirror(self.folder, self.pointer().as_dict(), self.fs)

    def _prune_versions(self) -> None:
        pointer = self.pointer()
        keep = {p for p in (pointer.active, pointer.permanent) if p}
        rows = self._db.execute(
            "SELECT v.patch_id FROM versions v JOIN patch_state s USING (patch_id) "
            "WHERE s.state IN ('active', 'superseded') ORDER BY v.sequence DESC"
        ).fetchall()
        keep |= {r[0] for r in rows[: self.keep_known_good]}
        for (patch_id,) in self._db.execute("SELECT patch_id FROM versions").fetchall():
            if patch_id not in keep:
                self._db.execute("DELETE FROM versions WHERE patch_id = ?", (patch_id,))

    # -- reading ---------------------------------------------------------------------------------
    def _pointer_row(self) -> dict[str, Any]:
        row = self._db.execute("SELECT active, permanent, canary FROM pointer WHERE id = 1").fetchone()
        if row is None:
            return dict(EMPTY_POINTER)
        return {"active": row[0], "permanent": row[1], "canary": bool(row[2])}

    def pointer(self) -> Pointer:
        row = self._pointer_row()
        head = self.head()
        return Pointer(row["active"], row["permanent"], row["canary"], head[0], head[1])

    def state_of(self, patch_id: str) -> State | None:
        row = self._db.execute("SELECT state FROM patch_state WHERE patch_id = ?", (patch_id,)).fetchone()
        return State(row[0]) if row else None

    def _recorded(self, patch_id: str, kind: str, query: str) -> Any:
        row = self._db.execute(
            "SELECT evidence FROM entries WHERE patch_id = ? AND kind = ? AND "
            f"{query} ORDER BY seq DESC LIMIT 1",
            (patch_id, kind),
        ).fetchone()
        return json.loads(row[0]) if row else None

    def bundle(self, patch_id: str) -> dict[str, Any] | None:
        """The stored bundle, checked against the sha256 its draft entry recorded."""
        row = self._db.execute("SELECT bundle FROM bundles WHERE patch_id = ?", (patch_id,)).fetchone()
        if row is None:
            return None
        recorded = self._recorded(patch_id, "transition", "before IS NULL")
        blob = bytes(row[0]) if isinstance(row[0], bytes | memoryview) else str(row[0]).encode()
        if not isinstance(recorded, dict) or (recorded.get("record") or {}).get("sha256") != _sha256(blob):
            raise _tampered(
                f"the stored bundle of {patch_id} does not match the hash its ledger entry recorded"
            )
        return load_json(blob, f"stored bundle {patch_id}")

    def sequence_of(self, patch_id: str) -> int | None:
        row = self._db.execute("SELECT sequence FROM bundles WHERE patch_id = ?", (patch_id,)).fetchone()
        return int(row[0]) if row else None

    def parent_of(self, patch_id: str) -> str | None:
        row = self._db.execute("SELECT parent FROM bundles WHERE patch_id = ?", (patch_id,)).fetchone()
        return row[0] if row else None

    def known(self, patch_id: str) -> bool:
        return (
            self._db.execute("SELECT 1 FROM bundles WHERE patch_id = ?", (patch_id,)).fetchone() is not None
        )

    def version_content(self, patch_id: str) -> dict[str, Any] | None:
        """A kept version's content (``None``: not kept), checked against its ``version`` entry."""
        row = self._db.execute("SELECT content FROM versions WHERE patch_id = ?", (patch_id,)).fetchone()
        if row is None:
            return None
        recorded = self._recorded(patch_id, "version", "1")
        text = row[0] if isinstance(row[0], str) else bytes(row[0]).decode(errors="replace")
        if not isinstance(recorded, dict) or recorded.get("sha256") != _sha256(text):
            raise _tampered(
                f"the content of version {patch_id} does not match the hash its ledger entry recorded"
            )
        return load_json(text, f"stored version {patch_id}")

    def ever_active(self, patch_id: str) -> bool:
        return (
            self._db.execute(
                "SELECT 1 FROM entries WHERE kind = 'transition' AND patch_id = ? AND after = 'active'",
                (patch_id,),
            ).fetchone()
            is not None
        )

    def patches(self) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT b.patch_id, b.sequence, b.parent, s.state FROM bundles b "
            "JOIN patch_state s USING (patch_id) ORDER BY b.sequence, b.rowid"
        ).fetchall()
        return [{"patch_id": r[0], "sequence": r[1], "parent": r[2], "state": r[3]} for r in rows]

    def entries(self, patch_id: str | None = None, kind: str | None = None) -> list[Entry]:
        query, args = "SELECT * FROM entries", []
        where = []
        if patch_id is not None:
            where.append("patch_id = ?")
            args.append(patch_id)
        if kind is not None:
            where.append("kind = ?")
            args.append(kind)
        if where:
            query += " WHERE " + " AND ".join(where)
        rows = self._db.execute(query + " ORDER BY seq", args).fetchall()
        return [
            Entry(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                r[7],
                load_json(r[8], "ledger evidence"),
                r[9],
                r[10],
            )
            for r in rows
        ]

    def last_entry(self, kind: str) -> Entry | None:
        found = self.entries(kind=kind)
        return found[-1] if found else None

    # -- trust -----------------------------------------------------------------------------------
    def verify(self, *, mirror: bool = True) -> int:
        """Recompute the hash chain; check the head row, the per-patch states, the bundles, the
        kept versions, the pointer row and the pointer file against it. Returns the number of
        entries. Raises ``LedgerError`` (``ledger_tampered``, or a ``pointer_mirror_*`` code) naming
        the first mismatch, and logs it as an alert."""
        try:
            count, head = self._verify(mirror)
        except LedgerError as exc:
            raise alert(exc) from None
        self._anchor = head
        return count

    def _verify(self, mirror: bool) -> tuple[int, tuple[int, str]]:
        prev, count = GENESIS_HASH, 0
        last_state: dict[str, str] = {}
        records: dict[str, Any] = {}  # patch id → what its bundles row must hold
        versions: dict[str, Any] = {}  # patch id → what its versions row must hold
        last_pointer: str | None = None
        snapshot = not self._db.in_transaction  # one read snapshot: a writer elsewhere cannot race it
        try:
            if snapshot:
                self._db.execute("BEGIN")
            cursor = self._db.execute("SELECT * FROM entries ORDER BY seq")
            for row in cursor:
                seq, at, actor, kind, patch_id, before, after, reason, evidence, prev_hash, digest = row
                count += 1
                if seq != count:
                    raise _tampered(f"ledger entry {seq} out of sequence (expected {count})")
                if (
                    prev_hash != prev
                    or entry_hash(seq, at, actor, kind, patch_id, before, after, reason, evidence, prev_hash)
                    != digest
                ):
                    raise _tampered(f"ledger entry {seq} does not match its hash chain")
                if kind == "transition":
                    last_state[patch_id] = after
                    if before is None:
                        records[patch_id] = json.loads(evidence).get("record")
                elif kind == "version":
                    versions[patch_id] = json.loads(evidence)
                elif kind == "pointer":
                    last_pointer = after
                prev = digest
            head = self._db.execute("SELECT seq, hash FROM head WHERE id = 1").fetchone()
            stored = dict(self._db.execute("SELECT patch_id, state FROM patch_state").fetchall())
            if (head or (0, GENESIS_HASH)) != (count, prev):
                raise _tampered("ledger head does not match its last entry (entries removed?)")
            if stored != last_state:
                raise _tampered("patch states do not match the ledger's transitions")
            self._check_bundles(records)
            self._check_versions(versions)
            self._check_pointer(last_state, last_pointer)
            if mirror:
                check_mirror(self._db, self.folder, count)
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"ledger {self.path} is unreadable: {exc}", code="ledger_unreadable") from exc
        except (ValueError, TypeError, AttributeError) as exc:  # evidence that is not what we wrote
            raise _tampered(f"ledger evidence is malformed: {exc}") from exc
        finally:
            if snapshot and self._db.in_transaction:
                self._db.execute("COMMIT")
        return count, (count, prev)

    def _check_bundles(self, records: dict[str, Any]) -> None:
        rows = self._db.execute("SELECT patch_id, sequence, parent, bundle_hash, bundle FROM bundles")
        seen = set()
        for patch_id, sequence, parent, digest, blob in rows:
            seen.add(patch_id)
            record = records.get(patch_id)
            raw = bytes(blob) if isinstance(blob, bytes | memoryview) else str(blob).encode()
            if not isinstance(record, dict) or record != {
                "sha256": _sha256(raw),
                "sequence": sequence,
                "parent": parent,
                "bundle_hash": digest,
            }:
                raise _tampered(f"the stored bundle of {patch_id} does not match its draft entry")
        missing = sorted(set(records) - seen)
        if missing:
            raise _tampered(f"the bundle of {missing[0]} is gone although the ledger recorded it")

    def _check_versions(self, versions: dict[str, Any]) -> None:
        for patch_id, sequence, content in self._db.execute(
            "SELECT patch_id, sequence, content FROM versions"
        ):
            recorded = versions.get(patch_id)
            text = content if isinstance(content, str) else bytes(content).decode(errors="replace")
            if not isinstance(recorded, dict) or recorded != {"sha256": _sha256(text), "sequence": sequence}:
                raise _tampered(f"the content of version {patch_id} does not match its ledger entry")

    def _check_pointer(self, last_state: dict[str, str], last_pointer: str | None) -> None:
        row = self._pointer_row()
        recorded = json.loads(last_pointer) if last_pointer is not None else dict(EMPTY_POINTER)
        if row != recorded:
            raise _tampered(f"the pointer row {row} is not the ledger's last pointer entry {recorded}")
        active, permanent = row["active"], row["permanent"]
        if active is not None and last_state.get(active) not in ("active", "canary", "approved"):
            raise _tampered(f"pointer names {active}, which is not active in the ledger")
        if permanent is not None and last_state.get(permanent) not in ("active", "superseded"):
            raise _tampered(f"permanent pointer names {permanent}, which never became active")
        for patch_id in {active, permanent} - {None}:
            if self._db.execute("SELECT 1 FROM versions WHERE patch_id = ?", (patch_id,)).fetchone() is None:
                raise _tampered(f"the content of {patch_id}, which the pointer names, is gone")
