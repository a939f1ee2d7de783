"""An evolving world's evolution loop in a cluster's control process, its dish ticked by a shard.

The control process ticks nothing: its runner's world is a *mirror* of the dish. ``DishMirror``
(on the world's control thread, every round of the ``ControlPlane``) reads the newest snapshot
the world's first shard wrote (``keys.shard_snapshot``, every ``cluster.dish.SNAPSHOT_EVERY_S``;
one ``GET``), restores it into the runner's world under the runner's lock when it is newer than
the one mirrored, and then lets the loop look at it (``runner.evolution.maybe_start``: the watcher
sees the dish's telemetry, which the snapshot carries; a cycle due starts on the evolution thread,
on a fork of the mirror). Before a first snapshot no cycle starts, and an operator's trigger is
refused (``no_dish``: the loop's ``unready``). Why a published
snapshot rather than asking the shard for one: no request/answer protocol between the two, the
shard's tick never waits (it hands bytes to its link thread), the watcher needs a fresh look every
few seconds anyway, and one compressed snapshot per ``SNAPSHOT_EVERY_S`` is small (tens of KB).

The cycle's candidates go to the workers as ``evolve`` jobs (``ai.offload.EvolveJobs``, when the
control offloads: ``cluster up`` with workers); without (``--no-gen-jobs``) they are evaluated in
the control process, as ``go`` does. The accepted change is submitted to the governor once
(``EvolutionLoop.once``: the world's ``EffectLog``, ``DATA/<world>/effects.sqlite3``), goes through
the pipeline as in ``go``, and reaches the shard as the version the control publishes.
"""

from __future__ import annotations

import logging
from typing import Any

import redis

from ouroboros.cluster import keys
from ouroboros.cluster.dish import decode_snapshot
from ouroboros.cluster.follow import REDIS_ERRORS
from ouroboros.errors import OuroborosError

log = logging.getLogger("ouroboros.cluster")


class DishMirror:
    """The control's mirror of one evolving world's dish (see the module docstring)."""

    def __init__(self, url: str, runner: Any) -> None:
        self.runner = runner
        self.world = runner.name
        self.r = redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=1.0, socket_connect_timeout=1.0
        )
        #: the shard and tick of the snapshot mirrored now (``None``: none yet)
        self.shard: str | None = None
        self.tick: int | None = None
        self.version: str | None = None
        self.mirrored = 0
        self._refused: str | None = None

    def status(self) -> dict[str, Any] | None:
        if self.tick is None:
            return None
        return {"shard": self.shard, "tick": self.tick, "version": self.version, "mirrored": self.mirrored}

    def unready(self) -> str | None:
        """Why the loop cannot plan a cycle yet (an operator's trigger is refused with it)."""
        if self.tick is None:
            return f"no shard of {self.world} has sent a snapshot of its dish yet: try again in a moment"
        return None

    def step(self) -> bool:
        """On the world's control thread: mirror a newer snapshot (True when one was restored),
        then let the loop start a cycle when one is due. Redis away: nothing new, no error."""
        restored, first, raw = False, "", None
        try:
            members: Any = self.r.smembers(keys.world_shards(self.world))
            first = min((str(m) for m in members), default="")
            raw = self.r.get(keys.shard_snapshot(first)) if first else None
        except REDIS_ERRORS:
            pass
        got = decode_snapshot(raw if isinstance(raw, str) else None)
        if got is not None and (self.tick is None or got[0] > self.tick or first != self.shard):
            tick, version, data = got
            try:
                with self.runner.lock:
                    self.runner.world.restore(data)
            except OuroborosError as exc:  # not this world's dish: keep the last one, say it once
                if self._refused != exc.message:
                    self._refused = exc.message
                    log.warning("world %s: the snapshot of %s is refused: %s", self.world, first, exc.message)
            else:
                self.shard, self.tick, self.version, restored = first, tick, version, True
                self.mirrored += 1
                self._refused = None
        if self.tick is not None:
            self.runner.evolution.maybe_start()
        return restored

    def close(self) -> None:
        self.r.close()


def attach(url: str, runner: Any, offload: bool) -> tuple[DishMirror, Any, Any]:
    """On ``runner``'s control thread: its loop evaluated by the ``evolve`` workers (``offload``)
    or here, delivering once; nothing here to pace against. Returns the mirror, the once-log and
    the evolve queue (``None`` without offload), for ``detach``."""
    from ouroboros.cluster.control import EFFECTS_FILE
    from ouroboros.cluster.effects import EffectLog

    loop = runner.evolution.loop
    loop.pace = None  # the dish ticks on a shard: the evaluation waits for no tick here
    loop.once = EffectLog(runner.folder / EFFECTS_FILE)
    queue = None
    if offload:
        from ouroboros.ai.offload import EvolveJobs
        from ouroboros.cluster.redis_queue import RedisJobQueue

        queue = RedisJobQueue(url, ("evolve",), socket_timeout_s=2.0)
        loop.evaluator = EvolveJobs(queue, runner.name)
    mirror = DishMirror(url, runner)
    loop.unready = mirror.unready
    return mirror, loop.once, queue


def detach(runner: Any, parts: tuple[DishMirror, Any, Any]) -> None:
    """On ``runner``'s control thread: undo ``attach``."""
    mirror, once, queue = parts
    runner.evolution.stop()  # the cycle under way stops at its next candidate; nothing delivered
    loop = runner.evolution.loop
    if loop is not None:
        loop.evaluator, loop.once, loop.unready = None, None, None
    mirror.close()
    once.close()
    if queue is not None:
        queue.close()


__all__ = ["DishMirror", "attach", "detach"]
