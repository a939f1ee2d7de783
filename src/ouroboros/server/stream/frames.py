"""Frames: what a viewer of a running world draws, as numpy records, and their wire format.

A frame (``ouroboros.worlds.frame.Frame``, made by a world's ``spec.stream``) holds every entity
(id, position, energy per mille, kind, flags) and every resource. Under ``BINARY_MIN_ENTITIES``
entities it travels as JSON text ``{"type": "frame", "world", "tick", "entities": [...],
"resources": [...]}``; at or above it as a binary message (little-endian): a 12-byte header (u16
magic 0x4F42 'OB', u8 version 2, u8 world kind (the world's ``spec.stream.kind``), u16 entity
count, u16 resource count, u32 tick (modulo 2**32)), then 16 bytes per entity (u32 id, i32 x,
i32 y, u16 energy_permille, u8 kind, u8 flags), then 12 bytes per resource (u32 id, i32 x,
i32 y). Ids are an entity's index (the low 32 bits of its engine id: unique among the living).
Version 1 (an 8-byte header, no tick) is still read: its frames have no tick.

What it promises: the codec is pure (``decode_binary_frame`` refuses anything malformed with one
``FrameError``); a world's frame function (``frame_source``) only reads numpy columns into fresh
arrays and writes nothing back, so calling one between two ticks never changes a digest. It must
be called where no tick runs at the same time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ouroboros.errors import FrameError
from ouroboros.worlds.frame import ENTITY_DTYPE, MAX_FRAME_ITEMS, RESOURCE_DTYPE, Entities, Frame

if TYPE_CHECKING:
    from ouroboros.engine import World

MAGIC = 0x4F42
VERSION = 2
BINARY_MIN_ENTITIES = 200

HEADER_V1 = np.dtype(
    [("magic", "<u2"), ("version", "u1"), ("world", "u1"), ("entities", "<u2"), ("resources", "<u2")]
)
HEADER_DTYPE = np.dtype(
    [("magic", "<u2"), ("version", "u1"), ("world", "u1"), ("entities", "<u2"), ("resources", "<u2"),
     ("tick", "<u4")]
)  # fmt: skip
_HEADERS = {1: HEADER_V1, 2: HEADER_DTYPE}


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
    kinds = world_kinds()
    if world_kind not in kinds:
        raise FrameError(f"unknown world {world_kind!r} (known: {', '.join(kinds)})")
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
    head = (MAGIC, VERSION, kinds[world_kind], len(ents), len(res), int(tick) % (1 << 32))
    header = np.array([head], dtype=HEADER_DTYPE)
    return header.tobytes() + ents.tobytes() + res.tobytes()


def decode_binary_frame(data: bytes | bytearray | memoryview) -> Frame:
    """Parse a binary frame; ``FrameError`` saying what is wrong with a bad one."""
    buf = bytes(data)
    if len(buf) < HEADER_V1.itemsize:
        raise FrameError(f"frame of {len(buf)} bytes is shorter than the {HEADER_V1.itemsize}-byte header")
    first = np.frombuffer(buf, dtype=HEADER_V1, count=1)[0]
    if int(first["magic"]) != MAGIC:
        raise FrameError(f"bad magic 0x{int(first['magic']):04X} (expected 0x{MAGIC:04X})")
    layout = _HEADERS.get(int(first["version"]))
    if layout is None:
        raise FrameError(f"unsupported frame version {int(first['version'])} (this reader knows 1 and 2)")
    if len(buf) < layout.itemsize:
        raise FrameError(f"frame of {len(buf)} bytes is shorter than the {layout.itemsize}-byte header")
    head = np.frombuffer(buf, dtype=layout, count=1)[0]
    world = world_of_kind(int(head["world"]))
    if world is None:
        raise FrameError(f"unknown world kind {int(head['world'])}")
    n_ent, n_res = int(head["entities"]), int(head["resources"])
    want = layout.itemsize + n_ent * ENTITY_DTYPE.itemsize + n_res * RESOURCE_DTYPE.itemsize
    if len(buf) != want:
        raise FrameError(f"frame of {len(buf)} bytes, but its header announces {want} bytes")
    at = layout.itemsize
    ents = np.frombuffer(buf, dtype=ENTITY_DTYPE, count=n_ent, offset=at).copy()
    res = np.frombuffer(buf, dtype=RESOURCE_DTYPE, count=n_res, offset=at + n_ent * ENTITY_DTYPE.itemsize)
    tick = int(head["tick"]) if "tick" in (layout.names or ()) else None
    return Frame(world, tick, ents, res.copy())


# -- the worlds' frames ------------------------------------------------------------------------
def world_kinds() -> dict[str, int]:
    """Each streamable world's kind code on the wire (its spec's ``stream.kind``)."""
    from ouroboros.worlds import registry

    return {name: spec.stream.kind for name, spec in registry().items() if spec.stream is not None}


def world_of_kind(kind: int) -> str | None:
    return next((name for name, code in world_kinds().items() if code == kind), None)


def frame_source(world: str) -> Callable[[World], Frame]:
    """The frame function of ``world`` (``FrameError``: it has none, or there is no such world)."""
    from ouroboros.worlds import registry

    spec = registry().get(world)
    if spec is None or spec.stream is None:
        raise FrameError(f"unknown world {world!r} (known: {', '.join(world_kinds())})")
    return spec.stream.frame


__all__ = [
    "BINARY_MIN_ENTITIES",
    "ENTITY_DTYPE",
    "HEADER_DTYPE",
    "MAGIC",
    "MAX_FRAME_ITEMS",
    "RESOURCE_DTYPE",
    "VERSION",
    "Entities",
    "Frame",
    "FrameError",
    "decode_binary_frame",
    "encode_frame",
    "frame_source",
    "world_kinds",
    "world_of_kind",
]
