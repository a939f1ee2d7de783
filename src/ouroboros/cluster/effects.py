"""The consuming side's once-check: a result's effect is applied once, checked again by key.

The queue writes a key's result once; whoever turns results into effects (a proposal submitted
to the ledger) records the key in SQLite in the same transaction as its cursor, so a restart
re-reading the results stream, or a result seen twice, never applies twice.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ouroboros.cluster.jobs import JobQueue


class EffectLog:
    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS applied (key TEXT PRIMARY KEY, at_cursor TEXT)")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS cursor (id INTEGER PRIMARY KEY CHECK (id = 1), value TEXT)"
        )
        self._lock = threading.Lock()

    @property
    def cursor(self) -> str:
        row = self._db.execute("SELECT value FROM cursor WHERE id = 1").fetchone()
        return str(row[0]) if row else ""

    def applied(self, key: str) -> bool:
        return self._db.execute("SELECT 1 FROM applied WHERE key = ?", (key,)).fetchone() is not None

    def apply_once(self, key: str, effect: Callable[[], Any], cursor: str | None = None) -> bool:
        """Run ``effect`` unless ``key`` was applied; record the key (and the cursor) with it."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if self.applied(key):
                    self._db.execute("ROLLBACK")
                    return False
                effect()
                self._db.execute("INSERT INTO applied (key, at_cursor) VALUES (?, ?)", (key, cursor))
                if cursor is not None:
                    self._db.execute("INSERT OR REPLACE INTO cursor (id, value) VALUES (1, ?)", (cursor,))
                self._db.execute("COMMIT")
                return True
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def drain(self, queue: JobQueue, apply: Callable[[str, dict[str, Any]], Any], limit: int = 100) -> int:
        """Apply every result written since this log's cursor; returns how many took effect."""
        cursor, rows = queue.results_since(self.cursor, limit)
        done = 0
        for i, (key, result) in enumerate(rows):
            last = cursor if i == len(rows) - 1 else None
            done += self.apply_once(key, functools.partial(apply, key, result), last)
        return done

    def close(self) -> None:
        self._db.close()


__all__ = ["EffectLog"]
