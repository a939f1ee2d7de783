"""The AI's own records, in ``<data>/ai.sqlite3`` (SQLite in WAL mode).

What it promises:

- **One file, versioned schema.** Tables for the director's decisions (each with its "why"), the
  director's settings (sliders, toggles, pause/stop, counters: they survive a restart), the
  proposals and their queue state (the generated payload and the validated one, side by side,
  the enrich report: which model wrote the words, whether it fell back to offline and why, and
  the existing objects a proposal changes as they were when it was made, for a rebase),
  the rarity history the guardrails read, and an audit of every human action (actor, time,
  reason). ``PRAGMA user_version`` holds the schema version; a newer file is refused, an older one is
  migrated in place (``_MIGRATIONS``) keeping its rows.
- **Transactions.** Every write goes through ``transaction()``: all or nothing. Nested calls join
  the outer transaction.
- **Data in, data out.** Rows come back as plain dicts with their JSON columns decoded.

Wall-clock time appears only in the audit (``at``): it is for people, never read back by a rule.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ouroboros.errors import AiStoreError, BadInputError

__all__ = ["AI_DB", "SCHEMA_VERSION", "AiStore"]

AI_DB = "ai.sqlite3"
SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tick INTEGER NOT NULL,
    rule TEXT NOT NULL,
    outcome TEXT NOT NULL,
    job_id TEXT,
    job_type TEXT,
    why TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS proposals (
    proposal_id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    seed INTEGER NOT NULL,
    state TEXT NOT NULL,
    generated TEXT NOT NULL,
    validated TEXT,
    job TEXT,
    reason TEXT NOT NULL DEFAULT '',
    patch_id TEXT,
    verdict TEXT,
    undo_of TEXT,
    created_seq INTEGER NOT NULL,
    enrich TEXT,
    base TEXT
);
CREATE INDEX IF NOT EXISTS proposals_state ON proposals(state);
CREATE TABLE IF NOT EXISTS rarity (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    proposal_id TEXT NOT NULL,
    rarity TEXT NOT NULL,
    count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL
);
"""

#: what each schema version adds to the one before (applied in order to an older file)
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: (
        "ALTER TABLE proposals ADD COLUMN enrich TEXT",  # the enrich report: provider, fallback, why
        "ALTER TABLE proposals ADD COLUMN base TEXT",  # existing objects as they were when proposed
    ),
}
_JSON_COLUMNS = ("why", "generated", "validated", "job", "verdict", "detail", "value", "enrich", "base")
_PROPOSAL_FIELDS = frozenset(
    {"state", "validated", "reason", "patch_id", "verdict", "undo_of", "job", "enrich", "base"}
)


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for (name, *_), value in zip(cursor.description, row, strict=True):
        out[name] = json.loads(value) if name in _JSON_COLUMNS and isinstance(value, str) else value
    return out


class AiStore:
    """The SQLite file of one data folder's AI. Safe to share between threads (one lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.exists() and path.is_dir():
            path = path / AI_DB
            self.path = path
        if not path.parent.is_dir():
            raise BadInputError(f"cannot open {path}: folder {path.parent} does not exist")
        self._lock = threading.RLock()
        self._depth = 0
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
            self._db.row_factory = _row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            version = int(self._db.execute("PRAGMA user_version").fetchone()["user_version"])
        except sqlite3.DatabaseError as exc:
            raise AiStoreError(f"cannot open {path}: {exc}") from exc
        if version > SCHEMA_VERSION:
            self._db.close()
            raise AiStoreError(f"{path} has schema version {version}; this ouroboros reads {SCHEMA_VERSION}")
        if version < SCHEMA_VERSION:
            with self.transaction():
                if version == 0:
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                else:
                    for step in range(version + 1, SCHEMA_VERSION + 1):
                        for statement in _MIGRATIONS[step]:
                            self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> AiStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All the writes inside happen together or not at all."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self._db
            except BaseException:
                self._depth -= 1
                if outer:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._db.execute("COMMIT")

    def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._db.execute(sql, args).fetchall())

    # -- director decisions ------------------------------------------------------------------------
    def record_decision(
        self,
        tick: int,
        rule: str,
        outcome: str,
        why: dict[str, Any],
        job_id: str | None,
        job_type: str | None,
    ) -> int:
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO decisions (tick, rule, outcome, job_id, job_type, why) VALUES (?,?,?,?,?,?)",
                (tick, rule, outcome, job_id, job_type, _dump(why)),
            )
            return int(cur.lastrowid or 0)

    def decisions(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest ``limit`` decisions, newest first."""
        return self._all("SELECT * FROM decisions ORDER BY seq DESC LIMIT ?", (max(0, limit),))

    # -- settings ------------------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        return {r["name"]: r["value"] for r in self._all("SELECT name, value FROM settings")}

    def put_settings(self, values: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO settings (name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value=excluded.value",
                [(k, _dump(v)) for k, v in sorted(values.items())],
            )

    # -- proposals and their queue state -----------------------------------------------------------
    def add_proposal(
        self,
        proposal_id: str,
        type_: str,
        seed: int,
        state: str,
        generated: dict[str, Any],
        *,
        validated: dict[str, Any] | None = None,
        job: dict[str, Any] | None = None,
        reason: str = "",
        undo_of: str | None = None,
        enrich: dict[str, Any] | None = None,
        base: dict[str, Any] | None = None,
    ) -> None:
        """Record a proposal; one already known keeps its row (same id: same bytes)."""
        with self.transaction() as db:
            seq = db.execute("SELECT COALESCE(MAX(created_seq), 0) + 1 AS n FROM proposals").fetchone()["n"]
            db.execute(
                "INSERT OR IGNORE INTO proposals (proposal_id, type, seed, state, generated, validated, job,"
                " reason, undo_of, created_seq, enrich, base) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    proposal_id,
                    type_,
                    seed,
                    state,
                    _dump(generated),
                    None if validated is None else _dump(validated),
                    None if job is None else _dump(job),
                    reason,
                    undo_of,
                    seq,
                    None if enrich is None else _dump(enrich),
                    None if base is None else _dump(base),
                ),
            )

    def update_proposal(self, proposal_id: str, **fields: Any) -> None:
        unknown = set(fields) - _PROPOSAL_FIELDS
        if unknown:
            raise ValueError(f"unknown proposal fields {sorted(unknown)}")
        if not fields:
            return
        names = sorted(fields)
        values = [
            _dump(fields[n]) if n in _JSON_COLUMNS and fields[n] is not None else fields[n] for n in names
        ]
        with self.transaction() as db:
            db.execute(
                f"UPDATE proposals SET {', '.join(f'{n}=?' for n in names)} WHERE proposal_id=?",
                (*values, proposal_id),
            )

    def proposal(self, proposal_id: str) -> dict[str, Any] | None:
        rows = self._all("SELECT * FROM proposals WHERE proposal_id=?", (proposal_id,))
        return rows[0] if rows else None

    def proposals(self, state: str | None = None, type_: str | None = None) -> list[dict[str, Any]]:
        """Proposals oldest first, optionally of one state and/or type."""
        sql, args = "SELECT * FROM proposals WHERE 1=1", list[Any]()
        if state is not None:
            sql, args = sql + " AND state=?", [*args, state]
        if type_ is not None:
            sql, args = sql + " AND type=?", [*args, type_]
        return self._all(sql + " ORDER BY created_seq", tuple(args))

    # -- rarity history --------------------------------------------------------------------------------
    def record_rarity(self, proposal_id: str, counts: dict[str, int]) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO rarity (proposal_id, rarity, count) VALUES (?,?,?)",
                [(proposal_id, r, n) for r, n in sorted(counts.items()) if n],
            )

    def rarity_history(self, last: int = 100) -> list[dict[str, Any]]:
        """The newest ``last`` rarity rows, oldest first."""
        rows = self._all("SELECT * FROM rarity ORDER BY seq DESC LIMIT ?", (max(0, last),))
        return rows[::-1]

    # -- audit of human actions ------------------------------------------------------------------------
    def audit(
        self, actor: str, action: str, target: str, reason: str, detail: dict[str, Any] | None = None
    ) -> None:
        at = datetime.now(UTC).isoformat(timespec="seconds")
        with self.transaction() as db:
            db.execute(
                "INSERT INTO audit (at, actor, action, target, reason, detail) VALUES (?,?,?,?,?,?)",
                (at, actor, action, target, reason, _dump(detail or {})),
            )

    def audit_log(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest ``limit`` audit rows, newest first."""
        return self._all("SELECT * FROM audit ORDER BY seq DESC LIMIT ?", (max(0, limit),))
