"""Characters in one SQLite file (WAL): the store of a single machine, shared by its processes.

Keeps the ``CharacterStore`` promises (``characters.store``) with one ``BEGIN IMMEDIATE``
transaction per call, so a claim's check-and-take is atomic across threads and processes. Lease
times come from the injected ``clock`` (seconds; wall time by default, since every process of
the machine must read the same clock); the fencing counter lives in the file, so it keeps
rising across restarts.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ouroboros.characters.store import (
    Record,
    Tokens,
    check_holder,
    check_name,
    check_ttl,
    encode_record,
)
from ouroboros.errors import CharacterHeldError, CharacterLeaseLostError, ClusterError

SCHEMA = """
CREATE TABLE IF NOT EXISTS characters (
    name     TEXT PRIMARY KEY,
    record   TEXT NOT NULL,      -- canonical JSON
    saved_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    token      INTEGER NOT NULL,
    expires_at REAL NOT NULL     -- the clock's seconds; a lease at or past it is gone
);
CREATE TABLE IF NOT EXISTS fence (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    token INTEGER NOT NULL
);
INSERT OR IGNORE INTO fence (id, token) VALUES (1, 0);
"""


class SqliteCharacters:
    def __init__(
        self, path: str | Path, clock: Callable[[], float] = time.time, busy_s: float = 10.0
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = Tokens()
        try:
            self._db = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=busy_s
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise ClusterError(f"character store {self.path}: {exc}") from exc

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _live(self, db: sqlite3.Connection, name: str, now: float) -> tuple[str, int] | None:
        row = db.execute("SELECT holder, token, expires_at FROM leases WHERE name = ?", (name,)).fetchone()
        if row is None or row[2] <= now:
            return None
        return str(row[0]), int(row[1])

    def claim(self, name: str, holder: str, ttl_s: float) -> Record | None:
        check_name(name)
        check_holder(holder)
        ttl = check_ttl(ttl_s)
        with self._tx() as db:
            now = self._clock()
            live = self._live(db, name, now)
            if live is not None and live[0] != holder:
                raise CharacterHeldError(name, live[0])
            token = int(
                db.execute("UPDATE fence SET token = token + 1 WHERE id = 1 RETURNING token").fetchone()[0]
            )
            db.execute(
                "INSERT OR REPLACE INTO leases (name, holder, token, expires_at) VALUES (?, ?, ?, ?)",
                (name, holder, token, now + ttl),
            )
            row = db.execute("SELECT record FROM characters WHERE name = ?", (name,)).fetchone()
        self._tokens.put(name, holder, token)
        return None if row is None else dict(json.loads(row[0]))

    def _holding(self, db: sqlite3.Connection, name: str, holder: str) -> bool:
        token = self._tokens.get(name, holder)
        live = self._live(db, name, self._clock())
        return token is not None and live == (holder, token)

    def _write(self, db: sqlite3.Connection, name: str, text: str) -> None:
        db.execute(
            "INSERT OR REPLACE INTO characters (name, record, saved_at) VALUES (?, ?, ?)",
            (name, text, self._clock()),
        )

    def save(self, name: str, holder: str, record: Record) -> None:
        check_name(name)
        check_holder(holder)
        text = encode_record(name, record)
        with self._tx() as db:
            ok = self._holding(db, name, holder)
            if ok:
                self._write(db, name, text)
        if not ok:
            self._tokens.drop(name, holder)
            raise CharacterLeaseLostError(f"{holder} no longer holds {name}: its save is refused", path=name)

    def release(self, name: str, holder: str, record: Record | None = None) -> bool:
        check_name(name)
        check_holder(holder)
        text = None if record is None else encode_record(name, record)
        with self._tx() as db:
            ok = self._holding(db, name, holder)
            if ok:
                if text is not None:
                    self._write(db, name, text)
                db.execute("DELETE FROM leases WHERE name = ?", (name,))
        self._tokens.drop(name, holder)
        if not ok and text is not None:
            raise CharacterLeaseLostError(
                f"{holder} no longer holds {name}: its record is refused", path=name
            )
        return ok

    def renew(self, holder: str, ttl_s: float) -> list[str]:
        check_holder(holder)
        ttl = check_ttl(ttl_s)
        lost: list[str] = []
        held = self._tokens.of(holder)
        if not held:
            return lost
        with self._tx() as db:
            now = self._clock()
            for name, token in sorted(held.items()):
                if self._live(db, name, now) == (holder, token):
                    db.execute("UPDATE leases SET expires_at = ? WHERE name = ?", (now + ttl, name))
                else:
                    lost.append(name)
        for name in lost:
            self._tokens.drop(name, holder)
        return lost

    def holder(self, name: str) -> str | None:
        check_name(name)
        with self._lock:
            live = self._live(self._db, name, self._clock())
        return None if live is None else live[0]

    def names(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT name FROM characters ORDER BY name")]

    def close(self) -> None:
        with self._lock:
            self._db.close()


__all__ = ["SqliteCharacters"]
