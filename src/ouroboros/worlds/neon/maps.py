"""``map``: the rooms around a runner, drawn from the rooms' coordinates, and the starter district
that the city keeps safe for a new runner.

The drawing reads only content and positions (no state changes), so it is the same on a replay.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from ouroboros.engine import World
from ouroboros.worlds.neon import actions
from ouroboros.worlds.neon import tables as tb
from ouroboros.worlds.neon.city import npc_data, npcs_in, room_data, room_of, slots, tell
from ouroboros.worlds.neon.commands import command

MAP_RADIUS = 3  # rooms each way from the runner
SAFE_ZONE_STEPS = 4  # rooms this many steps from the spawn are the starter district
LEGEND = "@ you  # street or room  $ shop  ? fixer  ! hostile  + stairs or a door inside"


def safe_rooms(t: tb.Tables) -> frozenset[str]:
    """Rooms within ``SAFE_ZONE_STEPS`` exits of the spawn room (breadth first over the content)."""
    seen = {t.spawn_room: 0}
    todo = deque([t.spawn_room])
    while todo:
        here = todo.popleft()
        if seen[here] == SAFE_ZONE_STEPS:
            continue
        for target in t.rooms.get(here, {}).get("exits", {}).values():
            if target in t.rooms and target not in seen:
                seen[target] = seen[here] + 1
                todo.append(target)
    return frozenset(seen)


_SAFE: dict[int, tuple[tb.Tables, frozenset[str]]] = {}


def is_safe(world: World, room_id: str) -> bool:
    """``room_id`` is in the starter district of the content the world runs now."""
    t = tb.tables(world)
    cached = _SAFE.get(id(t))
    if cached is None or cached[0] is not t:
        if len(_SAFE) > 8:  # a few content versions at most; tables of old versions are let go
            _SAFE.clear()
        cached = _SAFE[id(t)] = (t, safe_rooms(t))
    return room_id in cached[1]


def _mark(world: World, room: int, t: tb.Tables) -> str:
    marks = "#"
    for npc in npcs_in(world, room):
        data = npc_data(world, npc, t)
        if actions.hostile_to_players(data):
            return "!"
        if data.get("stock"):
            marks = "$"
        elif data["kind"] == "fixer" and marks == "#":
            marks = "?"
    exits = room_data(world, room, t).get("exits", {})
    if marks == "#" and any(d in exits for d in ("u", "d", "in", "out")):
        return "+"
    return marks


def draw(world: World, player: int) -> str:
    t = tb.tables(world)
    here = room_data(world, room_of(world, player), t)
    at = here.get("coords") or {}
    if "x" not in at or "y" not in at:
        return "No map reaches this place."
    level = at.get("level", 0)
    grid: dict[tuple[int, int], tuple[str, dict[str, Any]]] = {}
    for rid, room in t.rooms.items():
        c = room.get("coords") or {}
        dx, dy = abs(c.get("x", 1 << 30) - at["x"]), abs(c.get("y", 1 << 30) - at["y"])
        near = dx <= MAP_RADIUS and dy <= MAP_RADIUS
        if c.get("level", 0) == level and near:
            grid.setdefault((c["x"], c["y"]), (rid, room))
    size = 2 * MAP_RADIUS + 1
    rows = [[" "] * (2 * size - 1) for _ in range(2 * size - 1)]
    for (x, y), (rid, room) in grid.items():
        col, row = 2 * (x - at["x"] + MAP_RADIUS), 2 * (at["y"] + MAP_RADIUS - y)  # north is up
        slot = slots(world).try_slot("room", rid)
        if (x, y) == (at["x"], at["y"]):
            rows[row][col] = "@"
        else:
            rows[row][col] = _mark(world, slot, t) if slot is not None else "#"
        exits = room.get("exits", {})
        if "e" in exits and col + 1 < len(rows[row]):
            rows[row][col + 1] = "-"
        if "n" in exits and row > 0:
            rows[row - 1][col] = "|"
    lines = ["".join(r).rstrip() for r in rows]
    return "\n".join([here["name"], *lines, LEGEND])


@command("map", "map: the streets and rooms around you")
def map_(world: World, player: int, rest: str) -> None:
    tell(world, player, draw(world, player), "room")
