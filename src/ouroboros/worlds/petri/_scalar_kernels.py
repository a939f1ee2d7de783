"""Scalar pure-Python implementations of the dish's contact kernels (the ``python`` variant).

Same contracts and the same integers as the numpy reference (see ``kernels``): arithmetic shifts
and comparisons on Python ints behave as on int64 for the ranges the dish uses. They pay no
per-call array overhead, so for a few hundred molbots they beat building numpy temporaries; their
cost grows with the number of pairs, so the optimizer keeps them to small populations.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ouroboros.worlds.petri.spatial import Grid

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
FOOD_RADIUS_FP = 2 << 16
_EMPTY = np.empty(0, dtype=np.int64)


def sort_cells(cells: I64, ncells: int) -> tuple[I64, I64]:
    """Counting sort: rows by cell, by row inside a cell, and each cell's start offset."""
    cl = cells.tolist()
    start = [0] * (ncells + 1)
    for c in cl:
        start[c + 1] += 1
    total = 0
    for i in range(ncells + 1):
        total += start[i]
        start[i] = total
    fill = start[:-1]
    fill = list(fill)
    order = [0] * len(cl)
    for row, c in enumerate(cl):
        order[fill[c]] = row
        fill[c] += 1
    return np.asarray(order, dtype=np.int64), np.asarray(start, dtype=np.int64)


def _cells_around(grid: Grid, cx: int, cy: int) -> list[int]:
    out = []
    for dy in (-1, 0, 1):
        y = cy + dy
        if 0 <= y < grid.rows:
            for dx in (-1, 0, 1):
                x = cx + dx
                if 0 <= x < grid.cols:
                    out.append(y * grid.cols + x)
    return out


def eat_contacts(bx: I64, by: I64, br: I32, fx: I64, fy: I64, grid: Grid, bot_grid: Grid) -> tuple[I64, I64]:
    """Every food touched by a molbot, ascending, with the closest molbot (ties: lower row)."""
    if bx.size == 0 or fx.size == 0:
        return _EMPTY, _EMPTY
    xs, ys, rs = bx.tolist(), by.tolist(), br.tolist()
    fxs, fys = fx.tolist(), fy.tolist()
    order, start = grid.order.tolist(), grid.start.tolist()
    shift, cols_max, rows_max = grid.shift, grid.cols - 1, grid.rows - 1
    best: dict[int, tuple[int, int]] = {}
    for i in range(len(xs)):
        x, y = xs[i], ys[i]
        cx = min(max(x >> shift, 0), cols_max)
        cy = min(max(y >> shift, 0), rows_max)
        reach = (rs[i] + FOOD_RADIUS_FP) >> 8
        reach2 = reach * reach
        for c in _cells_around(grid, cx, cy):
            for k in range(start[c], start[c + 1]):
                f = order[k]
                dx = (x - fxs[f]) >> 8
                dy = (y - fys[f]) >> 8
                d2 = dx * dx + dy * dy
                if d2 <= reach2:
                    key = (d2, i)
                    old = best.get(f)
                    if old is None or key < old:
                        best[f] = key
    if not best:
        return _EMPTY, _EMPTY
    foods = sorted(best)
    return np.asarray(foods, dtype=np.int64), np.asarray([best[f][1] for f in foods], dtype=np.int64)


def predation_contacts(x: I64, y: I64, radius: I32, energy: I64, grid: Grid) -> tuple[I64, I64]:
    """Every molbot touched by one at least half again as strong, ascending, with the strongest
    such predator (ties: lower row)."""
    n = x.size
    if n < 2:
        return _EMPTY, _EMPTY
    xs, ys, rs, es = x.tolist(), y.tolist(), radius.tolist(), energy.tolist()
    cxs, cys = grid.cx.tolist(), grid.cy.tolist()
    order, start = grid.order.tolist(), grid.start.tolist()
    victims: list[int] = []
    predators: list[int] = []
    for a in range(n):
        ea3 = es[a] * 3
        xa, ya, ra = xs[a], ys[a], rs[a]
        best_b = -1
        best_e = 0
        for c in _cells_around(grid, cxs[a], cys[a]):
            for k in range(start[c], start[c + 1]):
                b = order[k]
                if b == a or es[b] * 2 < ea3:
                    continue
                dx = (xa - xs[b]) >> 8
                dy = (ya - ys[b]) >> 8
                reach = (ra + rs[b]) >> 8
                if dx * dx + dy * dy > reach * reach:
                    continue
                eb = es[b]
                if best_b < 0 or eb > best_e or (eb == best_e and b < best_b):
                    best_b, best_e = b, eb
        if best_b >= 0:
            victims.append(a)
            predators.append(best_b)
    if not victims:
        return _EMPTY, _EMPTY
    return np.asarray(victims, dtype=np.int64), np.asarray(predators, dtype=np.int64)
