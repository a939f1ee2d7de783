"""One played world run as several shards behind one gateway: ``ShardedGame`` is the ``LiveGame``
the gateways serve, over one live game per shard, routed by the rollout's ``Router``.

Each shard is a whole game of its own (its world, its saved state, its version); the gateways
and the accounts are the world's one set. What it promises:

- **Login routes.** ``enter`` asks ``Router.login``: a live session keeps its shard; a new one
  goes where the player's cohort should be (or the least loaded shard). Commands go to the
  session's shard; ``leave`` ends the session (a session boundary: the next login routes afresh).
- **A character is in one shard at a time.** Each character has a *home*, the shard that holds
  its latest record. When login sends a character elsewhere, ``transfer(character, home, shard)``
  moves the record there before it enters (``home`` is ``None`` when it is not known yet, for the
  transfer to find). Its copy in the old shard stays, offline, and is never entered again
  without a transfer first.
- **Rollback is never sticky.** ``boundary`` (the runner calls it at every tick boundary, before
  the shards follow their versions) applies ``Router.step``: a shard switched back by a rollback
  takes its sessions with it, and each of those players is told ``rolled_back_text`` once, before
  the tick that lands the stable version runs their next command.
- Every shard's events reach every subscriber, as one game's would.

Nothing here reads a clock: ticks come from the runner, and ``enter`` is stamped with the tick the
runner last ran (``tick``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ouroboros.rollout.router import Fleet, Move, Router
from ouroboros.server.gateway.game import Event

Deliver = Callable[[str, list[Event]], None]
#: moves a character's record from shard ``home`` (``None``: not known) into shard ``target``
Transfer = Callable[[str, str | None, str], None]


class ShardGame(Protocol):
    """What ``ShardedGame`` needs of each shard's game (a ``RunningGame`` has it all)."""

    name: str
    tick_hz: float
    autosave_s: float
    frozen: str | None

    def enter(self, character: str) -> None: ...

    def command(self, character: str, line: str) -> None: ...

    def leave(self, character: str) -> None: ...

    def present(self, character: str) -> bool: ...

    def subscribe(self, deliver: Deliver) -> Callable[[], None]: ...

    def step(self) -> Any: ...

    def save(self) -> None: ...

    def close(self) -> None: ...

    def operators_stopped(self, why: str) -> None: ...

    def operators_resumed(self, why: str) -> None: ...

    def take_everyone_out(self) -> list[str]: ...


class ShardedGame:
    """The shards of one played world as one ``LiveGame`` (see the module docstring)."""

    def __init__(
        self,
        games: Mapping[str, ShardGame],
        running: Mapping[str, str | None],
        *,
        router: Router,
        tick: Callable[[], int],
        transfer: Transfer | None = None,
        homes: Mapping[str, str] | None = None,
        noun: str = "world",
    ) -> None:
        if not games or set(games) != set(running):
            raise ValueError("a sharded game needs one game and one running version per shard")
        self.shards: dict[str, ShardGame] = dict(games)
        first = next(iter(self.shards.values()))
        self.name = first.name
        self.autosave_s = first.autosave_s
        self._tick_hz = first.tick_hz
        self.router = router
        self.fleet = Fleet(dict(running))
        self.homes: dict[str, str] = dict(homes or {})
        self.rolled_back_text = f"The {noun} shifts around you: a change was rolled back."
        self._tick = tick
        self._transfer = transfer
        self._subscribers: list[Deliver] = []
        self._exposed: dict[str, frozenset[str]] = {}
        for game in self.shards.values():
            game.subscribe(self._deliver)

    # -- routing -----------------------------------------------------------------------------------
    def _set_fleet(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self._exposed = {}

    def shard_of(self, character: str) -> str | None:
        """The shard of the character's live session (``None``: it has none)."""
        session = self.fleet.sessions.get(character)
        return None if session is None else session.shard

    def exposed(self, shard: str) -> frozenset[str]:
        """The accounts with a session on ``shard`` (one shared set until a session changes, so a
        KPI book keeping a report per tick keeps one set, not one per tick)."""
        found = self._exposed.get(shard)
        if found is None:
            found = frozenset(s.account_id for s in self.fleet.on(shard))
            self._exposed[shard] = found
        return found

    def boundary(self, router: Router, tick: int) -> dict[str, str | None]:
        """A tick boundary: follow ``router`` (switch the shards that may switch now, move the
        sessions of a rolled-back shard and tell their players); the version each shard runs."""
        self.router = router
        fleet, moves = router.step(self.fleet, tick)
        if fleet != self.fleet:
            self._set_fleet(fleet)
        for move in moves:
            self._tell_moved(move)
        return dict(self.fleet.running)

    def _tell_moved(self, move: Move) -> None:
        event = {"type": "text", "style": "system", "text": self.rolled_back_text}
        self._deliver(move.account_id, [event])

    # -- LiveGame ----------------------------------------------------------------------------------
    def enter(self, character: str) -> None:
        if character in self.fleet.sessions:
            return
        fleet, session, _why = self.router.login(self.fleet, character, self._tick())
        home = self.homes.get(character)
        if home != session.shard and self._transfer is not None:
            self._transfer(character, home, session.shard)
        self.homes[character] = session.shard
        self._set_fleet(fleet)
        self.shards[session.shard].enter(character)

    def command(self, character: str, line: str) -> None:
        shard = self.shard_of(character)
        if shard is None:
            return
        self.fleet = self.router.touch(self.fleet, character, self._tick())  # same sessions, same sets
        self.shards[shard].command(character, line)

    def leave(self, character: str) -> None:
        shard = self.shard_of(character)
        if shard is None:
            return
        self._set_fleet(self.router.logout(self.fleet, character))
        self.shards[shard].leave(character)

    def present(self, character: str) -> bool:
        shard = self.shard_of(character)
        return shard is not None and self.shards[shard].present(character)

    def subscribe(self, deliver: Deliver) -> Callable[[], None]:
        self._subscribers.append(deliver)
        return lambda: self._subscribers.remove(deliver) if deliver in self._subscribers else None

    def _deliver(self, character: str, events: list[Event]) -> None:
        for deliver in list(self._subscribers):
            deliver(character, events)

    # -- RunningGame -------------------------------------------------------------------------------
    @property
    def tick_hz(self) -> float:
        return self._tick_hz

    @tick_hz.setter
    def tick_hz(self, value: float) -> None:
        self._tick_hz = value
        for game in self.shards.values():
            game.tick_hz = value

    @property
    def frozen(self) -> str | None:
        return next(iter(self.shards.values())).frozen

    @frozen.setter
    def frozen(self, why: str | None) -> None:
        for game in self.shards.values():
            game.frozen = why

    def step(self) -> None:
        """One tick of every shard, at the boundary the router gives (runners time each shard
        themselves: see ``server.runtime.shards``)."""
        self.boundary(self.router, self._tick())
        for game in self.shards.values():
            game.step()

    def save(self) -> None:
        for game in self.shards.values():
            game.save()

    def close(self) -> None:
        for game in self.shards.values():
            game.close()

    def operators_stopped(self, why: str) -> None:
        for game in self.shards.values():
            game.operators_stopped(why)

    def operators_resumed(self, why: str) -> None:
        for game in self.shards.values():
            game.operators_resumed(why)

    def take_everyone_out(self) -> list[str]:
        out: set[str] = set()
        for game in self.shards.values():
            out.update(game.take_everyone_out())
        self._set_fleet(Fleet(dict(self.fleet.running)))
        return sorted(out)

    async def run_ticks(self) -> None:
        """Tick at ``tick_hz`` until cancelled (a runner ticks it itself; this is for tools)."""
        while True:
            self.step()
            await asyncio.sleep(1.0 / self._tick_hz if self._tick_hz > 0 else 0)


__all__ = ["ShardGame", "ShardedGame", "Transfer"]
