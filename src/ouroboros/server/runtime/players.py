"""The city's players for an operator: list them, look one up, move one (neon only).

Reads happen under the runner's lock, between two ticks. A move is checked now (an unknown player
or room raises and queues nothing) and then submitted as the ``neon.operator_move`` world input,
so it lands at the next tick boundary; the feed gets a ``players`` event naming the operator.
"""

from __future__ import annotations

import threading
from typing import Any

from ouroboros.engine import World
from ouroboros.errors import BadInputError
from ouroboros.server.runtime.feed import Feed


class PlayersMixin:
    """The players half of a ``WorldRunner`` (see ``runner``)."""

    name: str
    feed: Feed
    lock: threading.RLock
    world: World

    def _neon_only(self) -> None:
        if self.name != "neon":
            raise BadInputError(f"{self.name} has no players (only neon does)")

    def players(self) -> list[dict[str, Any]]:
        from ouroboros.worlds.neon.operator import players

        self._neon_only()
        with self.lock:
            return players(self.world)

    def feedback(self, limit: int) -> dict[str, Any]:
        """What players said with ``feedback``, newest first, with counts per category."""
        from ouroboros.worlds.neon.experience import feedback_view

        self._neon_only()
        with self.lock:
            return feedback_view(self.world, limit)

    def player(self, name: str) -> dict[str, Any]:
        from ouroboros.worlds.neon.operator import player_info

        self._neon_only()
        with self.lock:
            return player_info(self.world, name)

    def move_player(self, name: str, room: str, actor: str, reason: str) -> dict[str, Any]:
        """Check, then queue the move for the next tick; returns from, to and that tick."""
        from ouroboros.worlds.neon.operator import MOVE, check_move

        self._neon_only()
        actor, reason = actor.strip()[:200] or "operator", reason.strip()[:200]
        if not reason:
            raise BadInputError("a reason is required (the player is told it)")
        with self.lock:
            moved = check_move(self.world, name, room)
            self.world.submit(MOVE, {"name": name, "room": room, "actor": actor, "reason": reason})
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
