"""Which version a player gets, on which shard, and when a shard switches versions. Pure: the
gateway and the shard threads (not wired yet) hold a ``Fleet`` and call these functions.

A shard runs one version at a time (it follows its own pointer). A rollout at ``pct`` wants
``k = ceil(n × pct)`` of the ``n`` shards on the patch — at least one while the rollout is live,
and at least one control shard until the last stage; which shards is a stable order of the
rollout's hash, so promotion only ever adds treatment shards. With ``scope="cohort"`` a player's
bucket picks the version and login picks a shard running it; with ``scope="shard"`` login picks
the least loaded shard and the player gets whatever it runs.

What it promises:

- **Sticky sessions.** A live session keeps its shard and its version until a session boundary
  (``logout``, or ``expire`` after an idle limit); logging in again while connected returns the
  same session. A promotion never moves a live session: a shard that must switch to the patch
  first *drains* — no new logins go there, and it switches at the first tick boundary with no
  session left on its old version.
- **Rollback is never sticky.** When the rollout is rolled back or aborted, every shard on the
  patch switches back at the next tick boundary (``step``) and every session on it moves with
  it; ``step`` returns each move so the gateway can tell the player.
- **Fail safe at login.** A player whose cohort wants the patch but finds no shard running it
  gets the stable version (``why`` says so), never an error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ouroboros.errors import BadInputError
from ouroboros.rollout.cohorts import BUCKETS, bucket
from ouroboros.rollout.controller import LIVE, Phase, RolloutState


@dataclass(frozen=True)
class Session:
    account_id: str
    shard: str
    version: str | None
    since_tick: int
    last_active_tick: int


@dataclass(frozen=True)
class Move:
    """A session moved by a rollback at a tick boundary (the player is told)."""

    account_id: str
    shard: str
    before: str | None
    after: str | None
    tick: int


@dataclass(frozen=True)
class Fleet:
    """The shards (name → the version each runs now) and the live sessions (account → session)."""

    running: Mapping[str, str | None]
    sessions: Mapping[str, Session] = field(default_factory=dict)

    def on(self, shard: str) -> list[Session]:
        return [s for s in self.sessions.values() if s.shard == shard]


class Router:
    """Routing for one moment of one world: its ``stable`` version and its rollout (or ``None``)."""

    def __init__(self, stable: str | None, rollout: RolloutState | None = None) -> None:
        self.stable = stable
        self.rollout = rollout

    @property
    def rolled_back(self) -> bool:
        return self.rollout is not None and self.rollout.phase in (Phase.ROLLED_BACK, Phase.ABORTED)

    def _pct_bp(self) -> int:
        r = self.rollout
        if r is None or not (r.phase in LIVE or r.phase is Phase.COMPLETE):
            return 0
        return r.pct_bp

    def wanted_version(self, account_id: str) -> str | None:
        """The version ``account_id``'s cohort should see now (scope ``cohort``)."""
        r, pct = self.rollout, self._pct_bp()
        if r is None or pct == 0:
            return self.stable
        if pct >= BUCKETS or bucket(r.rollout_id, account_id) < pct:
            return r.patch_id
        return self.stable

    def desired(self, shards: list[str] | tuple[str, ...] | Mapping[str, object]) -> dict[str, str | None]:
        """The version each shard should run (see the module docstring)."""
        names = sorted(shards)
        if not names:
            raise BadInputError("a world needs at least one shard")
        r, pct = self.rollout, self._pct_bp()
        if r is None or pct == 0:
            return dict.fromkeys(names, self.stable)
        if pct >= BUCKETS:
            return dict.fromkeys(names, r.patch_id)
        k = max(1, math.ceil(len(names) * pct / BUCKETS))
        k = min(k, len(names) - 1) if len(names) > 1 else 1
        order = sorted(names, key=lambda s: (bucket(r.rollout_id, f"shard:{s}"), s))
        treated = set(order[:k])
        return {s: (r.patch_id if s in treated else self.stable) for s in names}

    # -- sessions ----------------------------------------------------------------------------------
    def login(self, fleet: Fleet, account_id: str, tick: int) -> tuple[Fleet, Session, str]:
        """The player's session (their live one, if any) and why it got that version."""
        live = fleet.sessions.get(account_id)
        if live is not None:
            return fleet, live, "sticky: the session keeps its version until a session boundary"
        desired = self.desired(fleet.running)
        open_shards = [s for s in sorted(fleet.running) if fleet.running[s] == desired[s]]  # not draining

        def least_loaded(names: list[str]) -> str:
            return min(names, key=lambda s: (len(fleet.on(s)), s))

        scope = self.rollout.plan.scope if self.rollout is not None else "cohort"
        if scope == "shard":
            shard = least_loaded(open_shards or sorted(fleet.running))
            why = "shard scope: the version of the least loaded shard"
        else:
            want = self.wanted_version(account_id)
            serving = [s for s in open_shards if fleet.running[s] == want]
            if serving:
                shard, why = least_loaded(serving), f"cohort wants {want or 'base'}"
            else:
                stable = [s for s in sorted(fleet.running) if fleet.running[s] == self.stable]
                shard = least_loaded(stable or sorted(fleet.running))
                why = f"no shard runs {want or 'base'} yet: the stable version"
        session = Session(account_id, shard, fleet.running[shard], tick, tick)
        return replace(fleet, sessions={**fleet.sessions, account_id: session}), session, why

    def logout(self, fleet: Fleet, account_id: str) -> Fleet:
        """A session boundary: the next login routes afresh."""
        return replace(fleet, sessions={a: s for a, s in fleet.sessions.items() if a != account_id})

    def touch(self, fleet: Fleet, account_id: str, tick: int) -> Fleet:
        """The player did something: their session is not idle."""
        live = fleet.sessions.get(account_id)
        if live is None:
            return fleet
        return replace(fleet, sessions={**fleet.sessions, account_id: replace(live, last_active_tick=tick)})

    def expire(self, fleet: Fleet, tick: int, idle_ticks: int) -> Fleet:
        """End every session idle for ``idle_ticks`` or more (a session boundary)."""
        keep = {a: s for a, s in fleet.sessions.items() if tick - s.last_active_tick < idle_ticks}
        return replace(fleet, sessions=keep)

    def step(self, fleet: Fleet, tick: int) -> tuple[Fleet, list[Move]]:
        """A tick boundary: switch the shards that may switch now. A promotion switches a shard
        once it has drained; a rollback switches at once and moves its sessions."""
        desired = self.desired(fleet.running)
        running = dict(fleet.running)
        sessions = dict(fleet.sessions)
        moves: list[Move] = []
        patch = self.rollout.patch_id if self.rollout is not None else None
        for shard in sorted(running):
            now, want = running[shard], desired[shard]
            if now == want:
                continue
            on_it = [s for s in sessions.values() if s.shard == shard]
            if self.rolled_back and now == patch:
                for s in on_it:
                    sessions[s.account_id] = replace(s, version=want)
                    moves.append(Move(s.account_id, shard, now, want, tick))
                running[shard] = want
            elif not any(s.version != want for s in on_it):
                running[shard] = want
        return Fleet(running, sessions), moves


__all__ = ["Fleet", "Move", "Router", "Session"]
