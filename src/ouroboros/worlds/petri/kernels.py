"""The hot inner searches of the dish, in interchangeable implementations.

Each kernel is a pure function from arrays to arrays with one contract, and every implementation
must give *identical* integers (state is fixed point, so there is no tolerance to hide behind):

``sort_cells(cells, ncells) -> (order, start)``
    rows sorted by cell, by row inside a cell, and each cell's first position.
``eat_contacts(bx, by, br, fx, fy, food_grid, bot_grid) -> (eaten_food_rows, winner_bot_rows)``
    every food touched by at least one molbot, ascending, with the molbot that eats it: the
    closest one, ties to the lower row.
``predation_contacts(x, y, radius, energy, grid) -> (victim_rows, predator_rows)``
    every molbot touched by one at least half again as strong, ascending, with its predator:
    the strongest, ties to the lower row.

``numpy`` is the reference (pair expansion over the 3×3 cells, then lexsort). ``python`` runs the
same search as scalar loops (no array overhead: best for a few hundred molbots). ``numba`` runs
it as compiled loops when numba is installed; it is chosen by ``auto``. Each is registered as a
variant of the systems that use it (``eat``, ``collide``), so the engine's optimizer swaps them
while a world runs; ``variants`` below says which and for what sizes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ouroboros.errors import WorldError
from ouroboros.worlds.petri.spatial import Grid, neighbour_pairs, sort_cells_numpy

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]


# -- numpy reference ----------------------------------------------------------------------------
def _first_per_group(keys: I64) -> I64:
    if keys.size == 0:
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])


def eat_contacts_numpy(
    bx: I64, by: I64, br: I32, fx: I64, fy: I64, grid: Grid, bot_grid: Grid
) -> tuple[I64, I64]:
    cx = np.clip(bx >> grid.shift, 0, grid.cols - 1)
    cy = np.clip(by >> grid.shift, 0, grid.rows - 1)
    bot, food = neighbour_pairs(grid, cx, cy)
    dx = (bx[bot] - fx[food]) >> 8
    dy = (by[bot] - fy[food]) >> 8
    d2 = dx * dx + dy * dy
    reach = (br[bot].astype(np.int64) + FOOD_RADIUS_FP) >> 8
    touching = d2 <= reach * reach
    bot, food, d2 = bot[touching], food[touching], d2[touching]
    order = np.lexsort((bot, d2, food))
    food_sorted = food[order]
    first = _first_per_group(food_sorted)
    return food_sorted[first], bot[order][first]


def predation_contacts_numpy(x: I64, y: I64, radius: I32, energy: I64, grid: Grid) -> tuple[I64, I64]:
    a, b = neighbour_pairs(grid, grid.cx, grid.cy)
    strong = (a != b) & (energy[b] * 2 >= energy[a] * 3)
    a, b = a[strong], b[strong]
    dx = (x[a] - x[b]) >> 8
    dy = (y[a] - y[b]) >> 8
    r = radius.astype(np.int64)
    reach = (r[a] + r[b]) >> 8
    touching = dx * dx + dy * dy <= reach * reach
    a, b = a[touching], b[touching]
    order = np.lexsort((b, -energy[b], a))
    a_sorted = a[order]
    first = _first_per_group(a_sorted)
    return a_sorted[first], b[order][first]


FOOD_RADIUS_FP = 2 << 16


@dataclass(frozen=True)
class Kernels:
    name: str
    eat_contacts: Callable[[I64, I64, I32, I64, I64, Grid, Grid], tuple[I64, I64]]
    predation_contacts: Callable[[I64, I64, I32, I64, Grid], tuple[I64, I64]]
    sort_cells: Callable[[I64, int], tuple[I64, I64]]


NUMPY = Kernels("numpy", eat_contacts_numpy, predation_contacts_numpy, sort_cells_numpy)


def _python_kernels() -> Kernels:
    from ouroboros.worlds.petri import _scalar_kernels as sk

    return Kernels("python", sk.eat_contacts, sk.predation_contacts, sk.sort_cells)


PYTHON = _python_kernels()


def _numba_kernels() -> Kernels | None:
    try:
        from ouroboros.worlds.petri import _numba_kernels as nk
    except ImportError:
        return None
    return Kernels("numba", nk.eat_contacts, nk.predation_contacts, nk.sort_cells)


def available() -> list[str]:
    names = ["python", "numpy"]
    if _numba_kernels() is not None:
        names.append("numba")
    return names


def select(name: str = "auto") -> Kernels:
    """``python``, ``numpy``, ``numba`` (refused when numba is missing) or ``auto`` (numba if
    present, else numpy)."""
    if name == "numpy":
        return NUMPY
    if name == "python":
        return PYTHON
    if name in ("numba", "auto"):
        k = _numba_kernels()
        if k is not None:
            return k
        if name == "numba":
            raise WorldError("the numba kernels need numba: pip install 'ouroboros[jit]'")
        return NUMPY
    raise WorldError(f"unknown kernels {name!r} (known: auto, {', '.join(available())})")


#: entity counts (a system's molbots and food) each kind is meant for: hints for the optimizer's
#: rules, which only ever use them for a kind not yet measured at all (after that, measured speed
#: ratios decide, so a kind is tried again where its measurements say it may win). Measured (see
#: benchmarks/bench_petri_variants.py): python's scalar loops beat numpy's per-call overhead up to
#: about 45 entities in ``eat`` and 100 in ``collide``; numba beats both at every size.
SIZE_HINTS: dict[str, tuple[int, int | None]] = {"python": (0, 64), "numpy": (0, None), "numba": (0, None)}


def _read_only(a: np.ndarray) -> np.ndarray:
    view = a.view()
    view.flags.writeable = False
    return view


def prepare_numba() -> None:
    """Compile (or load from numba's cache) the numba kernels, outside any tick, for every array a
    tick passes: contiguous or strided (AoS), writable or read-only. Then run them once on tiny
    inputs of each kind (which must not compile anything more)."""
    k = _numba_kernels()
    if k is None:
        return
    from ouroboros.worlds.petri import _numba_kernels as nk
    from ouroboros.worlds.petri.spatial import build_grid

    nk.prepare()
    rows = np.zeros(3, dtype=[("x", np.int64), ("r", np.int32), ("e", np.int64)])
    rows["x"] = [0, 1 << 16, 5 << 16]
    rows["r"] = 2 << 16
    rows["e"] = [10, 40, 90]
    strided = rows["x"], rows["r"], rows["e"]
    contiguous = tuple(a.copy() for a in strided)
    read_only = tuple(a.copy() for a in strided)
    for a in read_only:
        a.flags.writeable = False
    for x, r, e in (contiguous, strided, read_only):
        grid = build_grid(x, x, 4, 64, 64, k.sort_cells)
        k.eat_contacts(x, x, r, x, x, grid, grid)
        k.predation_contacts(x, x, r, e, grid)
        out = [np.zeros(3, dtype=np.int64) for _ in range(3)]
        # the systems hand these three read-only views (``systems._ro``): warm them up the same way
        xr, rr, er = (_read_only(a) for a in (x, r, e))
        nk._builtin_traits(_read_only(e.view(np.uint64)), xr, rr, er, xr, xr, er, xr, xr,
                           np.uint64(1), np.uint64(2), 5, *out)  # fmt: skip
        count, sum_x, sum_y = nk._field(xr, xr, 20, 4, 4)
        nk._lookup(_read_only(count), _read_only(sum_x), _read_only(sum_y), 20, 4, 4, xr, xr, 1)


def variant_kernels() -> list[Kernels]:
    """Every kernel set this machine can run, in the order the variants are registered."""
    found = [PYTHON, NUMPY]
    k = _numba_kernels()
    if k is not None:
        found.append(k)
    return found
