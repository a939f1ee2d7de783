"""A live world's snapshots: ``<data>/<world>/snapshots/<id>.snapshot`` plus a JSON sidecar.

An id is ``<tick, 10 digits>-<8 hex>``; anything else is no snapshot. A snapshot is taken and a
restore applied under the runner's lock, between two ticks; a restore that fails leaves the world
as it was, and one that succeeds puts the world back onto the active version at its next tick
(which migrates what refers to objects that left, as every version change does).

A restore has a mode: ``everything`` puts the whole world back, players' characters included;
``world_only`` puts the city back and keeps every character as it is now (numbers, belongings,
jobs, position). ``restore_preview`` says before anything happens what the restore would take
from each player. Before a restore, and before other high-risk operations (a world expansion, a
mass event, a rollback over more than one version), an ``auto`` snapshot is taken, listed with its
reason; automatic snapshots are kept by a retention policy: the last ``auto_snapshot_keep_last``
plus the newest of each of the last ``auto_snapshot_keep_days`` days.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from ouroboros.engine import World
from ouroboros.patches import write_atomic
from ouroboros.server.runtime.feed import Feed, _now

SNAPSHOT_ID = re.compile(r"^[0-9]{10}-[0-9a-f]{8}$")
#: The snapshot ``go`` takes of a world that starts new (``kind`` in its sidecar; older sidecars
#: have only the label).
CLEAN_LABEL = "clean state before the director"
CLEAN_KIND = "clean"
AUTO_KIND = "auto"
RESTORE_MODES = ("world_only", "everything")


class SnapshotsMixin:
    """The snapshot half of a ``WorldRunner`` (see ``runner``)."""

    name: str
    folder: Path
    feed: Feed
    lock: threading.RLock
    world: World
    game: Any
    options: Any
    _force_sync: bool
    _reenter: list[str]

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

    def auto_snapshot(self, reason: str, actor: str) -> dict[str, Any]:
        """A snapshot before a high-risk operation, listed with its ``reason``; then the retention
        policy prunes older automatic ones."""
        meta = self.create_snapshot(f"auto: {reason}"[:200], actor, kind=AUTO_KIND)
        self.prune_auto_snapshots(actor)
        return meta

    def prune_auto_snapshots(self, actor: str) -> list[str]:
        """Keep the last ``auto_snapshot_keep_last`` automatic snapshots and the newest of each of
        the last ``auto_snapshot_keep_days`` days; delete the others. Returns the deleted ids."""
        autos = sorted(
            (m for m in self.snapshots() if m.get("kind") == AUTO_KIND), key=lambda m: str(m["created_at"])
        )
        keep_last = max(1, int(getattr(self.options, "auto_snapshot_keep_last", 5)))
        keep_days = max(0, int(getattr(self.options, "auto_snapshot_keep_days", 7)))
        keep = {str(m["id"]) for m in autos[-keep_last:]}
        newest_of_day: dict[str, str] = {}
        for m in autos:
            newest_of_day[str(m["created_at"])[:10]] = str(m["id"])
        for day in sorted(newest_of_day)[-keep_days:] if keep_days else []:
            keep.add(newest_of_day[day])
        gone = [str(m["id"]) for m in autos if str(m["id"]) not in keep]
        for snapshot_id in gone:
            self.delete_snapshot(snapshot_id, actor)
        return gone

    def _characters_of(self, world: World) -> dict[str, dict[str, Any]]:
        if self.name != "neon":
            return {}
        from ouroboros.worlds.neon.characters import characters

        return characters(world)

    def restore_preview(self, snapshot_id: str, mode: str = "world_only") -> dict[str, Any]:
        """What restoring ``snapshot_id`` in ``mode`` would take from each player, before anything
        changes (``KeyError``: no such snapshot; ``BadInputError``: no such mode)."""
        from ouroboros.errors import BadInputError
        from ouroboros.worlds.neon.characters import kept_cost, restore_cost

        if mode not in RESTORE_MODES:
            raise BadInputError(f"restore mode must be one of {', '.join(RESTORE_MODES)}, not {mode!r}")
        meta = self.snapshot_meta(snapshot_id)
        if meta is None:
            raise KeyError(snapshot_id)
        data = (self.snapshot_dir / f"{snapshot_id}.snapshot").read_bytes()
        with self.lock:
            now, tick = self._characters_of(self.world), self.world.tick
            then_world = self.world.fork()
        then_world.restore(data)  # raises SnapshotError: nothing changed
        then = self._characters_of(then_world)
        if mode == "everything":
            players = restore_cost(now, then)
        else:
            players = kept_cost(now)
        totals = {k: sum(int(p[k]) for p in players) for k in ("xp", "credits", "items", "jobs")}
        totals["characters_lost"] = sum(1 for p in players if p["character_lost"])
        return {"snapshot": meta, "mode": mode, "from_tick": tick, "to_tick": meta["tick"],
                "players": players, "totals": totals}  # fmt: skip

    def restore_snapshot(self, snapshot_id: str, actor: str, mode: str = "everything") -> dict[str, Any]:
        """Put the world back to ``snapshot_id``: ``everything``, or ``world_only`` (every
        character kept as it is now). An automatic snapshot is taken first."""
        from ouroboros.errors import BadInputError

        if mode not in RESTORE_MODES:
            raise BadInputError(f"restore mode must be one of {', '.join(RESTORE_MODES)}, not {mode!r}")
        meta = self.snapshot_meta(snapshot_id)
        if meta is None:
            raise KeyError(snapshot_id)
        data = (self.snapshot_dir / f"{snapshot_id}.snapshot").read_bytes()
        preview = self.restore_preview(snapshot_id, mode)  # also proves the snapshot decodes
        before = self.auto_snapshot(f"before restoring {snapshot_id} ({mode})", actor)
        with self.lock:
            kept = self._characters_of(self.world) if mode == "world_only" else {}
            self.world.restore(data)  # raises SnapshotError and leaves the world as it was
            if kept:
                from ouroboros.worlds.neon.characters import put_characters

                put_characters(self.world, kept)
            if self.game is not None:  # characters online before the restore come back in
                for chunk in self.world.query("Player"):
                    chunk["Player.online"][:] = 0
                self._reenter = sorted(self.game._present)  # after the world is back on its version
                self.game._present.clear()
            self._force_sync = True  # back onto the active version at the next tick
        self.feed.publish("snapshot", self.name, action="restore", snapshot=meta, actor=actor, mode=mode)
        proposals = self._newer_proposals(meta, snapshot_id)
        return {**meta, "restored_at_tick": self.world.tick, "mode": mode, "auto_snapshot": before["id"],
                "cost": preview["players"], "totals": preview["totals"], "proposals": proposals}  # fmt: skip

    def _newer_proposals(self, meta: dict[str, Any], snapshot_id: str) -> list[dict[str, Any]]:
        """The council's proposals that went active after the snapshot was taken, each told what
        became of it: a restore puts back the world, not the ledger, so the restored world follows
        the active version again and every such proposal that is still active stays in it."""
        council = getattr(self, "council", None)
        if council is None:
            return []
        taken = datetime.fromisoformat(str(meta["created_at"]))

        def mark() -> list[dict[str, Any]]:
            ledger = council.governor.ledger
            out = []
            for record in council.store.proposals():
                patch_id = record["patch_id"]
                if not patch_id:
                    continue
                went_active = [
                    e for e in ledger.entries(patch_id=patch_id, kind="transition") if e.after == "active"
                ]
                if (
                    not went_active
                    or datetime.fromisoformat(went_active[0].at.replace("Z", "+00:00")) <= taken
                ):
                    continue
                became = (
                    f"kept after restoring {snapshot_id}: the restored world follows the active version"
                    if record["state"] == "active"
                    else f"{record['state']} (restoring {snapshot_id} changed nothing of it)"
                )
                council.store.update_proposal(record["proposal_id"], reason=became)
                out.append({"proposal_id": record["proposal_id"], "state": record["state"], "became": became})
            return out

        try:
            result: list[dict[str, Any]] = self.call(mark)  # type: ignore[attr-defined]
        except Exception as exc:  # the restore is done; saying so must not fail it
            self.feed.publish("error", self.name, source="restore", message=f"{type(exc).__name__}: {exc}")
            return []
        return result

    def delete_snapshot(self, snapshot_id: str, actor: str) -> dict[str, Any]:
        meta = self.snapshot_meta(snapshot_id)
        if meta is None:
            raise KeyError(snapshot_id)
        (self.snapshot_dir / f"{snapshot_id}.snapshot").unlink(missing_ok=True)
        (self.snapshot_dir / f"{snapshot_id}.json").unlink(missing_ok=True)
        self.feed.publish("snapshot", self.name, action="delete", snapshot=meta, actor=actor)
        return meta


def _parse(at: str) -> datetime:
    return datetime.fromisoformat(at.replace("Z", "+00:00"))


__all__ = ["AUTO_KIND", "CLEAN_KIND", "CLEAN_LABEL", "RESTORE_MODES", "SNAPSHOT_ID", "SnapshotsMixin"]
