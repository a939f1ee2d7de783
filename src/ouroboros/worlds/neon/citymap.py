"""The city as a map for an operator (``SPEC.overview``, the dashboard's city map): every room at
its grid coordinates with its district, the districts named and placed at their rooms' centre,
the players online and the npcs in their rooms, and the rooms that patches added (not in the base
content) marked ``added``. It reads content and positions only, under the runner's lock."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ouroboros.engine import World
from ouroboros.worlds.neon import tables as tb
from ouroboros.worlds.neon.city import npc_data, slots, state

_BASE_ROOMS: frozenset[str] | None = None


def _base_rooms() -> frozenset[str]:
    global _BASE_ROOMS
    if _BASE_ROOMS is None:
        _BASE_ROOMS = frozenset(str(r["id"]) for r in tb.base_content().get("rooms", []))
    return _BASE_ROOMS


def district_name(district_id: str) -> str:
    """``neon.district.kabuki_row`` → "Kabuki Row"."""
    return district_id.rsplit(".", 1)[-1].replace("_", " ").title() if district_id else "Unzoned"


def overview(world: World) -> dict[str, Any]:
    t = tb.tables(world)
    base = _base_rooms()
    rooms = []
    where: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for rid, room in sorted(t.rooms.items()):
        c = room.get("coords") or {}
        x, y, level = int(c.get("x", 0)), int(c.get("y", 0)), int(c.get("level", 0))
        district = str(room.get("district") or "")
        where[district].append((x, y))
        rooms.append(
            {
                "id": rid,
                "name": room.get("name", rid),
                "x": x,
                "y": y,
                "level": level,
                "district": district,
                "added": rid not in base,
            }
        )
    districts = [
        {
            "id": d,
            "name": district_name(d),
            "x": round(sum(p[0] for p in pts) / len(pts), 1),
            "y": round(sum(p[1] for p in pts) / len(pts), 1),
            "rooms": len(pts),
        }
        for d, pts in sorted(where.items())
    ]
    ids = slots(world)
    names: list[str] = state(world)["player_names"]
    players, npcs = [], []
    for chunk in world.query("Player", "Place"):
        for handle, online, room in zip(
            chunk["Player.handle"], chunk["Player.online"], chunk["Place.room"], strict=True
        ):
            if online:
                players.append({"name": str(names[int(handle)]), "room": ids.id_of("room", int(room))})
    for chunk in world.query("Npc", "Place"):
        for entity, room in zip(chunk.ids, chunk["Place.room"], strict=True):
            data = npc_data(world, int(entity), t)
            npcs.append({"name": data.get("name", ""), "room": ids.id_of("room", int(room))})
    return {"tick": world.tick, "rooms": rooms, "districts": districts, "players": players, "npcs": npcs}


__all__ = ["district_name", "overview"]
