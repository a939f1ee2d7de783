"""numba implementations of the kernels in ``kernels.py``: the same searches as loops.

Integer arithmetic only (numba's ``>>`` on signed ints is arithmetic, as numpy's), visiting
candidates in any order but breaking ties exactly as the numpy reference does, so the results are
identical. Importing this module raises ImportError when numba is absent.

numba compiles one specialisation per argument type, and an array's type includes its layout
(contiguous SoA column or strided AoS view) and whether it is read-only (a column a system only
reads). ``prepare`` compiles each kernel once for the most general type (any layout, read-only),
which every array a tick passes converts to, and then stops compiling at call time: a tick never
pays for a compile.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import types

from ouroboros.worlds.petri.spatial import Grid

FOOD_RADIUS_FP = 2 << 16


@numba.njit(cache=True, nogil=True)
def _eat(bx, by, br, fx, fy, shift, cols, rows, order, start, visit_order):  # type: ignore[no-untyped-def]
    nf = fx.size
    best_d2 = np.full(nf, -1, dtype=np.int64)
    best_bot = np.full(nf, -1, dtype=np.int64)
    for visit in range(bx.size):
        i = visit_order[visit]
        cx = min(max(bx[i] >> shift, 0), cols - 1)
        cy = min(max(by[i] >> shift, 0), rows - 1)
        reach = (np.int64(br[i]) + FOOD_RADIUS_FP) >> 8
        reach2 = reach * reach
        for ny in range(cy - 1, cy + 2):
            if ny < 0 or ny >= rows:
                continue
            for nx in range(cx - 1, cx + 2):
                if nx < 0 or nx >= cols:
                    continue
                c = ny * cols + nx
                for k in range(start[c], start[c + 1]):
                    f = order[k]
                    dx = (bx[i] - fx[f]) >> 8
                    dy = (by[i] - fy[f]) >> 8
                    d2 = dx * dx + dy * dy
                    if d2 > reach2:
                        continue
                    b = best_d2[f]
                    if b < 0 or d2 < b or (d2 == b and i < best_bot[f]):
                        best_d2[f] = d2
                        best_bot[f] = i
    eaten = np.flatnonzero(best_bot >= 0)
    return eaten.astype(np.int64), best_bot[eaten]


@numba.njit(cache=True, nogil=True)
def _predation(x, y, radius, energy, shift, cols, rows, cellx, celly, order, start):  # type: ignore[no-untyped-def]
    n = x.size
    pred = np.full(n, -1, dtype=np.int64)
    for visit in range(n):
        a = order[visit]  # cell order: neighbours stay in cache; ties are broken explicitly
        cx = cellx[a]
        cy = celly[a]
        for ny in range(cy - 1, cy + 2):
            if ny < 0 or ny >= rows:
                continue
            for nx in range(cx - 1, cx + 2):
                if nx < 0 or nx >= cols:
                    continue
                c = ny * cols + nx
                for k in range(start[c], start[c + 1]):
                    b = order[k]
                    if b == a or energy[b] * 2 < energy[a] * 3:
                        continue
                    dx = (x[a] - x[b]) >> 8
                    dy = (y[a] - y[b]) >> 8
                    reach = (np.int64(radius[a]) + np.int64(radius[b])) >> 8
                    if dx * dx + dy * dy > reach * reach:
                        continue
                    p = pred[a]
                    if p < 0 or energy[b] > energy[p] or (energy[b] == energy[p] and b < p):
                        pred[a] = b
    victims = np.flatnonzero(pred >= 0)
    return victims.astype(np.int64), pred[victims]


def eat_contacts(bx, by, br, fx, fy, grid: Grid, bot_grid: Grid):  # type: ignore[no-untyped-def]
    return _eat(bx, by, br, fx, fy, grid.shift, grid.cols, grid.rows, grid.order, grid.start, bot_grid.order)


@numba.njit(cache=True, nogil=True)
def _counting_sort(cells, ncells):  # type: ignore[no-untyped-def]
    start = np.zeros(ncells + 1, dtype=np.int64)
    for i in range(cells.size):
        start[cells[i] + 1] += 1
    for c in range(ncells):
        start[c + 1] += start[c]
    fill = start[:-1].copy()
    order = np.empty(cells.size, dtype=np.int64)
    for i in range(cells.size):
        c = cells[i]
        order[fill[c]] = i
        fill[c] += 1
    return order, start


def sort_cells(cells, ncells):  # type: ignore[no-untyped-def]
    return _counting_sort(cells, ncells)


def predation_contacts(x, y, radius, energy, grid: Grid):  # type: ignore[no-untyped-def]
    return _predation(
        x, y, radius, energy, grid.shift, grid.cols, grid.rows, grid.cx, grid.cy, grid.order, grid.start
    )


_I64 = types.Array(types.int64, 1, "A", readonly=True)
_I32 = types.Array(types.int32, 1, "A", readonly=True)
_INT = types.int64
#: the one signature each kernel is compiled for (every layout and writability converts to it)
SIGNATURES = (
    (_eat, (_I64, _I64, _I32, _I64, _I64, _INT, _INT, _INT, _I64, _I64, _I64)),
    (_predation, (_I64, _I64, _I32, _I64, _INT, _INT, _INT, _I64, _I64, _I64, _I64)),
    (_counting_sort, (_I64, _INT)),
)


def prepare() -> None:
    """Compile (or load from numba's cache) every kernel for ``SIGNATURES`` and stop compiling at
    call time; specialisations compiled before (by calls) stay in use for their exact types.
    Calling it again does nothing more."""
    for fn, sig in SIGNATURES:
        if sig not in fn.signatures:  # prepared already (each system's variant prepares)
            fn.compile(sig)
        fn.disable_compile()
