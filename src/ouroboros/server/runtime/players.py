"""A played world's players for an operator: list them, look one up, move one (worlds with a
``spec.game`` only).

Reads happen under the runner's lock, between two ticks. A move is checked now (an unknown player
or room raises and queues nothing) and then submitted as the game's ``move_input`` world input,
so it lands at the next tick boundary; the feed gets a ``players`` event naming the operator.
"""

from __future__ import annotations

import threading
from typing import Any

from ouroboros.engine import World
from ouroboros.errors import BadInputError
from ouroboros.server.runtime.feed import Feed
from ouroboros.worlds.spec import GameHook


class PlayersMixin:
    """The players half of a ``WorldRunner`` (see ``runner``)."""

    name: str
    feed: Feed
    lock: threading.RLock
    world: World

    def _game(self) -> GameHook:
        from ouroboros.worlds import world_names, world_spec

        game = world_spec(self.name).game
        if game is None:
            played = [n for n in world_names() if world_spec(n).game is not None]
            raise BadInputError(f"{self.name} has no players (worlds with players: {', '.join(played)})")
        return game

    def players(self) -> list[dict[str, Any]]:
        game = self._game()
        with self.lock:
            return game.players(self.world)

    def feedback(self, limit: int) -> dict[str, Any]:
        """What players said with ``feedback``, newest first, with counts per category."""
        game = self._game()
        with self.lock:
            return game.feedback(self.world, limit)

    def player(self, name: str) -> dict[str, Any]:
        game = self._game()
        with self.lock:
            return game.player(self.world, name)

    def move_player(self, name: str, room: str, actor: str, reason: str) -> dict[str, Any]:
        """Check, then queue the move for the next tick; returns from, to and that tick."""
        game = self._game()
        actor, reason = actor.strip()[:200] or "operator", reason.strip()[:200]
        if not reason:
            raise BadInputError("a reason is required (the player is told it)")
        with self.lock:
            moved = game.check_move(self.world, name, room)
            self.world.submit(game.move_input, {"name": name, "room": room, "actor": actor, "reason": reason})
            moved["applies_at_tick"] = self.world.tick + 1
        self.feed.publish("players", self.name, action="move", actor=actor, reason=reason, **moved)
        return moved

    def answer_local(self, request: dict[str, Any]) -> Any:
        """A request from ``ouroboros players --data`` (``inbox``): ``op`` list, show or move."""
        op = request.get("op")
        if op == "list":
            return self.players()
        if op == "show":
            return self.player(str(request.get("name")))
        if op == "move":
            actor, reason = str(request.get("actor") or "local"), str(request.get("reason") or "")
            return self.move_player(str(request.get("name")), str(request.get("room")), actor, reason)
        if op == "restore_cost":
            try:
                return self.restore_preview(str(request.get("snapshot")), str(request.get("mode")))  # type: ignore[attr-defined]
            except KeyError:
                raise BadInputError(f"no snapshot {request.get('snapshot')!r} of {self.name}") from None
        raise BadInputError(f"unknown request {op!r} (list, show, move, restore_cost)")


__all__ = ["PlayersMixin"]
