"""The gateway in front of all of a world's shards: one telnet/WebSocket front door for the world,
its logins routed by the rollout as ``ouroboros go --shards`` routes them in one process.

``RoutedGame`` is a ``ShardedGame`` (``server.gateway.sharded``) over one ``RemoteGame`` per shard
(each with a gateway stream of its own, so one shard's restart is never read as another's). What
it promises:

- **Logins follow the control's word.** Every ``every_s`` it reads, in one ``MGET``, the world's
  route (``keys.world_route``: the stable version and the rollout's state, as the control process
  writes it *before* it tells any shard) and the version each shard says it runs
  (``keys.shard_running``). ``Router.login`` over those versions sends a player of the treatment
  cohort to a shard running the patch, a control player to one running the stable version (scope
  ``shard``: the least loaded shard). A live session keeps its shard.
- **The shards switch themselves** (each follows its own key, ``cluster.follow``), so the fleet
  here is what they say they run. A rollback: once a shard that ran the rolled-back patch says it
  runs the stable version, its sessions stay on it and each of its players is told
  ``rolled_back_text`` once — after the switch landed, so their next command is answered by the
  stable version. A promotion never moves a live session: the control keeps a shard being
  promoted on its version while players are on it and names it in the route's ``draining``; no
  new login goes to a draining shard until it says it runs the patch (unless every shard drains:
  then the stable version, as in one process).
- **Characters travel through the store.** A login routed to a shard is claimed there by the shard
  (``cluster.seats``): no transfer happens here. A character another shard holds is refused by
  that shard and the player stays at the login screen.
- ``on_route`` hears each change of what it routes by (stable version, rollout, phase, share,
  each shard's version): the gateway prints it, one line each.
- **Nothing read is trusted blindly.** A route that does not parse keeps the router it had; a
  shard that says nothing (restarting, or its key expired) keeps the version it had here, so a
  restart is never taken for a switch. Redis away: it routes by what it read last.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from typing import Any

import redis.asyncio as aioredis

from ouroboros.cluster import keys
from ouroboros.cluster.remote_game import REDIS_ERRORS, RemoteGame
from ouroboros.errors import OuroborosError
from ouroboros.rollout.controller import RolloutState
from ouroboros.rollout.router import Fleet, Router, Session
from ouroboros.server.gateway.sharded import ShardedGame

#: how often the gateway reads the route and the shards' versions
FOLLOW_EVERY_S = 0.1
log = logging.getLogger("ouroboros.cluster")
_UNKNOWN = object()


class RemoteShard(RemoteGame):
    """A shard's ``RemoteGame`` as ``ShardedGame`` holds it: the shard process ticks, saves and
    freezes itself, so those are nothing here."""

    tick_hz = 0.0
    autosave_s = 0.0
    frozen: str | None = None

    def step(self) -> None:
        return None

    def save(self) -> None:
        return None

    def close(self) -> None:
        return None

    def operators_stopped(self, why: str) -> None:
        return None

    def operators_resumed(self, why: str) -> None:
        return None

    def take_everyone_out(self) -> list[str]:
        return []


class ShardsRouter(Router):
    """A ``Router`` whose shards should run what they say they run: they follow the control's keys
    on their own, so ``login`` and ``step`` route and move by the versions they reported."""

    def __init__(
        self,
        stable: str | None,
        rollout: RolloutState | None,
        running: Mapping[str, str | None],
        draining: Collection[str] = (),
    ):
        super().__init__(stable, rollout)
        self.running = dict(running)
        #: the shards a promotion drains that do not run the patch yet: no new login goes there (a
        #: rollback drains nothing)
        self.draining: frozenset[str] = frozenset()
        if rollout is not None and not self.rolled_back:
            self.draining = frozenset(
                s for s in draining if s in self.running and self.running[s] != rollout.patch_id
            )

    def login(self, fleet: Fleet, account_id: str, tick: int) -> tuple[Fleet, Session, str]:
        """``Router.login`` over the shards not draining (over all of them when every one drains,
        as in one process: the fail-safe stable version, never an error)."""
        open_shards = {s: v for s, v in fleet.running.items() if s not in self.draining}
        if account_id in fleet.sessions or not self.draining or not open_shards:
            return super().login(fleet, account_id, tick)
        routed, session, why = super().login(Fleet(open_shards, fleet.sessions), account_id, tick)
        return replace(fleet, sessions=routed.sessions), session, why

    def desired(self, shards: list[str] | tuple[str, ...] | Mapping[str, object]) -> dict[str, str | None]:
        now: Mapping[str, object] = shards if isinstance(shards, Mapping) else dict.fromkeys(shards)
        return {s: self.running[s] if s in self.running else _version(now[s]) for s in sorted(now)}


def _version(value: object) -> str | None:
    return value if isinstance(value, str) else None


def parse_route(raw: str | None) -> tuple[str | None, RolloutState | None] | None:
    """The stable version and the rollout from the control's route document; ``None`` when there is
    none or it is not one of ours."""
    if raw is None:
        return None
    try:
        doc = json.loads(raw)
        stable, rollout = doc["stable"], doc["rollout"]
        if stable is not None and not isinstance(stable, str):
            return None
        return stable, None if rollout is None else RolloutState.from_dict(rollout)
    except (ValueError, TypeError, KeyError, OuroborosError):
        return None


def parse_draining(raw: str | None) -> frozenset[str] | None:
    """The shards the control's route says a promotion drains; ``None`` when it is not ours."""
    if parse_route(raw) is None or raw is None:
        return None
    names = json.loads(raw).get("draining", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    return frozenset(names)


def parse_running(raw: str | None) -> object:
    """The version a shard said it runs (``None``: its base), or ``_UNKNOWN``."""
    if raw is None:
        return _UNKNOWN
    try:
        doc = json.loads(raw)
        version = doc["v"]
    except (ValueError, TypeError, KeyError):
        return _UNKNOWN
    return version if version is None or isinstance(version, str) else _UNKNOWN


class RoutedGame(ShardedGame):
    """One world's shards in other processes as one ``LiveGame`` (see the module docstring)."""

    def __init__(
        self,
        url: str,
        world: str,
        shards: Sequence[str],
        gateway: str,
        *,
        name: str = "shard",
        noun: str = "world",
        every_s: float = FOLLOW_EVERY_S,
        grace_s: float = 1.0,
        on_route: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        if not shards or len(set(shards)) != len(shards):
            raise ValueError("a routed game needs one or more distinct shards")
        self.world = world
        self.every_s = every_s
        self.boundaries = 0
        # each shard's events come back on a stream of their own: one shard's boot id is never
        # read as another's restart
        self.remotes = {s: RemoteShard(url, s, f"{gateway}/{s}", name=name, grace_s=grace_s) for s in shards}
        super().__init__(
            self.remotes, dict.fromkeys(shards), router=Router(None), tick=lambda: self.boundaries, noun=noun
        )
        self._url = url
        self.on_route = on_route
        self._seen: dict[str, Any] | None = None
        self._draining: frozenset[str] = frozenset()

    def follow(self, route: str | None, running: Mapping[str, str | None]) -> None:
        """One look at what the control (``route``) and the shards (``running``: each shard's
        ``keys.shard_running``) said: a boundary over the router they give."""
        parsed, draining = parse_route(route), parse_draining(route)
        if parsed is None or draining is None:  # not ours: keep the router it had
            parsed, draining = (self.router.stable, self.router.rollout), self._draining
        stable, rollout = parsed
        self._draining = draining
        now = dict(self.fleet.running)
        for shard, raw in running.items():
            version = parse_running(raw)
            if shard in now and version is not _UNKNOWN:
                now[shard] = _version(version)
        self.boundaries += 1
        router = ShardsRouter(stable, rollout, now, draining)
        self.boundary(router, self.boundaries)  # a rolled-back shard's players are told here, once
        if self.fleet.running != now:  # a shard switched: a drained promotion, or a restart's word
            sessions = {a: replace(s, version=now[s.shard]) for a, s in self.fleet.sessions.items()}
            self._set_fleet(Fleet(now, sessions))
        seen = {
            "stable": stable,
            "rollout": None if rollout is None else rollout.rollout_id,
            "phase": None if rollout is None else str(rollout.phase),
            "pct_bp": 0 if rollout is None else rollout.pct_bp,
            "scope": None if rollout is None else rollout.plan.scope,
            "running": dict(sorted(now.items())),
            "draining": sorted(router.draining),
        }
        if seen != self._seen:
            self._seen = seen
            if self.on_route is not None:
                self.on_route(seen)

    async def run_ticks(self) -> None:
        """Pump every shard's streams and follow the route until cancelled."""
        await asyncio.gather(*(g.run_ticks() for g in self.remotes.values()), self._follow_loop())

    async def _follow_loop(self) -> None:
        names = sorted(self.remotes)
        wanted = [keys.world_route(self.world), *(keys.shard_running(s) for s in names)]
        r = aioredis.Redis.from_url(self._url, decode_responses=True, socket_timeout=5.0)
        last: Any = None
        try:
            while True:
                got: Any
                try:
                    got = await r.mget(wanted)
                except REDIS_ERRORS:
                    got = None  # away: route by what was read last
                if got is not None and got != last:  # the same words again change nothing
                    try:
                        self.follow(got[0], dict(zip(names, got[1:], strict=True)))
                        last = got
                    except Exception:  # a session that fails to take a line never stops routing
                        log.exception("gateway for %s: following the route failed", self.world)
                await asyncio.sleep(self.every_s)
        finally:
            await r.aclose()


__all__ = [
    "FOLLOW_EVERY_S",
    "RemoteShard",
    "RoutedGame",
    "ShardsRouter",
    "parse_draining",
    "parse_route",
    "parse_running",
]
