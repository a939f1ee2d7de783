"""The phases of a WolfSheep step as kernels with one contract, in interchangeable implementations.

The random draws are made by the systems (keyed streams) and passed in, so every implementation
sees the same numbers; each must then leave the same state (a test compares digests).

``sheep_phase(x, y, energy, grown, walk_raw, keys, repro_raw, width, height, gain_q16, ppm)``
    walks every sheep (``x``, ``y`` in place), takes one unit of energy, lets the sheep with the
    smallest (key, row) of each grown cell eat it (``grown`` in place), then marks the dead and
    halves the energy of those that split. Returns ``(alive, split_rows)``.
``wolf_phase(x, y, energy, walk_raw, keys, repro_raw, prey_cells, prey_keys, width, height,
gain_q16, ppm)``
    walks the wolves, takes one unit, and in each cell wolf rank i eats prey rank i (ranks by
    (key, row)); then death and split. Returns ``(alive, split_rows, eaten_prey)``.
``grass_phase(grown, countdown, regrowth)``
    bare cells count down and regrow.

``numpy`` is the reference (array operations and ``lexsort``); ``numba`` runs each phase as one
compiled loop with a counting sort by cell. Integer arithmetic only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ouroboros.engine import Stream
from ouroboros.errors import WorldError

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
BOOL = npt.NDArray[np.bool_]
ONE_Q16 = 1 << 16
PPM = 1_000_000

# The 8 Moore offsets, and for each border class (x at the left edge / inside / at the right edge,
# the same for y: class = 3 * x_class + y_class) the offsets that stay on the grid.
DX = np.array([-1, 0, 1, -1, 1, -1, 0, 1], dtype=np.int64)
DY = np.array([-1, -1, -1, 0, 0, 1, 1, 1], dtype=np.int64)


def _moves_table() -> tuple[I64, I64]:
    table = np.zeros((9, 8), dtype=np.int64)
    counts = np.zeros(9, dtype=np.int64)
    for ax in range(3):
        for ay in range(3):
            ok = [
                k
                for k in range(8)
                if not ((ax == 0 and DX[k] < 0) or (ax == 2 and DX[k] > 0))
                and not ((ay == 0 and DY[k] < 0) or (ay == 2 and DY[k] > 0))
            ]
            table[ax * 3 + ay, : len(ok)] = ok
            counts[ax * 3 + ay] = len(ok)
    return table, counts


MOVES, MOVE_COUNTS = _moves_table()


# -- numpy reference ----------------------------------------------------------------------------
def rank_in_cells(cells: I64, keys: U64) -> tuple[I64, I64]:
    """Rows ordered by (cell, key, row), and the rank of each inside its cell, in that order."""
    order = np.lexsort((keys, cells))
    sorted_cells = cells[order]
    n = cells.size
    first = np.ones(n, dtype=bool)
    first[1:] = sorted_cells[1:] != sorted_cells[:-1]
    group_start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    return order.astype(np.int64), np.arange(n, dtype=np.int64) - group_start


def walk(x: Any, y: Any, raw: U64, width: int, height: int) -> None:
    cls = np.where(x == 0, 0, np.where(x == width - 1, 2, 1)) * 3 + np.where(
        y == 0, 0, np.where(y == height - 1, 2, 1)
    )
    pick = MOVES[cls, Stream.below(raw, MOVE_COUNTS[cls])]
    x += DX[pick].astype(x.dtype)
    y += DY[pick].astype(y.dtype)


def _settle(energy: I64, raw: U64, ppm: int) -> tuple[BOOL, I64]:
    alive = energy >= 0
    split = np.flatnonzero(alive & (Stream.below(raw, PPM) < ppm))
    energy[split] >>= 1
    return alive, split


def sheep_phase_numpy(
    x: Any, y: Any, energy: I64, grown: BOOL, walk_raw: U64, keys: U64, repro_raw: U64,
    width: int, height: int, gain_q16: int, ppm: int,
) -> tuple[BOOL, I64]:  # fmt: skip
    walk(x, y, walk_raw, width, height)
    energy -= ONE_Q16
    cells = y.astype(np.int64) * width + x
    hungry = np.flatnonzero(grown[cells])
    if hungry.size:
        order, rank = rank_in_cells(cells[hungry], keys[hungry])
        eaters = hungry[order[rank == 0]]
        energy[eaters] += gain_q16
        grown[cells[eaters]] = False
    return _settle(energy, repro_raw, ppm)


def wolf_phase_numpy(
    x: Any, y: Any, energy: I64, walk_raw: U64, keys: U64, repro_raw: U64, prey_cells: I64, prey_keys: U64,
    width: int, height: int, gain_q16: int, ppm: int,
) -> tuple[BOOL, I64, I64]:  # fmt: skip
    walk(x, y, walk_raw, width, height)
    energy -= ONE_Q16
    eaten = np.empty(0, dtype=np.int64)
    if prey_cells.size:
        cells = y.astype(np.int64) * width + x
        prey_order, _ = rank_in_cells(prey_cells, prey_keys)
        per_cell = np.bincount(prey_cells, minlength=width * height)
        cell_start = np.concatenate(([0], np.cumsum(per_cell)[:-1]))
        wolf_order, wolf_rank = rank_in_cells(cells, keys)
        hunting = cells[wolf_order]
        fed = wolf_rank < per_cell[hunting]
        energy[wolf_order[fed]] += gain_q16
        eaten = prey_order[cell_start[hunting[fed]] + wolf_rank[fed]]
    alive, split = _settle(energy, repro_raw, ppm)
    return alive, split, eaten


def grass_phase_numpy(grown: BOOL, countdown: Any, regrowth: int) -> None:
    bare = np.flatnonzero(~grown)
    ready = countdown[bare] <= 0
    regrow, wait = bare[ready], bare[~ready]
    grown[regrow] = True
    countdown[regrow] = regrowth
    countdown[wait] -= 1


@dataclass(frozen=True)
class Kernels:
    name: str
    sheep_phase: Callable[..., tuple[BOOL, I64]]
    wolf_phase: Callable[..., tuple[BOOL, I64, I64]]
    grass_phase: Callable[[BOOL, Any, int], None]


NUMPY = Kernels("numpy", sheep_phase_numpy, wolf_phase_numpy, grass_phase_numpy)


def _numba() -> Kernels | None:
    try:
        from ouroboros.worlds.wolfsheep import _numba_kernels as nk
    except ImportError:
        return None
    return Kernels("numba", nk.sheep_phase, nk.wolf_phase, nk.grass_phase)


def available() -> list[Kernels]:
    found = [NUMPY]
    k = _numba()
    if k is not None:
        found.append(k)
    return found


def select(name: str = "auto") -> Kernels:
    """``numpy``, ``numba`` (refused without numba) or ``auto`` (numba if present)."""
    if name == "numpy":
        return NUMPY
    if name in ("numba", "auto"):
        k = _numba()
        if k is not None:
            return k
        if name == "numba":
            raise WorldError("the numba kernels need numba: pip install 'ouroboros[jit]'")
        return NUMPY
    raise WorldError(
        f"unknown wolfsheep kernels {name!r} (known: auto, {', '.join(k.name for k in available())})"
    )


def prepare_numba() -> None:
    """Compile (or load from numba's cache) outside any tick."""
    k = _numba()
    if k is None:
        return
    x = np.array([0, 1, 2], dtype=np.int32)
    e = np.array([5, 6, 7], dtype=np.int64) << 16
    raw = np.array([1, 2, 3], dtype=np.uint64) << np.uint64(40)
    grown = np.ones(9, dtype=bool)
    k.sheep_phase(x.copy(), x.copy(), e.copy(), grown, raw, raw, raw, 3, 3, 5 << 16, 400_000)
    k.wolf_phase(
        x.copy(),
        x.copy(),
        e.copy(),
        raw,
        raw,
        raw,
        np.array([0, 4], dtype=np.int64),
        raw[:2],
        3,
        3,
        13 << 16,
        200_000,
    )
    k.grass_phase(grown, np.zeros(9, dtype=np.int32), 3)
