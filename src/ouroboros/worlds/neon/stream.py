"""How the dashboard draws the neon city: online players and npcs on their room's grid cell, every
room as a resource."""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
import numpy.typing as npt

from ouroboros.engine import World
from ouroboros.worlds.frame import (
    ENTITY_DTYPE,
    MAX_FRAME_ITEMS,
    RESOURCE_DTYPE,
    Entities,
    Frame,
    joined,
    permille,
)
from ouroboros.worlds.neon.city import state
from ouroboros.worlds.neon.components import NPC, PLAYER
from ouroboros.worlds.neon.tables import tables
from ouroboros.worlds.spec import FrameStream

#: the stream's world-kind code and entity kinds
STREAM_KIND = 1
KIND_PLAYER = 1
KIND_NPC = 2
#: an actor in a fight
FLAG_FIGHTING = 1

_ROOM_GRID: weakref.WeakKeyDictionary[Any, tuple[int, int, npt.NDArray[np.int32], Entities]] = (
    weakref.WeakKeyDictionary()
)


def _room_grid(world: World) -> tuple[npt.NDArray[np.int32], Entities]:
    """(x, y) per room slot, and the rooms of the current content as frame resources; cached
    until the content or the slot list changes."""
    neon = state(world)
    room_ids: list[str] = neon["room_ids"]
    content = world.meta.get("neon_content")
    hit = _ROOM_GRID.get(world)
    if hit is not None and hit[0] == id(content) and hit[1] == len(room_ids):
        return hit[2], hit[3]
    rooms = tables(world).rooms
    retired = neon.get("retired_rooms", {})
    xy = np.zeros((len(room_ids), 2), dtype=np.int32)
    for slot, rid in enumerate(room_ids):
        coords = (rooms.get(rid) or retired.get(rid) or {}).get("coords") or {}
        xy[slot] = (int(coords.get("x", 0)), int(coords.get("y", 0)))
    live = []
    for index, rid in enumerate(sorted(rooms)):
        coords = rooms[rid].get("coords") or {}
        live.append((index, int(coords.get("x", 0)), int(coords.get("y", 0))))
    res = np.array(live[:MAX_FRAME_ITEMS], dtype=RESOURCE_DTYPE)
    _ROOM_GRID[world] = (id(content), len(room_ids), xy, res)
    return xy, res


def neon_frame(world: World) -> Frame:
    """Online players and npcs of a neon world at their room's grid coordinates ((0, 0) for a room
    without any); every room of the current content as a resource (id: its index in the sorted
    room ids of that content)."""
    xy, rooms = _room_grid(world)
    parts: list[Entities] = []
    for comps, kind in ((PLAYER, KIND_PLAYER), (NPC, KIND_NPC)):
        for chunk in world.query(*comps):
            keep = np.ones(chunk.count, dtype=bool)
            if kind == KIND_PLAYER:
                keep = chunk["Player.online"] != 0
            room = chunk["Place.room"][keep].astype(np.int64)
            e = np.empty(room.size, dtype=ENTITY_DTYPE)
            e["id"] = chunk.ids[keep]
            if len(xy):
                valid = (room >= 0) & (room < len(xy))
                at = xy[np.clip(room, 0, len(xy) - 1)]
                e["x"] = np.where(valid, at[:, 0], -1)
                e["y"] = np.where(valid, at[:, 1], -1)
            else:
                e["x"] = e["y"] = -1
            e["energy"] = permille(chunk["Actor.hp"][keep], chunk["Actor.max_hp"][keep])
            e["kind"] = kind
            e["flags"] = np.where(chunk["Actor.target"][keep] != 0, FLAG_FIGHTING, 0)
            parts.append(e)
    return Frame("neon", world.tick, joined(parts, ENTITY_DTYPE), rooms)


STREAM = FrameStream(
    STREAM_KIND, neon_frame, legend={KIND_PLAYER: "player", KIND_NPC: "npc"}, resource="room"
)

__all__ = ["FLAG_FIGHTING", "KIND_NPC", "KIND_PLAYER", "STREAM", "STREAM_KIND", "neon_frame"]
