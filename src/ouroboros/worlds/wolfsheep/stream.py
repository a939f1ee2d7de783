"""How the dashboard draws WolfSheep: sheep and wolves as dots on their cell (dim when hungry),
grown grass as resources."""

from __future__ import annotations

import numpy as np

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
from ouroboros.worlds.spec import FrameStream
from ouroboros.worlds.wolfsheep.params import ONE
from ouroboros.worlds.wolfsheep.systems import grass_chunk, params, sheep_chunk, wolf_chunk

#: the stream's world-kind code and entity kinds
STREAM_KIND = 2
KIND_SHEEP = 0
KIND_WOLF = 1


def wolfsheep_frame(world: World) -> Frame:
    """Sheep and wolves at their cells, energy per mille of twice what a meal gives; every cell
    with grown grass as a resource (id: the cell's index ``y * width + x``)."""
    p = params(world)
    parts: list[Entities] = []
    for chunk, kind, gain in (
        (sheep_chunk(world), KIND_SHEEP, p["sheep_gain"]),
        (wolf_chunk(world), KIND_WOLF, p["wolf_gain"]),
    ):
        if chunk is None or not chunk.count:
            continue
        n = min(chunk.count, MAX_FRAME_ITEMS)
        e = np.zeros(n, dtype=ENTITY_DTYPE)
        e["id"] = chunk.ids[:n]
        e["x"] = chunk["Position.x"][:n]
        e["y"] = chunk["Position.y"][:n]
        e["energy"] = permille(chunk["Energy.q16"][:n], max(1, 2 * gain) * ONE)
        e["kind"] = kind
        parts.append(e)
    grass = grass_chunk(world)
    res = np.empty(0, dtype=RESOURCE_DTYPE)
    if grass is not None and grass.count:
        cells = np.flatnonzero(grass["Grass.grown"])[:MAX_FRAME_ITEMS]
        res = np.empty(cells.size, dtype=RESOURCE_DTYPE)
        res["id"] = cells
        res["x"] = cells % p["width"]
        res["y"] = cells // p["width"]
    return Frame("wolfsheep", world.tick, joined(parts, ENTITY_DTYPE), res)


STREAM = FrameStream(
    STREAM_KIND, wolfsheep_frame, legend={KIND_SHEEP: "sheep", KIND_WOLF: "wolf"}, resource="grass"
)

__all__ = ["KIND_SHEEP", "KIND_WOLF", "STREAM", "STREAM_KIND", "wolfsheep_frame"]
