"""The systems of Flocking.

startup  ``populate``  birds from an init file, or uniform positions in the extent and velocities
                       with two uniform(-1, 1) components, not normalised (SPEC.md 2.2)
tick     ``flock``     every bird, in a new uniformly random order (or the init file's order for
                       this step), updates its velocity and position from the *current* state of
                       the others (SPEC.md 2.3; the arithmetic is fixed in ``kernels``)

The order is a keyed draw (``flock`` stream): one 64-bit key per bird, sorted (stable).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ouroboros.engine import Chunk, World
from ouroboros.errors import WorldError
from ouroboros.worlds.flocking.components import BIRD, as_bits, as_float
from ouroboros.worlds.flocking.initfile import InitState, end_state
from ouroboros.worlds.flocking.kernels import StepFn
from ouroboros.worlds.flocking.params import Model

_U53 = np.uint64(11)
_TWO_POW_M53 = 2.0**-53


def unit_floats(raw: npt.NDArray[np.uint64]) -> npt.NDArray[np.float64]:
    """Raw draws to floats uniform in [0, 1): the top 53 bits times 2**-53 (exact)."""
    return (raw >> _U53).astype(np.float64) * _TWO_POW_M53


def birds(world: World) -> Chunk | None:
    chunks = world.query(*BIRD)
    return chunks[0] if chunks else None


def model(world: World) -> Model:
    m: Model = world.scratch.get("model") or Model.of(world.resources["params"])
    return m


def make_populate(init: InitState | None) -> Any:
    def populate(world: World) -> None:
        m = Model.of(world.resources["params"])
        if init is not None:
            pos, vel = init.pos0, init.vel0
            n = pos.shape[0]
            x, y, vx, vy = pos[:, 0], pos[:, 1], vel[:, 0], vel[:, 1]
        else:
            n = world.resources["params"]["birds"]
            rng = world.rng("populate:birds")
            x = unit_floats(rng.uint64(n)) * m.width
            y = unit_floats(rng.uint64(n)) * m.height
            vx = unit_floats(rng.uint64(n)) * 2.0 - 1.0
            vy = unit_floats(rng.uint64(n)) * 2.0 - 1.0
        world.commands.spawn(
            BIRD,
            n,
            {"Bird.x": as_bits(x), "Bird.y": as_bits(y), "Bird.vx": as_bits(vx), "Bird.vy": as_bits(vy)},
        )

    return populate


def make_flock_system(step: StepFn, orders: npt.NDArray[np.int64] | None) -> Any:
    def flock(world: World) -> None:
        chunk = birds(world)
        if chunk is None or chunk.count == 0:
            return
        n = chunk.count
        if orders is not None:
            if world.tick >= orders.shape[0]:
                raise WorldError(f"the init file holds activation orders for {orders.shape[0]} steps only")
            order = orders[world.tick]
        else:
            order = np.argsort(world.rng("flock").uint64(n), kind="stable").astype(np.int64)
        cols = [chunk[f"Bird.{f}"] for f in ("x", "y", "vx", "vy")]
        state = [np.ascontiguousarray(as_float(c)) for c in cols]
        step(state[0], state[1], state[2], state[3], order, model(world))
        for col, values in zip(cols, state, strict=True):
            as_float(col)[:] = values

    return flock


def state_arrays(world: World) -> dict[str, npt.NDArray[np.float64]]:
    """``pos`` and ``vel`` (N×2 float64, in bird order) of the world now."""
    chunk = birds(world)
    if chunk is None:
        empty = np.empty(0, dtype=np.float64)
        return end_state(empty, empty, empty, empty)
    x, y, vx, vy = (np.array(as_float(chunk[f"Bird.{f}"])) for f in ("x", "y", "vx", "vy"))
    return end_state(x, y, vx, vy)


def compute_kpis(world: World) -> dict[str, Any]:
    s = state_arrays(world)
    n = int(s["pos"].shape[0])
    vel = s["vel"]
    alignment = float(np.hypot(*vel.mean(axis=0))) if n else 0.0
    return {"tick": world.tick, "birds": n, "alignment": round(alignment, 6)}
