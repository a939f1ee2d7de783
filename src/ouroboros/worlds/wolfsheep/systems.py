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

from typing import Any

import numpy as np
import numpy.typing as npt

from ouroboros.engine import Chunk, Stream, World
from ouroboros.worlds.wolfsheep.components import GRASS, SHEEP, WOLF
from ouroboros.worlds.wolfsheep.params import FP_SHIFT, ONE, PPM

I64 = npt.NDArray[np.int64]

# The 8 Moore offsets, and for each border class (x at the left edge / inside / at the right edge,
# the same for y) the offsets that stay on the grid: a walker picks uniformly among those.
_DX = np.array([-1, 0, 1, -1, 1, -1, 0, 1], dtype=np.int32)
_DY = np.array([-1, -1, -1, 0, 0, 1, 1, 1], dtype=np.int32)


def _moves_table() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    table = np.zeros((9, 8), dtype=np.int64)
    counts = np.zeros(9, dtype=np.int64)
    for ax in range(3):
        for ay in range(3):
            ok = [
                k
                for k in range(8)
                if not ((ax == 0 and _DX[k] < 0) or (ax == 2 and _DX[k] > 0))
                and not ((ay == 0 and _DY[k] < 0) or (ay == 2 and _DY[k] > 0))
            ]
            table[ax * 3 + ay, : len(ok)] = ok
            counts[ax * 3 + ay] = len(ok)
    return table, counts


MOVES, MOVE_COUNTS = _moves_table()


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


# -- shared steps -----------------------------------------------------------------------------
def walk(x: Any, y: Any, raw: npt.NDArray[np.uint64], width: int, height: int) -> None:
    """Move every walker in place to a uniformly chosen in-bounds Moore neighbour."""
    ax = np.where(x == 0, 0, np.where(x == width - 1, 2, 1))
    ay = np.where(y == 0, 0, np.where(y == height - 1, 2, 1))
    cls = ax * 3 + ay
    pick = MOVES[cls, Stream.below(raw, MOVE_COUNTS[cls])]
    x += _DX[pick]
    y += _DY[pick]


def _ranks(cells: I64, keys: npt.NDArray[np.uint64]) -> tuple[I64, I64]:
    """Order by (cell, key) and each row's rank inside its cell, in that order."""
    order = np.lexsort((keys, cells))
    sorted_cells = cells[order]
    n = cells.size
    first = np.ones(n, dtype=bool)
    first[1:] = sorted_cells[1:] != sorted_cells[:-1]
    group_start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    return order.astype(np.int64), np.arange(n, dtype=np.int64) - group_start


def _reproducers(energy: I64, alive: npt.NDArray[np.bool_], raw: npt.NDArray[np.uint64], ppm: int) -> I64:
    split = np.flatnonzero(alive & (Stream.below(raw, PPM) < ppm))
    energy[split] >>= 1
    return split


# -- tick -------------------------------------------------------------------------------------
def sheep_step(world: World) -> None:
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
    walk(x, y, rng.uint64(n), w, p["height"])
    energy -= ONE
    cells = y.astype(np.int64) * w + x
    grown = grass["Grass.grown"]
    keys = rng.uint64(n)
    hungry = np.flatnonzero(grown[cells])
    if hungry.size:
        order, rank = _ranks(cells[hungry], keys[hungry])
        eaters = hungry[order[rank == 0]]
        energy[eaters] += p["sheep_gain"] << FP_SHIFT
        grown[cells[eaters]] = False
    alive = energy >= 0
    split = _reproducers(energy, alive, rng.uint64(n), p["sheep_reproduce_ppm"])
    survivors = np.flatnonzero(alive)
    world.scratch["prey"] = (survivors, np.flatnonzero(~alive), cells[split], energy[split].copy())


def wolves_step(world: World) -> None:
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
        walk(x, y, rng.uint64(n), w, p["height"])
        energy -= ONE
        wolf_cells = y.astype(np.int64) * w + x
        wolf_keys = rng.uint64(n)
        if sheep is not None and survivors.size + born_cells.size > 0:
            sx, sy = sheep["Position.x"], sheep["Position.y"]
            prey_cells = np.concatenate((sy[survivors].astype(np.int64) * w + sx[survivors], born_cells))
            prey_order, _ = _ranks(prey_cells, rng.uint64(prey_cells.size))
            per_cell = np.bincount(prey_cells, minlength=w * p["height"])
            cell_start = np.concatenate(([0], np.cumsum(per_cell)[:-1]))
            wolf_order, wolf_rank = _ranks(wolf_cells, wolf_keys)
            hunting_cells = wolf_cells[wolf_order]
            fed = wolf_rank < per_cell[hunting_cells]
            eaters = wolf_order[fed]
            victims = prey_order[cell_start[hunting_cells[fed]] + wolf_rank[fed]]
            energy[eaters] += p["wolf_gain"] << FP_SHIFT
            eaten_rows = survivors[victims[victims < survivors.size]]
            eaten_newborn[victims[victims >= survivors.size] - survivors.size] = True
        alive = energy >= 0
        split = _reproducers(energy, alive, rng.uint64(n), p["wolf_reproduce_ppm"])
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
        nb = int(keep.sum())
        world.commands.spawn(
            SHEEP,
            nb,
            {
                "Position.x": born_cells[keep] % w,
                "Position.y": born_cells[keep] // w,
                "Energy.q16": born_energy[keep],
                "Sheep.born_tick": world.tick + 1,
            },
        )
    world.resources["eaten"] += int(eaten_rows.size + eaten_newborn.sum())


def grass_step(world: World) -> None:
    grass = grass_chunk(world)
    if grass is None:
        return
    grown, countdown = grass["Grass.grown"], grass["Grass.countdown"]
    bare = np.flatnonzero(~grown)
    ready = countdown[bare] <= 0
    regrow, wait = bare[ready], bare[~ready]
    grown[regrow] = True
    countdown[regrow] = params(world)["grass_regrowth_ticks"]
    countdown[wait] -= 1


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
