"""``ResponseCache``: valid answers by ``request_key``, in memory and optionally in a SQLite file.

Only answers that passed validation are stored, so a cache hit is as trustworthy as a fresh
call. The memory side is bounded (oldest entries go first); the SQLite side (table
``llm_cache``) survives restarts and is shared by every provider given the same file. An entry
that cannot be read back (a corrupt row) counts as a miss."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path

from ouroboros.ai.llm.base import LlmResponse

__all__ = ["ResponseCache"]

_FIELDS = ("text", "data", "provider", "model", "tokens_in", "tokens_out", "latency_ms")


class ResponseCache:
    def __init__(self, path: Path | str | None = None, *, max_memory_entries: int = 4096) -> None:
        self._lock = threading.Lock()
        self._memory: OrderedDict[str, LlmResponse] = OrderedDict()
        self._max = max(1, max_memory_entries)
        self._db: sqlite3.Connection | None = None
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS llm_cache (key TEXT PRIMARY KEY, response TEXT NOT NULL)"
            )

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._memory)

    def get(self, key: str) -> LlmResponse | None:
        """The stored answer, marked ``cached=True``, or ``None``."""
        with self._lock:
            found = self._memory.get(key)
            if found is not None:
                self._memory.move_to_end(key)
                return _as_cached(found)
            if self._db is None:
                return None
            row = self._db.execute("SELECT response FROM llm_cache WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            body = json.loads(row[0])
            response = LlmResponse(**{name: body[name] for name in _FIELDS}, cached=False)
        except (ValueError, KeyError, TypeError):
            return None
        self._remember(key, response)
        return _as_cached(response)

    def put(self, key: str, response: LlmResponse) -> None:
        stored = LlmResponse(**{name: getattr(response, name) for name in _FIELDS}, cached=False)
        self._remember(key, stored)
        with self._lock:
            if self._db is not None:
                body = json.dumps({name: getattr(stored, name) for name in _FIELDS}, sort_keys=True)
                self._db.execute(
                    "INSERT OR REPLACE INTO llm_cache (key, response) VALUES (?, ?)", (key, body)
                )

    def _remember(self, key: str, response: LlmResponse) -> None:
        with self._lock:
            self._memory[key] = response
            self._memory.move_to_end(key)
            while len(self._memory) > self._max:
                self._memory.popitem(last=False)


def _as_cached(response: LlmResponse) -> LlmResponse:
    return LlmResponse(**{name: getattr(response, name) for name in _FIELDS}, cached=True)
