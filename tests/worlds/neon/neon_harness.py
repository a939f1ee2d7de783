"""A neon city driven in-process: characters enter, type lines, and we read what they were told."""

from __future__ import annotations

from collections import deque
from typing import Any

from ouroboros.engine import World
from ouroboros.worlds import build_world
from ouroboros.worlds.neon import find_player
from ouroboros.worlds.neon.city import state
from ouroboros.worlds.neon.runtime import NeonGame
from ouroboros.worlds.neon.tables import tables


class City:
    def __init__(self, seed: int = 1, world: World | None = None) -> None:
        self.world = world or build_world("neon", seed)
        self.game = NeonGame(self.world)
        self.seen: dict[str, list[dict[str, Any]]] = {}
        self.game.subscribe(lambda name, events: self.seen.setdefault(name, []).extend(events))

    def enter(self, *names: str) -> None:
        for name in names:
            self.game.enter(name)
        self.game.step()

    def do(self, name: str, *lines: str, ticks: int = 1) -> str:
        """Type ``lines`` (one per tick) and return every text ``name`` got meanwhile."""
        start = len(self.seen.get(name, []))
        for line in lines:
            self.game.command(name, line)
            self.game.step()
        for _ in range(ticks - 1):
            self.game.step()
        return self.text(name, start)

    def wait(self, ticks: int) -> None:
        for _ in range(ticks):
            self.game.step()

    def text(self, name: str, start: int = 0) -> str:
        return "\n".join(e["text"] for e in self.seen.get(name, [])[start:] if e["type"] == "text")

    def player(self, name: str) -> int:
        entity = find_player(self.world, name)
        assert entity is not None, name
        return entity

    def room_id(self, name: str) -> str:
        room = self.world.get(self.player(name), "Place")["room"]
        return str(state(self.world)["room_ids"][room])

    def credits(self, name: str) -> int:
        return int(self.world.get(self.player(name), "Player")["credits"])

    def walk_to(self, name: str, room_id: str) -> None:
        for direction in path(self.world, self.room_id(name), room_id):
            self.do(name, direction)
        assert self.room_id(name) == room_id, (self.room_id(name), room_id)


def path(world: World, start: str, goal: str) -> list[str]:
    """The shortest list of exits from ``start`` to ``goal`` (breadth first over the content)."""
    rooms = tables(world).rooms
    came: dict[str, tuple[str, str] | None] = {start: None}
    todo = deque([start])
    while todo:
        here = todo.popleft()
        if here == goal:
            break
        for direction, there in sorted(rooms[here].get("exits", {}).items()):
            if there in rooms and there not in came:
                came[there] = (here, direction)
                todo.append(there)
    steps: list[str] = []
    at = goal
    while came[at] is not None:
        prev, direction = came[at]  # type: ignore[misc]
        steps.append(direction)
        at = prev
    return steps[::-1]
