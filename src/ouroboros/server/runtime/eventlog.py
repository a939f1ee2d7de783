"""The durable event log: every event the operators' feed shows, appended to SQLite with its id.

``EventLog(path)`` is ``<data>/events.sqlite3`` (WAL). What it promises:

- Ids are the feed's ``seq``: monotonic across restarts (a runtime's feed starts counting after
  the log's last id), so a reader pages with ``since=ID`` and never sees an id twice.
- ``append`` never blocks the caller on the disk: the event (already JSON text) goes on a queue
  that one writer thread drains, a batch per transaction. The queue is bounded
  (``max_pending``); past it an event is dropped and counted (``dropped``), and the next event
  queued after a gap carries ``dropped_before``: how many were lost just before it.
- ``close()`` writes what is queued and closes the file; ``flush()`` waits until it is written.
- Readers (``events``, ``last_id``) open their own read-only connection, so ``ouroboros events``
  reads the file while ``go`` writes it.
"""

from __future__ import annotations

import contextlib
import json
import queue
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

EVENTS_FILE = "events.sqlite3"
#: events waiting for the writer before new ones are dropped (and counted)
MAX_PENDING = 50_000
#: the most events one ``events()`` page returns
MAX_PAGE = 5_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    world TEXT,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_kind ON events (kind, id);
"""
_STOP = object()


def _connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, timeout=5.0, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(_SCHEMA)
    return conn


def encode(event: dict[str, Any]) -> str:
    """An event as the log keeps it (anything JSON cannot say is written as its ``str``)."""
    return json.dumps(event, sort_keys=True, separators=(",", ":"), default=str)


class EventLog:
    """The durable, append-only event log of one data folder (see the module docstring)."""

    def __init__(self, path: Path, *, max_pending: int = MAX_PENDING) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = _connect(self.path, readonly=False)
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_pending)
        self.dropped = 0
        self._unreported = 0
        self._closed = False
        self._thread = threading.Thread(target=self._write_loop, name="eventlog-writer", daemon=True)
        self._thread.start()

    def last_id(self) -> int:
        row = self._read_conn().execute("SELECT MAX(id) FROM events").fetchone()
        return int(row[0] or 0)

    def append(self, event: dict[str, Any]) -> None:
        """Queue ``event`` (with its ``seq``, ``at``, ``kind``, ``world``); never waits for the disk."""
        if self._closed:
            return
        body = encode(event)
        if self._unreported:  # the first event queued after a gap says how many were lost
            body = body[:-1] + f',"dropped_before":{self._unreported}}}'
        row = (int(event["seq"]), str(event["at"]), str(event["kind"]), event.get("world"), body)
        try:
            self._queue.put_nowait(row)
        except queue.Full:
            self.dropped += 1
            self._unreported += 1
        else:
            self._unreported = 0

    def flush(self, timeout_s: float = 10.0) -> None:
        """Wait until every event queued so far is written."""
        done = threading.Event()
        with contextlib.suppress(queue.Full):
            self._queue.put(done, timeout=timeout_s)
            done.wait(timeout_s)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(30)
        self._conn.close()

    def _write_loop(self) -> None:
        while True:
            item = self._queue.get()
            batch, markers, stop = [], [], False
            while True:
                if item is _STOP:
                    stop = True
                elif isinstance(item, threading.Event):
                    markers.append(item)
                else:
                    batch.append(item)
                if len(batch) >= 1000:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._write(batch)
            for marker in markers:
                marker.set()
            if stop:
                return

    def _write(self, batch: list[tuple[Any, ...]]) -> None:
        try:
            with self._conn:
                self._conn.executemany(
                    "INSERT OR IGNORE INTO events (id, at, kind, world, body) VALUES (?, ?, ?, ?, ?)", batch
                )
        except sqlite3.Error:  # a full disk must not stop the world: the events are counted as lost
            self.dropped += len(batch)

    # -- reading -----------------------------------------------------------------------------
    def _read_conn(self) -> sqlite3.Connection:
        return read_connection(self.path)

    def events(
        self, since: int | None = None, kind: str | None = None, limit: int = 100, world: str | None = None
    ) -> list[dict[str, Any]]:
        return read_events(self.path, since=since, kind=kind, limit=limit, world=world)


def read_connection(path: Path) -> sqlite3.Connection:
    return _connect(Path(path), readonly=True)


def read_events(
    path: Path,
    *,
    since: int | None = None,
    kind: str | None = None,
    limit: int = 100,
    world: str | None = None,
) -> list[dict[str, Any]]:
    """Events oldest first: those after ``since`` (up to ``limit``), or, without ``since``, the
    newest ``limit``; only of ``kind`` / ``world`` when given."""
    limit = max(0, min(int(limit), MAX_PAGE))
    where: list[str] = []
    args: list[Any] = []
    if since is not None:
        where.append("id > ?")
        args.append(int(since))
    if kind is not None:
        where.append("kind = ?")
        args.append(kind)
    if world is not None:
        where.append("world = ?")
        args.append(world)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    order = "ASC" if since is not None else "DESC"
    conn = read_connection(path)
    try:
        rows = conn.execute(
            f"SELECT body FROM events {clause} ORDER BY id {order} LIMIT ?",
            (*args, limit),
        ).fetchall()
    finally:
        conn.close()
    events = [json.loads(body) for (body,) in rows]
    return events if since is not None else events[::-1]


def iter_events(path: Path, *, since: int = 0, kind: str | None = None) -> Iterator[dict[str, Any]]:
    """Every event after ``since``, oldest first, a page at a time."""
    while True:
        page = read_events(path, since=since, kind=kind, limit=MAX_PAGE)
        yield from page
        if len(page) < MAX_PAGE:
            return
        since = int(page[-1]["seq"])


__all__ = ["EVENTS_FILE", "MAX_PAGE", "MAX_PENDING", "EventLog", "encode", "iter_events", "read_events"]
