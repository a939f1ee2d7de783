"""How the dashboard draws petri: molbots (dots, dim when hungry) and food."""

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
from ouroboros.worlds.petri.components import FOOD, MOLBOT
from ouroboros.worlds.petri.params import FP_SHIFT
from ouroboros.worlds.petri.systems import MATURITY_TICKS
from ouroboros.worlds.spec import FrameStream

#: the stream's world-kind code and entity kinds
STREAM_KIND = 0
KIND_MOLBOT = 0
#: a molbot too young to reproduce
FLAG_YOUNG = 1


def petri_frame(world: World) -> Frame:
    """Molbots (positions in world units) and food of a petri world; at most ``MAX_FRAME_ITEMS``
    of each (the first in storage order)."""
    parts: list[Entities] = []
    for chunk in world.query(*MOLBOT):
        n = min(chunk.count, MAX_FRAME_ITEMS)
        e = np.empty(n, dtype=ENTITY_DTYPE)
        e["id"] = chunk.ids[:n]  # the low 32 bits: the entity's index
        e["x"] = chunk["Position.x"][:n] >> FP_SHIFT
        e["y"] = chunk["Position.y"][:n] >> FP_SHIFT
        e["energy"] = permille(chunk["Body.energy"][:n], chunk["Body.max_energy"][:n])
        e["kind"] = KIND_MOLBOT
        e["flags"] = np.where(chunk["Body.age"][:n] < MATURITY_TICKS, FLAG_YOUNG, 0)
        parts.append(e)
    food: list[Entities] = []
    for chunk in world.query(*FOOD):
        n = min(chunk.count, MAX_FRAME_ITEMS)
        r = np.empty(n, dtype=RESOURCE_DTYPE)
        r["id"] = chunk.ids[:n]
        r["x"] = chunk["Position.x"][:n] >> FP_SHIFT
        r["y"] = chunk["Position.y"][:n] >> FP_SHIFT
        food.append(r)
    return Frame("petri", world.tick, joined(parts, ENTITY_DTYPE), joined(food, RESOURCE_DTYPE))


STREAM = FrameStream(STREAM_KIND, petri_frame, legend={KIND_MOLBOT: "molbot"}, resource="food")

__all__ = ["FLAG_YOUNG", "KIND_MOLBOT", "STREAM", "STREAM_KIND", "petri_frame"]
