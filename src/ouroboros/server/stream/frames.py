"""Frames: what a viewer of a running world draws, as numpy records, and their wire format.

A frame holds every entity (id, position, energy per mille, kind, flags) and every resource (food
in petri, rooms in neon). Under ``BINARY_MIN_ENTITIES`` entities it travels as JSON text
``{"type": "frame", "world", "tick", "entities": [...], "resources": [...]}``; at or above it as a
binary message (little-endian): an 8-byte header (u16 magic 0x4F42 'OB', u8 version 1, u8 world
kind, u16 entity count, u16 resource count), then 16 bytes per entity (u32 id, i32 x, i32 y, u16
energy_permille, u8 kind, u8 flags), then 12 bytes per resource (u32 id, i32 x, i32 y). Ids are an
entity's index (the low 32 bits of its engine id: unique among the living).

What it promises: the codec is pure (``decode_binary_frame`` refuses anything malformed with one
``FrameError``); snapshots (``petri_frame``, ``neon_frame``) only read numpy columns into fresh
arrays and write nothing back, so calling one between two ticks never changes a digest. They must
be called where no tick runs at the same time.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ouroboros.errors import FrameError

if TYPE_CHECKING:
    from ouroboros.engine import World

MAGIC = 0x4F42
VERSION = 1
WORLD_KINDS: dict[str, int] = {"petri": 0, "neon": 1}
WORLD_NAMES: dict[int, str] = {v: k for k, v in WORLD_KINDS.items()}
BINARY_MIN_ENTITIES = 200
MAX_FRAME_ITEMS = 0xFFFF  # the header's u16 counts

HEADER_DTYPE = np.dtype(
    [("magic", "<u2"), ("version", "u1"), ("world", "u1"), ("entities", "<u2"), ("resources", "<u2")]
)
ENTITY_DTYPE = np.dtype(
    [("id", "<u4"), ("x", "<i4"), ("y", "<i4"), ("energy", "<u2"), ("kind", "u1"), ("flags", "u1")]
)
RESOURCE_DTYPE = np.dtype([("id", "<u4"), ("x", "<i4"), ("y", "<i4")])

#: Entity kinds.
KIND_MOLBOT = 0
KIND_PLAYER = 1
KIND_NPC = 2
#: Entity flags: petri, a molbot too young to reproduce; neon, an actor in a fight.
FLAG_YOUNG = 1
FLAG_FIGHTING = 1


Entities = npt.NDArray[np.void]


@dataclass(frozen=True)
class Frame:
    """One picture of a world: ``entities`` in ``ENTITY_DTYPE``, ``resources`` in
    ``RESOURCE_DTYPE``. ``tick`` is ``None`` for a decoded binary frame (its header has none)."""

    world: str
    tick: int | None
    entities: Entities
    resources: Entities


# -- codec ---------------------------------------------------------------------------------------
def _as_records(rows: Any, dtype: np.dtype, what: str) -> Entities:
    if isinstance(rows, np.ndarray) and rows.dtype == dtype:
        return rows
    if isinstance(rows, np.ndarray) and rows.dtype.names is not None:
        try:
            out = np.zeros(len(rows), dtype=dtype)
            for name in dtype.names or ():
                out[name] = rows[name] if name in rows.dtype.names else 0
            return out
        except (ValueError, OverflowError) as exc:
            raise FrameError(f"{what}: {exc}") from exc
    if not isinstance(rows, Sequence):
        raise FrameError(f"{what} must be a structured array or a list of dicts, got {type(rows).__name__}")
    names = dtype.names or ()
    out = np.zeros(len(rows), dtype=dtype)
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise FrameError(f"{what}[{i}] must be a dict, got {type(row).__name__}")
        for name in names:
            value = row.get(name, 0)
            if not isinstance(value, int) or isinstance(value, bool):
                raise FrameError(f"{what}[{i}].{name} must be an integer, got {value!r}")
            info = np.iinfo(dtype[name])
            if not info.min <= value <= info.max:
                raise FrameError(f"{what}[{i}].{name}={value} is outside [{info.min}, {info.max}]")
            out[i][name] = value
    return out


def encode_frame(world_kind: str, tick: int, entities: Any, resources: Any) -> bytes | str:
    """The message for one frame: JSON text under ``BINARY_MIN_ENTITIES`` entities, else bytes.

    ``entities``/``resources``: structured arrays (``ENTITY_DTYPE``/``RESOURCE_DTYPE``) or lists
    of dicts with those fields. Raises ``FrameError`` for an unknown world or too many items."""
    if world_kind not in WORLD_KINDS:
        raise FrameError(f"unknown world {world_kind!r} (known: {', '.join(WORLD_KINDS)})")
    ents = _as_records(entities, ENTITY_DTYPE, "entities")
    res = _as_records(resources, RESOURCE_DTYPE, "resources")
    if len(ents) > MAX_FRAME_ITEMS or len(res) > MAX_FRAME_ITEMS:
        raise FrameError(f"a frame carries at most {MAX_FRAME_ITEMS} entities and resources each")
    if len(ents) < BINARY_MIN_ENTITIES:
        doc = {
            "type": "frame",
            "world": world_kind,
            "tick": int(tick),
            "entities": [
                {"id": int(e[0]), "x": int(e[1]), "y": int(e[2]), "energy": int(e[3]), "kind": int(e[4]),
                 "flags": int(e[5])}
                for e in ents.tolist()
            ],
            "resources": [{"id": int(r[0]), "x": int(r[1]), "y": int(r[2])} for r in res.tolist()],
        }  # fmt: skip
        return json.dumps(doc, separators=(",", ":"))
    header = np.array([(MAGIC, VERSION, WORLD_KINDS[world_kind], len(ents), len(res))], dtype=HEADER_DTYPE)
    return header.tobytes() + ents.tobytes() + res.tobytes()


def decode_binary_frame(data: bytes | bytearray | memoryview) -> Frame:
    """Parse a binary frame; ``FrameError`` saying what is wrong with a bad one."""
    buf = bytes(data)
    if len(buf) < HEADER_DTYPE.itemsize:
        raise FrameError(f"frame of {len(buf)} bytes is shorter than the {HEADER_DTYPE.itemsize}-byte header")
    head = np.frombuffer(buf, dtype=HEADER_DTYPE, count=1)[0]
    if int(head["magic"]) != MAGIC:
        raise FrameError(f"bad magic 0x{int(head['magic']):04X} (expected 0x{MAGIC:04X})")
    if int(head["version"]) != VERSION:
        raise FrameError(f"unsupported frame version {int(head['version'])} (this reader knows {VERSION})")
    world = WORLD_NAMES.get(int(head["world"]))
    if world is None:
        raise FrameError(f"unknown world kind {int(head['world'])}")
    n_ent, n_res = int(head["entities"]), int(head["resources"])
    want = HEADER_DTYPE.itemsize + n_ent * ENTITY_DTYPE.itemsize + n_res * RESOURCE_DTYPE.itemsize
    if len(buf) != want:
        raise FrameError(f"frame of {len(buf)} bytes, but its header announces {want} bytes")
    at = HEADER_DTYPE.itemsize
    ents = np.frombuffer(buf, dtype=ENTITY_DTYPE, count=n_ent, offset=at).copy()
    res = np.frombuffer(buf, dtype=RESOURCE_DTYPE, count=n_res, offset=at + n_ent * ENTITY_DTYPE.itemsize)
    return Frame(world, None, ents, res.copy())


# -- snapshots -----------------------------------------------------------------------------------
def _permille(value: npt.NDArray[Any], most: npt.NDArray[Any]) -> npt.NDArray[np.uint16]:
    v = np.clip(value.astype(np.int64), 0, None) * 1000 // np.maximum(most.astype(np.int64), 1)
    return np.clip(v, 0, 1000).astype(np.uint16)


def petri_frame(world: World) -> Frame:
    """Molbots (positions in world units) and food of a petri world; at most ``MAX_FRAME_ITEMS``
    of each (the first in storage order)."""
    from ouroboros.worlds.petri.components import FOOD, MOLBOT
    from ouroboros.worlds.petri.params import FP_SHIFT
    from ouroboros.worlds.petri.systems import MATURITY_TICKS

    parts = []
    for chunk in world.query(*MOLBOT):
        n = min(chunk.count, MAX_FRAME_ITEMS)
        e = np.empty(n, dtype=ENTITY_DTYPE)
        e["id"] = chunk.ids[:n]  # the low 32 bits: the entity's index
        e["x"] = chunk["Position.x"][:n] >> FP_SHIFT
        e["y"] = chunk["Position.y"][:n] >> FP_SHIFT
        e["energy"] = _permille(chunk["Body.energy"][:n], chunk["Body.max_energy"][:n])
        e["kind"] = KIND_MOLBOT
        e["flags"] = np.where(chunk["Body.age"][:n] < MATURITY_TICKS, FLAG_YOUNG, 0)
        parts.append(e)
    food = []
    for chunk in world.query(*FOOD):
        n = min(chunk.count, MAX_FRAME_ITEMS)
        r = np.empty(n, dtype=RESOURCE_DTYPE)
        r["id"] = chunk.ids[:n]
        r["x"] = chunk["Position.x"][:n] >> FP_SHIFT
        r["y"] = chunk["Position.y"][:n] >> FP_SHIFT
        food.append(r)
    ents = np.concatenate(parts)[:MAX_FRAME_ITEMS] if parts else np.empty(0, dtype=ENTITY_DTYPE)
    res = np.concatenate(food)[:MAX_FRAME_ITEMS] if food else np.empty(0, dtype=RESOURCE_DTYPE)
    return Frame("petri", world.tick, ents, res)


_ROOM_GRID: weakref.WeakKeyDictionary[Any, tuple[int, int, npt.NDArray[np.int32], Entities]] = (
    weakref.WeakKeyDictionary()
)


def _room_grid(world: World) -> tuple[npt.NDArray[np.int32], Entities]:
    """(x, y) per room slot, and the rooms of the current content as frame resources; cached
    until the content or the slot list changes."""
    from ouroboros.worlds.neon.city import state
    from ouroboros.worlds.neon.tables import tables

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
    from ouroboros.worlds.neon.components import NPC, PLAYER

    xy, rooms = _room_grid(world)
    parts = []
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
            e["energy"] = _permille(chunk["Actor.hp"][keep], chunk["Actor.max_hp"][keep])
            e["kind"] = kind
            e["flags"] = np.where(chunk["Actor.target"][keep] != 0, FLAG_FIGHTING, 0)
            parts.append(e)
    ents = np.concatenate(parts)[:MAX_FRAME_ITEMS] if parts else np.empty(0, dtype=ENTITY_DTYPE)
    return Frame("neon", world.tick, ents, rooms)


SNAPSHOTS: dict[str, Callable[[World], Frame]] = {"petri": petri_frame, "neon": neon_frame}
