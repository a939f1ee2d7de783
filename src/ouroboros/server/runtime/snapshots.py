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

A world run as shards (``go --shards neon=2``): a snapshot holds shard 0's world only, so a
restore is refused (``ShardedRestoreError``, HTTP 409, audited as every refused write) before
anything changes — no automatic snapshot, no world put back — rather than put back shard 0 alone
while the other shards keep their state; its preview is refused the same way (it would count
shard 0's characters alone). Restore it once it runs as one world (no ``--shards``).
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from ouroboros.engine import World
from ouroboros.errors import ShardedRestoreError
from ouroboros.patches import write_atomic
from ouroboros.server.runtime.feed import Feed, _now
from ouroboros.server.runtime.options import RuntimeOptions
from ouroboros.server.runtime.parts import CouncilPart
from ouroboros.worlds.spec import RunningGame

T = TypeVar("T")

SNAPSHOT_ID = re.compile(r"^[0-9]{10}-[0-9a-f]{8}$")
#: The snapshot ``go`` takes of a world that starts new (``kind`` in its sidecar; older sidecars
#: have only the label).
CLEAN_LABEL = "clean state before the director"
CLEAN_KIND = "clean"
AUTO_KIND = "auto"
RESTORE_MODES = ("world_only", "everything")


class SnapshotHost(Protocol):
    """What the snapshots of a live world need of its runner."""

    name: str
    folder: Path
    feed: Feed
    lock: threading.RLock
    world: World
    game: RunningGame | None
    options: RuntimeOptions
    council: CouncilPart | None

    def call(self, fn: Callable[[], T], timeout_s: float = ...) -> T:
        """Run ``fn`` on the world's control thread."""
        ...

    def follow_after_restore(self, reenter: list[str]) -> None:
        """Under the lock, after a restore: back onto the active version at the next tick, then
        ``reenter`` the characters who were present."""
        ...


class Snapshots:
    """A live world's snapshots (``runner.snapshots``), on the runner it is given."""

    def __init__(self, host: SnapshotHost) -> None:
        self.host = host

    @property
    def snapshot_dir(self) -> Path:
        return self.host.folder / "snapshots"

    def entries(self) -> list[dict[str, Any]]:
        if not self.snapshot_dir.is_dir():
            return []
        out = []
        for meta in sorted(self.snapshot_dir.glob("*.json")):
            with contextlib.suppress(OSError, ValueError):
                out.append(json.loads(meta.read_text()))
        return out

    def meta(self, snapshot_id: str) -> dict[str, Any] | None:
        if not SNAPSHOT_ID.match(snapshot_id):
            return None
        path = self.snapshot_dir / f"{snapshot_id}.json"
        return json.loads(path.read_text()) if path.exists() else None

    def create_clean(self, actor: str) -> dict[str, Any]:
        """The snapshot of a world that starts new, before the director touches it: one per
        world (an older one, of the world a ``--fresh`` start replaced, is deleted)."""
        meta = self.create(CLEAN_LABEL, actor, kind=CLEAN_KIND)
        for old in self.entries():
            if old.get("id") != meta["id"] and (
                old.get("kind") == CLEAN_KIND or old.get("label") == CLEAN_LABEL
            ):
                self.delete(str(old["id"]), actor)
        return meta

    def create(self, label: str, actor: str, *, kind: str = "operator") -> dict[str, Any]:
        with self.host.lock:
            data, tick, digest = (
                self.host.world.snapshot(),
                self.host.world.tick,
                self.host.world.digest().hex,
            )
        self.snapshot_dir.mkdir(parents=True, exist_ok=True)
        snapshot_id = f"{tick:010d}-{secrets.token_hex(4)}"
        meta = {
            "id": snapshot_id,
            "world": self.host.name,
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
        self.host.feed.publish("snapshot", self.host.name, action="create", snapshot=meta)
        return meta

    def auto(self, reason: str, actor: str) -> dict[str, Any]:
        """A snapshot before a high-risk operation, listed with its ``reason``; then the retention
        policy prunes older automatic ones."""
        meta = self.create(f"auto: {reason}"[:200], actor, kind=AUTO_KIND)
        self.prune_auto(actor)
        return meta

    def prune_auto(self, actor: str) -> list[str]:
        """Keep the last ``auto_snapshot_keep_last`` automatic snapshots and the newest of each of
        the last ``auto_snapshot_keep_days`` days; delete the others. Returns the deleted ids."""
        autos = sorted(
            (m for m in self.entries() if m.get("kind") == AUTO_KIND), key=lambda m: str(m["created_at"])
        )
        keep_last = max(1, int(getattr(self.host.options, "auto_snapshot_keep_last", 5)))
        keep_days = max(0, int(getattr(self.host.options, "auto_snapshot_keep_days", 7)))
        keep = {str(m["id"]) for m in autos[-keep_last:]}
        newest_of_day: dict[str, str] = {}
        for m in autos:
            newest_of_day[str(m["created_at"])[:10]] = str(m["id"])
        for day in sorted(newest_of_day)[-keep_days:] if keep_days else []:
            keep.add(newest_of_day[day])
        gone = [str(m["id"]) for m in autos if str(m["id"]) not in keep]
        for snapshot_id in gone:
            self.delete(snapshot_id, actor)
        return gone

    def _characters_of(self, world: World) -> dict[str, dict[str, Any]]:
        """Every character of a world people play (its ``spec.game``); none otherwise."""
        from ouroboros.worlds import world_spec

        game = world_spec(self.host.name).game
        return {} if game is None else game.characters(world)

    def preview(self, snapshot_id: str, mode: str = "world_only") -> dict[str, Any]:
        """What restoring ``snapshot_id`` in ``mode`` would take from each player, before anything
        changes (``KeyError``: no such snapshot; ``BadInputError``: no such mode)."""
        from ouroboros.errors import BadInputError
        from ouroboros.worlds import world_spec

        if mode not in RESTORE_MODES:
            raise BadInputError(f"restore mode must be one of {', '.join(RESTORE_MODES)}, not {mode!r}")
        meta = self.meta(snapshot_id)
        if meta is None:
            raise KeyError(snapshot_id)
        self._refuse_sharded(snapshot_id, "a restore would be refused, so there is nothing to preview")
        data = (self.snapshot_dir / f"{snapshot_id}.snapshot").read_bytes()
        with self.host.lock:
            now, tick = self._characters_of(self.host.world), self.host.world.tick
            then_world = self.host.world.fork()
        then_world.restore(data)  # raises SnapshotError: nothing changed
        then = self._characters_of(then_world)
        game = world_spec(self.host.name).game
        players = [] if game is None else game.restore_cost(now, then if mode == "everything" else None)
        totals = {k: sum(int(p[k]) for p in players) for k in ("xp", "credits", "items", "jobs")}
        totals["characters_lost"] = sum(1 for p in players if p["character_lost"])
        return {"snapshot": meta, "mode": mode, "from_tick": tick, "to_tick": meta["tick"],
                "players": players, "totals": totals}  # fmt: skip

    def _refuse_sharded(self, snapshot_id: str, outcome: str) -> None:
        """A world run as shards: a snapshot holds shard 0 only, so neither a restore nor its
        preview (which would count shard 0's characters alone) is answered."""
        from ouroboros.server.runtime.shards import ShardSet

        shards = getattr(self.host, "shards", None)  # a cluster's control puts its own view there
        if isinstance(shards, ShardSet) and len(shards.worlds) > 1:
            raise ShardedRestoreError(
                f"{self.host.name} runs as {len(shards.worlds)} shards and a snapshot holds shard 0 only: "
                f"{outcome}. Stop go, start it without --shards (or the shards setting) for "
                f"{self.host.name}, then restore {snapshot_id}"
            )

    def restore(self, snapshot_id: str, actor: str, mode: str = "everything") -> dict[str, Any]:
        """Put the world back to ``snapshot_id``: ``everything``, or ``world_only`` (every
        character kept as it is now). An automatic snapshot is taken first."""
        from ouroboros.errors import BadInputError
        from ouroboros.worlds import world_spec

        if mode not in RESTORE_MODES:
            raise BadInputError(f"restore mode must be one of {', '.join(RESTORE_MODES)}, not {mode!r}")
        meta = self.meta(snapshot_id)
        if meta is None:
            raise KeyError(snapshot_id)
        self._refuse_sharded(snapshot_id, "nothing was restored")
        data = (self.snapshot_dir / f"{snapshot_id}.snapshot").read_bytes()
        preview = self.preview(snapshot_id, mode)  # also proves the snapshot decodes
        before = self.auto(f"before restoring {snapshot_id} ({mode})", actor)
        with self.host.lock:
            kept = self._characters_of(self.host.world) if mode == "world_only" else {}
            self.host.world.restore(data)  # raises SnapshotError and leaves the world as it was
            hook = world_spec(self.host.name).game
            if kept and hook is not None:
                hook.put_characters(self.host.world, kept)
            # characters online before the restore come back in, once the world is back on its version
            reenter = self.host.game.take_everyone_out() if self.host.game is not None else []
            self.host.follow_after_restore(reenter)
        self.host.feed.publish(
            "snapshot", self.host.name, action="restore", snapshot=meta, actor=actor, mode=mode
        )
        proposals = self._newer_proposals(meta, snapshot_id)
        return {**meta, "restored_at_tick": self.host.world.tick, "mode": mode, "auto_snapshot": before["id"],
                "cost": preview["players"], "totals": preview["totals"], "proposals": proposals}  # fmt: skip

    def _newer_proposals(self, meta: dict[str, Any], snapshot_id: str) -> list[dict[str, Any]]:
        """The council's proposals that went active after the snapshot was taken, each told what
        became of it: a restore puts back the world, not the ledger, so the restored world follows
        the active version again and every such proposal that is still active stays in it."""
        council = self.host.council
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
            result: list[dict[str, Any]] = self.host.call(mark)
        except Exception as exc:  # the restore is done; saying so must not fail it
            self.host.feed.publish(
                "error", self.host.name, source="restore", message=f"{type(exc).__name__}: {exc}"
            )
            return []
        return result

    def delete(self, snapshot_id: str, actor: str) -> dict[str, Any]:
        meta = self.meta(snapshot_id)
        if meta is None:
            raise KeyError(snapshot_id)
        (self.snapshot_dir / f"{snapshot_id}.snapshot").unlink(missing_ok=True)
        (self.snapshot_dir / f"{snapshot_id}.json").unlink(missing_ok=True)
        self.host.feed.publish("snapshot", self.host.name, action="delete", snapshot=meta, actor=actor)
        return meta


def _parse(at: str) -> datetime:
    return datetime.fromisoformat(at.replace("Z", "+00:00"))


__all__ = [
    "AUTO_KIND",
    "CLEAN_KIND",
    "CLEAN_LABEL",
    "RESTORE_MODES",
    "SNAPSHOT_ID",
    "SnapshotHost",
    "Snapshots",
]
