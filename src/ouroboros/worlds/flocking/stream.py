"""How the dashboard draws Flocking: every bird as a dot (positions in hundredths of a unit)."""

from __future__ import annotations

import numpy as np

from ouroboros.engine import World
from ouroboros.worlds.flocking.components import as_float
from ouroboros.worlds.flocking.systems import birds
from ouroboros.worlds.frame import ENTITY_DTYPE, MAX_FRAME_ITEMS, Frame, no_entities, no_resources
from ouroboros.worlds.spec import FrameStream

#: the stream's world-kind code and entity kind
STREAM_KIND = 3
KIND_BIRD = 0
#: frame coordinates per unit of the world's extent
SCALE = 100


def flocking_frame(world: World) -> Frame:
    """Every bird (the first ``MAX_FRAME_ITEMS``) at its position times ``SCALE``, floored."""
    chunk = birds(world)
    if chunk is None or not chunk.count:
        return Frame("flocking", world.tick, no_entities(), no_resources())
    n = min(chunk.count, MAX_FRAME_ITEMS)
    e = np.zeros(n, dtype=ENTITY_DTYPE)
    e["id"] = chunk.ids[:n]
    e["x"] = np.floor(as_float(chunk["Bird.x"][:n]) * SCALE).astype(np.int32)
    e["y"] = np.floor(as_float(chunk["Bird.y"][:n]) * SCALE).astype(np.int32)
    e["energy"] = 1000
    e["kind"] = KIND_BIRD
    return Frame("flocking", world.tick, e, no_resources())


STREAM = FrameStream(STREAM_KIND, flocking_frame, legend={KIND_BIRD: "bird"})

__all__ = ["KIND_BIRD", "SCALE", "STREAM", "STREAM_KIND", "flocking_frame"]
