"""A played world's players for an operator: list them, look one up, move one (worlds with a
``spec.game`` only).

Reads happen under the runner's lock, between two ticks. A move is checked now (an unknown player
or room raises and queues nothing) and then submitted as the game's ``move_input`` world input,
so it lands at the next tick boundary; the feed gets a ``players`` event naming the operator.

A world run as shards (``go --shards neon=2``): the list holds every shard's characters, each once,
with a ``shard`` field — the shard that holds it now (the character store knows), else ``None``
(offline: no shard holds it; its entry is the first shard world's copy that has it). ``show`` and
``move`` act on the holder's world; a move of a character no shard holds is refused (its record in
the store would undo it when it enters again). One world's entries carry no ``shard`` field.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Protocol

from ouroboros.engine import World
from ouroboros.errors import BadInputError
from ouroboros.server.runtime.feed import Feed
from ouroboros.server.runtime.snapshots import Snapshots

if TYPE_CHECKING:
    from ouroboros.server.runtime.shards import ShardSet
from ouroboros.worlds.spec import GameHook


class PlayersHost(Protocol):
    """What the player tools need of a live world's runner."""

    name: str
    feed: Feed
    lock: threading.RLock
    world: World
    snapshots: Snapshots
    shards: ShardSet | None


class Players:
    """A played world's players for its operator (``runner.players``), on the runner it is given."""

    def __init__(self, host: PlayersHost) -> None:
        self.host = host

    def _game(self) -> GameHook:
        from ouroboros.worlds import world_names, world_spec

        game = world_spec(self.host.name).game
        if game is None:
            played = [n for n in world_names() if world_spec(n).game is not None]
            raise BadInputError(f"{self.host.name} has no players (worlds with players: {', '.join(played)})")
        return game

    def _sharded(self) -> ShardSet | None:
        from ouroboros.server.runtime.shards import ShardSet

        shards = getattr(self.host, "shards", None)  # a cluster's control puts its own view there
        return shards if isinstance(shards, ShardSet) and len(shards.worlds) > 1 else None

    def _holders(self, shards: ShardSet) -> dict[str, str]:
        """Under the lock: each held character's shard name."""
        if shards.characters is None:
            return {}
        return {c: shard for shard, held in shards.characters.holders().items() for c in held}

    def _sharded_list(self, game: GameHook, shards: ShardSet) -> list[dict[str, Any]]:
        """Under the lock: every shard's characters, each once (see the module docstring)."""
        holders = self._holders(shards)
        found: dict[str, dict[str, Any]] = {}
        for name, world in zip(shards.names, shards.worlds, strict=True):
            for entry in game.players(world):
                who = str(entry["name"])
                if holders.get(who) == name or (who not in found and who not in holders):
                    found[who] = self._stamped(shards, holders, entry)
        return [found[who] for who in sorted(found)]

    @staticmethod
    def _stamped(shards: ShardSet, holders: dict[str, str], entry: dict[str, Any]) -> dict[str, Any]:
        """``entry`` with its ``shard``, and ``online`` as the gateway knows it (a shard world's
        copy of a character that left keeps the flag it had)."""
        who = str(entry["name"])
        online = shards.game.shard_of(who) is not None if shards.game is not None else who in holders
        return {**entry, "online": online, "shard": holders.get(who)}

    def _holder_world(self, shards: ShardSet, name: str) -> tuple[str, World]:
        """Under the lock: the shard holding ``name`` and its world; raises for anyone else."""
        shard = self._holders(shards).get(name)
        if shard is None:
            if any(p["name"] == name for p in self._sharded_list(self._game(), shards)):
                raise BadInputError(
                    f"{name} is offline and no shard holds them: move them once they are online"
                )
            self._game().player(shards.worlds[0], name)  # raises the world's own "no such player"
            raise BadInputError(f"no player {name[:80]!r}")
        return shard, shards.worlds[shards.names.index(shard)]

    def listed(self) -> list[dict[str, Any]]:
        game = self._game()
        with self.host.lock:
            shards = self._sharded()
            if shards is not None:
                return self._sharded_list(game, shards)
            return game.players(self.host.world)

    def feedback(self, limit: int) -> dict[str, Any]:
        """What players said with ``feedback``, newest first, with counts per category."""
        game = self._game()
        with self.host.lock:
            return game.feedback(self.host.world, limit)

    def show(self, name: str) -> dict[str, Any]:
        game = self._game()
        with self.host.lock:
            shards = self._sharded()
            if shards is None:
                return game.player(self.host.world, name)
            holders = self._holders(shards)
            shard = holders.get(name)
            if shard is not None:
                entry = game.player(shards.worlds[shards.names.index(shard)], name)
                return self._stamped(shards, holders, entry)
            for world in shards.worlds:
                if any(p["name"] == name for p in game.players(world)):
                    return self._stamped(shards, holders, game.player(world, name))
            return game.player(self.host.world, name)  # raises: no such player

    def move(self, name: str, room: str, actor: str, reason: str) -> dict[str, Any]:
        """Check, then queue the move for the next tick; returns from, to and that tick."""
        game = self._game()
        actor, reason = actor.strip()[:200] or "operator", reason.strip()[:200]
        if not reason:
            raise BadInputError("a reason is required (the player is told it)")
        with self.host.lock:
            shards, world = self._sharded(), self.host.world
            if shards is not None:
                shard, world = self._holder_world(shards, name)
            moved = game.check_move(world, name, room)
            world.submit(game.move_input, {"name": name, "room": room, "actor": actor, "reason": reason})
            moved["applies_at_tick"] = world.tick + 1
            if shards is not None:
                moved["shard"] = shard
        self.host.feed.publish("players", self.host.name, action="move", actor=actor, reason=reason, **moved)
        return moved

    def answer_local(self, request: dict[str, Any]) -> Any:
        """A request from ``ouroboros players --data`` (``inbox``): ``op`` list, show or move."""
        op = request.get("op")
        if op == "list":
            return self.listed()
        if op == "show":
            return self.show(str(request.get("name")))
        if op == "move":
            actor, reason = str(request.get("actor") or "local"), str(request.get("reason") or "")
            return self.move(str(request.get("name")), str(request.get("room")), actor, reason)
        if op == "restore_cost":
            try:
                return self.host.snapshots.preview(str(request.get("snapshot")), str(request.get("mode")))
            except KeyError:
                raise BadInputError(f"no snapshot {request.get('snapshot')!r} of {self.host.name}") from None
        raise BadInputError(f"unknown request {op!r} (list, show, move, restore_cost)")


__all__ = ["Players", "PlayersHost"]
