"""A live world's snapshots: ``<data>/<world>/snapshots/<id>.snapshot`` plus a JSON sidecar.

An id is ``<tick, 10 digits>-<8 hex>``; anything else is no snapshot. A snapshot is taken and a
restore applied under the runner's lock, between two ticks; a restore that fails leaves the world
as it was, and one that succeeds puts the world back onto the active version at its next tick.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import threading
from pathlib import Path
from typing import Any

from ouroboros.engine import World
from ouroboros.patches.atomic import write_atomic
from ouroboros.server.runtime.feed import Feed, _now

SNAPSHOT_ID = re.compile(r"^[0-9]{10}-[0-9a-f]{8}$")
#: The snapshot ``go`` takes of a world that starts new (``kind`` in its sidecar; older sidecars
#: have only the label).
CLEAN_LABEL = "clean state before the director"
CLEAN_KIND = "clean"


class SnapshotsMixin:
    """The snapshot half of a ``WorldRunner`` (see ``runner``)."""

    name: str
    folder: Path
    feed: Feed
    lock: threading.RLock
    world: World
    game: Any
    _force_sync: bool

    @property
    def snapshot_dir(self) -> Path:
        return self.folder / "snapshots"

    def snapshots(self) -> list[dict[str, Any]]:
        if not self.snapshot_dir.is_dir():
            return []
        out = []
        for meta in sorted(self.snapshot_dir.glob("*.json")):
            with contextlib.suppress(OSError, ValueError):
                out.append(json.loads(meta.read_text()))
        return out

    def snapshot_meta(self, snapshot_id: str) -> dict[str, Any] | None:
        if not SNAPSHOT_ID.match(snapshot_id):
            return None
        path = self.snapshot_dir / f"{snapshot_id}.json"
        return json.loads(path.read_text()) if path.exists() else None

    def create_clean_snapshot(self, actor: str) -> dict[str, Any]:
        """The snapshot of a world that starts new, before the director touches it: one per
        world (an older one, of the world a ``--fresh`` start replaced, is deleted)."""
        meta = self.create_snapshot(CLEAN_LABEL, actor, kind=CLEAN_KIND)
        for old in self.snapshots():
            if old.get("id") != meta["id"] and (
                old.get("kind") == CLEAN_KIND or old.get("label") == CLEAN_LABEL
            ):
                self.delete_snapshot(str(old["id"]), actor)
        return meta

    def create_snapshot(self, label: str, actor: str, *, kind: str = "operator") -> dict[str, Any]:
        with self.lock:
            data, tick, digest = self.world.snapshot(), self.world.tick, self.world.digest().hex
        self.snapshot_dir.mkdir(parents=True, exist_ok=True)
        snapshot_id = f"{tick:010d}-{secrets.token_hex(4)}"
        meta = {
            "id": snapshot_id,
            "world": self.name,
            "tick": tick,
            "digest": digest,
            "bytes": len(data),
            "label": label,
            "kind": kind,
            "actor": actor,
            "created_at": _now(),
        }
        write_atomic(self.snapshot_dir / f"{snapshot_id}.snapshot", data)
        write_atomic(self.snapshot_dir / f"{snapshot_id}.json", json.dumps(meta).encode())
        self.feed.publish("snapshot", self.name, action="create", snapshot=meta)
        return meta

    def restore_snapshot(self, snapshot_id: str, actor: str) -> dict[str, Any]:
        meta = self.snapshot_meta(snapshot_id)
        if meta is None:
            raise KeyError(snapshot_id)
        data = (self.snapshot_dir / f"{snapshot_id}.snapshot").read_bytes()
        with self.lock:
            self.world.restore(data)  # raises SnapshotError and leaves the world as it was
            if self.game is not None:  # characters online before the restore come back in
                for chunk in self.world.query("Player"):
                    chunk["Player.online"][:] = 0
                present = sorted(self.game._present)
                self.game._present.clear()
                for name in present:
                    self.game.enter(name)
            self._force_sync = True  # back onto the active version at the next tick
        self.feed.publish("snapshot", self.name, action="restore", snapshot=meta, actor=actor)
        return {**meta, "restored_at_tick": self.world.tick}

    def delete_snapshot(self, snapshot_id: str, actor: str) -> dict[str, Any]:
        meta = self.snapshot_meta(snapshot_id)
        if meta is None:
            raise KeyError(snapshot_id)
        (self.snapshot_dir / f"{snapshot_id}.snapshot").unlink(missing_ok=True)
        (self.snapshot_dir / f"{snapshot_id}.json").unlink(missing_ok=True)
        self.feed.publish("snapshot", self.name, action="delete", snapshot=meta, actor=actor)
        return meta


__all__ = ["CLEAN_KIND", "CLEAN_LABEL", "SNAPSHOT_ID", "SnapshotsMixin"]
