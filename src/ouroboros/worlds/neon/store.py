"""The city on disk: one SQLite file (WAL) holding the last saved world and the economic guard's
audit of held transactions. (Accounts live in the same file, in the gateway's own table.)

A save is one transaction: the whole world (an engine snapshot, which carries the content the city
runs on) replaces the previous one, and the holds recorded since the last save are appended, so a
crash mid-save leaves the previous save whole.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from ouroboros.engine import World
from ouroboros.worlds import world_from_meta
from ouroboros.worlds.neon.city import state

DB_FILE = "neon.db"
SCHEMA = """
CREATE TABLE IF NOT EXISTS world_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    tick INTEGER NOT NULL,
    digest TEXT NOT NULL,
    snapshot BLOB NOT NULL,
    saved_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS economy_holds (
    seq INTEGER PRIMARY KEY,
    tick INTEGER NOT NULL,
    player TEXT NOT NULL,
    kind TEXT NOT NULL,
    credits INTEGER NOT NULL,
    item TEXT,
    reason TEXT NOT NULL
);
"""


class CityStore:
    def __init__(self, data: Path) -> None:
        data.mkdir(parents=True, exist_ok=True)
        self.path = data / DB_FILE
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        self._holds_saved = self._count_holds()

    def _count_holds(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM economy_holds").fetchone()[0])

    def load(self) -> World | None:
        """The last saved city (every character offline), or None when nothing was saved."""
        row = self.db.execute("SELECT snapshot FROM world_state WHERE id = 1").fetchone()
        if row is None:
            return None
        from ouroboros.engine.snapshot import read_header

        header, _ = read_header(row[0])
        world = world_from_meta(int(header["seed"]), header.get("meta"))
        world.restore(row[0])
        for chunk in world.query("Player"):
            chunk["Player.online"][:] = 0
        for chunk in world.query("Actor"):
            chunk["Actor.target"][:] = 0
        return world

    def save(self, world: World) -> None:
        snapshot = world.snapshot()
        digest = world.digest().hex
        held = state(world)["held"]
        total = state(world)["economy"]["held_total"]
        new = (
            held[len(held) - min(len(held), total - self._holds_saved) :] if total > self._holds_saved else []
        )
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(
                "INSERT OR REPLACE INTO world_state (id, tick, digest, snapshot, saved_at)"
                " VALUES (1, ?, ?, ?, ?)",
                (world.tick, digest, snapshot, time.time()),
            )
            self.db.executemany(
                "INSERT INTO economy_holds (tick, player, kind, credits, item, reason)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(h["tick"], h["player"], h["kind"], h["credits"], h["item"], h["reason"]) for h in new],
            )
        self._holds_saved = total

    def holds(self) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT tick, player, kind, credits, item, reason FROM economy_holds ORDER BY seq"
        ).fetchall()
        keys = ("tick", "player", "kind", "credits", "item", "reason")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def close(self) -> None:
        self.db.close()
