"""The systems of WolfSheep, in the order a step runs them (SPEC.md 1.4, vectorised as 1.5).

startup   ``populate``  sheep, then wolves, then grass (each from its own keyed stream)
tick      ``sheep``     walk, lose 1, the first sheep on a grown cell eats it, die below 0, split
          ``wolves``    walk, lose 1, eat a sheep of the cell, die below 0, split
          ``grass``     eaten cells count down and regrow

Vectorised exactly as the spec's 1.5 allows: a sheep's walk does not depend on the activation
order, and the first sheep of a uniformly random order to reach a grown cell is a uniformly random
one of those that end there; in a cell with k wolves and s sheep the first min(k, s) wolves of a
random order eat distinct, uniformly random sheep, so wolf rank i eats sheep rank i. Newborns do
not act in the step they are born, but newborn sheep *are* prey in the wolf phase of their step:
the sheep system hands the wolves its survivors and newborns through ``world.scratch``, and the
wolves system queues every despawn and spawn of the step (structural change happens at the tick
boundary, as everywhere in the engine).

Every draw comes from the world's keyed streams (``sheep``, ``wolves``, ``populate:*``), drawn in
row order: the same state and tick draw the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from ouroboros.engine import Chunk, Stream, World
from ouroboros.worlds.wolfsheep.components import GRASS, SHEEP, WOLF
from ouroboros.worlds.wolfsheep.kernels import Kernels
from ouroboros.worlds.wolfsheep.params import FP_SHIFT, ONE

I64 = npt.NDArray[np.int64]
SystemFn = Callable[[World], None]


def params(world: World) -> dict[str, int]:
    p: dict[str, int] = world.resources["params"]
    return p


def _chunk(world: World, components: tuple[str, ...]) -> Chunk | None:
    for chunk in world.query(*components):
        if chunk.signature == components:
            return chunk
    return None


def sheep_chunk(world: World) -> Chunk | None:
    return _chunk(world, SHEEP)


def wolf_chunk(world: World) -> Chunk | None:
    return _chunk(world, WOLF)


def grass_chunk(world: World) -> Chunk | None:
    return _chunk(world, GRASS)


# -- startup ----------------------------------------------------------------------------------
def populate(world: World) -> None:
    p = params(world)
    w, h = p["width"], p["height"]
    for kind, comps, count, gain in (
        ("sheep", SHEEP, p["initial_sheep"], p["sheep_gain"]),
        ("wolves", WOLF, p["initial_wolves"], p["wolf_gain"]),
    ):
        rng = world.rng(f"populate:{kind}")
        x = Stream.below(rng.uint64(count), w)
        y = Stream.below(rng.uint64(count), h)
        energy = Stream.below(rng.uint64(count), max(2 * gain, 1)) << FP_SHIFT
        born = "Sheep.born_tick" if kind == "sheep" else "Wolf.born_tick"
        world.commands.spawn(comps, count, {"Position.x": x, "Position.y": y, "Energy.q16": energy, born: 0})
    cells = w * h
    regrowth = p["grass_regrowth_ticks"]
    rng = world.rng("populate:grass")
    grown = Stream.below(rng.uint64(cells), 2) == 1
    countdown = np.where(grown, regrowth, Stream.below(rng.uint64(cells), regrowth))
    world.commands.spawn(GRASS, cells, {"Grass.grown": grown, "Grass.countdown": countdown})


# -- tick -------------------------------------------------------------------------------------
def make_sheep_system(kernels: Kernels) -> SystemFn:
    def sheep(world: World) -> None:
        sheep_step(world, kernels)

    return sheep


def make_wolves_system(kernels: Kernels) -> SystemFn:
    def wolves(world: World) -> None:
        wolves_step(world, kernels)

    return wolves


def sheep_step(world: World, k: Kernels) -> None:
    p = params(world)
    w = p["width"]
    chunk, grass = sheep_chunk(world), grass_chunk(world)
    empty = np.empty(0, dtype=np.int64)
    if chunk is None or chunk.count == 0 or grass is None:
        world.scratch["prey"] = (empty, empty, empty, empty)
        return
    n = chunk.count
    rng = world.rng("sheep")
    x, y, energy = chunk["Position.x"], chunk["Position.y"], chunk["Energy.q16"]
    raw = rng.uint64(3 * n)  # one call: walk, eating keys, splits
    alive, split = k.sheep_phase(
        x, y, energy, grass["Grass.grown"], raw[:n], raw[n : 2 * n], raw[2 * n :],
        w, p["height"], p["sheep_gain"] << FP_SHIFT, p["sheep_reproduce_ppm"],
    )  # fmt: skip
    born_cells = y[split].astype(np.int64) * w + x[split]
    world.scratch["prey"] = (np.flatnonzero(alive), np.flatnonzero(~alive), born_cells, energy[split].copy())


def wolves_step(world: World, k: Kernels) -> None:
    p = params(world)
    w = p["width"]
    survivors, dead_sheep, born_cells, born_energy = world.scratch["prey"]
    sheep = sheep_chunk(world)
    eaten_newborn = np.zeros(born_cells.size, dtype=bool)
    eaten_rows = np.empty(0, dtype=np.int64)
    chunk = wolf_chunk(world)
    if chunk is not None and chunk.count > 0:
        n = chunk.count
        rng = world.rng("wolves")
        x, y, energy = chunk["Position.x"], chunk["Position.y"], chunk["Energy.q16"]
        prey_cells = np.empty(0, dtype=np.int64)
        if sheep is not None:
            sx, sy = sheep["Position.x"], sheep["Position.y"]
            prey_cells = np.concatenate((sy[survivors].astype(np.int64) * w + sx[survivors], born_cells))
        raw = rng.uint64(3 * n + prey_cells.size)  # one call: walk, ranks, splits, prey ranks
        alive, split, victims = k.wolf_phase(
            x, y, energy, raw[:n], raw[n : 2 * n], raw[2 * n : 3 * n], prey_cells, raw[3 * n :],
            w, p["height"], p["wolf_gain"] << FP_SHIFT, p["wolf_reproduce_ppm"],
        )  # fmt: skip
        eaten_rows = survivors[victims[victims < survivors.size]]
        eaten_newborn[victims[victims >= survivors.size] - survivors.size] = True
        world.commands.despawn(chunk.ids[~alive])
        world.commands.spawn(
            WOLF,
            split.size,
            {
                "Position.x": x[split],
                "Position.y": y[split],
                "Energy.q16": energy[split],
                "Wolf.born_tick": world.tick + 1,
            },
        )
    if sheep is not None:
        world.commands.despawn(sheep.ids[np.concatenate((dead_sheep, eaten_rows))])
        keep = ~eaten_newborn
        world.commands.spawn(
            SHEEP,
            int(keep.sum()),
            {
                "Position.x": born_cells[keep] % w,
                "Position.y": born_cells[keep] // w,
                "Energy.q16": born_energy[keep],
                "Sheep.born_tick": world.tick + 1,
            },
        )
    world.resources["eaten"] += int(eaten_rows.size + eaten_newborn.sum())


def make_grass_system(kernels: Kernels) -> SystemFn:
    def grass(world: World) -> None:
        chunk = grass_chunk(world)
        if chunk is not None:
            kernels.grass_phase(
                chunk["Grass.grown"], chunk["Grass.countdown"], params(world)["grass_regrowth_ticks"]
            )

    return grass


# -- KPIs -------------------------------------------------------------------------------------
def counts(world: World) -> dict[str, int]:
    sheep, wolves, grass = sheep_chunk(world), wolf_chunk(world), grass_chunk(world)
    return {
        "sheep": sheep.count if sheep is not None else 0,
        "wolves": wolves.count if wolves is not None else 0,
        "grass": int(grass["Grass.grown"].sum()) if grass is not None else 0,
    }


def compute_kpis(world: World) -> dict[str, Any]:
    out: dict[str, Any] = {"tick": world.tick, **counts(world)}
    for name, chunk in (("sheep", sheep_chunk(world)), ("wolves", wolf_chunk(world))):
        e = chunk["Energy.q16"] if chunk is not None and chunk.count else None
        out[f"{name}_mean_energy"] = round(float(e.mean()) / ONE, 4) if e is not None else 0.0
    out["sheep_eaten_total"] = int(world.resources.get("eaten", 0))
    return out
