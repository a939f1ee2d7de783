"""A spatial hash grid over fixed-point positions, and the neighbour queries built on it.

Cells are power-of-two squares so a cell index is a shift. Sorting by cell uses a stable radix
sort on 16-bit keys when the grid has at most 65,536 cells and otherwise sorts unique composite
keys (cell, row): either way the order is fully determined by the data, never by the sort
algorithm a given machine's numpy picks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numpy._core.umath import clip as _clip_ufunc  # type: ignore[attr-defined]  # np.clip's ufunc

from ouroboros.worlds.petri.params import FP_SHIFT

I64 = npt.NDArray[np.int64]


def clip(a: npt.ArrayLike, low: npt.ArrayLike, high: npt.ArrayLike, out: I64 | None = None) -> I64:
    """``np.clip`` without its Python-level checks (about 7 µs a call): the ufunc it ends in, one
    pass and no temporary (``min(max())`` is two passes and, on large arrays, slower)."""
    return _clip_ufunc(a, low, high, out=out)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Grid:
    """Points sorted by cell: ``order[start[c]:start[c+1]]`` are the rows in cell ``c``."""

    shift: int
    cols: int
    rows: int
    cx: I64
    cy: I64
    order: I64
    start: I64


def sort_cells_numpy(cells: I64, ncells: int) -> tuple[I64, I64]:
    """Rows sorted by cell (stable: by row inside a cell) and each cell's start offset."""
    n = cells.size
    if ncells <= 65536:
        order = np.argsort(cells.astype(np.uint16), kind="stable")
    else:
        order = np.argsort(cells * max(n, 1) + np.arange(n, dtype=np.int64))
    start = np.zeros(ncells + 1, dtype=np.int64)
    np.cumsum(np.bincount(cells, minlength=ncells), out=start[1:])
    return order.astype(np.int64, copy=False), start


def build_grid(
    x: I64,
    y: I64,
    cell_units_log2: int,
    width: int,
    height: int,
    sort_cells: Callable[[I64, int], tuple[I64, I64]] = sort_cells_numpy,
) -> Grid:
    shift = FP_SHIFT + cell_units_log2
    cols = (width >> cell_units_log2) + 1
    rows = (height >> cell_units_log2) + 1
    cx = clip(x >> shift, 0, cols - 1)
    cy = clip(y >> shift, 0, rows - 1)
    order, start = sort_cells(cy * cols + cx, cols * rows)
    return Grid(shift, cols, rows, cx, cy, order, start)


def neighbour_pairs(grid: Grid, qcx: I64, qcy: I64) -> tuple[I64, I64]:
    """Candidate pairs (query row, grid row) for every query point and every grid point in its
    own or the eight surrounding cells, without a Python loop over points."""
    n = qcx.size
    counts, starts = [], []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            cx = qcx + dx
            cy = qcy + dy
            ok = (cx >= 0) & (cx < grid.cols) & (cy >= 0) & (cy < grid.rows)
            c = np.where(ok, cy * grid.cols + cx, 0)
            s = grid.start[c]
            cnt = np.where(ok, grid.start[c + 1] - s, 0)
            counts.append(cnt)
            starts.append(s)
    cnt_all = np.concatenate(counts)
    total = int(cnt_all.sum())
    if total == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    q_all = np.tile(np.arange(n, dtype=np.int64), 9)
    qi = np.repeat(q_all, cnt_all)
    first = np.concatenate(starts)
    offsets = np.cumsum(cnt_all) - cnt_all
    pos = np.arange(total, dtype=np.int64) - np.repeat(offsets - first, cnt_all)
    return qi, grid.order[pos]


@dataclass(frozen=True)
class Field:
    """Per coarse cell, over the 3×3 cells around it: how many points and the sums of their
    coordinates. Looking up a point's neighbourhood is then one gather."""

    shift: int
    cols: int
    rows: int
    count: I64
    sum_x: I64
    sum_y: I64


def _box3(a: I64, rows: int, cols: int) -> I64:
    """3×3 neighbourhood sums of a grid padded with one empty cell on every side."""
    g = a.reshape(rows, cols)
    out = np.zeros_like(g)
    inner = out[1:-1, 1:-1]
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            inner += g[dy : rows - 2 + dy, dx : cols - 2 + dx]
    return out.reshape(-1)


def build_field(x: I64, y: I64, cell_units_log2: int, width: int, height: int) -> Field:
    shift = FP_SHIFT + cell_units_log2
    cols = (width >> cell_units_log2) + 3
    rows = (height >> cell_units_log2) + 3
    cx = clip(x >> shift, 0, cols - 3) + 1
    cy = clip(y >> shift, 0, rows - 3) + 1
    cells = cy * cols + cx
    size = cols * rows
    # Sums of integers are exact in float64 below 2**53 (here < 2**37 per point times points per
    # cell), so bincount's float accumulation gives the same integers in any order.
    count = np.bincount(cells, minlength=size).astype(np.int64)
    sum_x = np.bincount(cells, weights=x, minlength=size).astype(np.int64)
    sum_y = np.bincount(cells, weights=y, minlength=size).astype(np.int64)
    return Field(
        shift, cols, rows, _box3(count, rows, cols), _box3(sum_x, rows, cols), _box3(sum_y, rows, cols)
    )


def neighbourhood(field: Field, x: I64, y: I64) -> tuple[I64, I64, I64]:
    """Count and coordinate sums over the 3×3 cells around each point."""
    cx = clip(x >> field.shift, 0, field.cols - 3) + 1
    cy = clip(y >> field.shift, 0, field.rows - 3) + 1
    centre = cy * field.cols + cx
    return field.count[centre], field.sum_x[centre], field.sum_y[centre]


def steer(dx: I64, dy: I64, magnitude: npt.ArrayLike) -> tuple[I64, I64]:
    """A vector of length ``magnitude`` along (dx, dy), in integers.

    Directions are taken at whole-unit precision. The norm is float64 ``sqrt`` of an integer:
    the conversion and IEEE 754's sqrt are both correctly rounded, so every conforming machine
    gets the same bits.
    """
    ux = dx >> FP_SHIFT
    uy = dy >> FP_SHIFT
    norm = np.sqrt((ux * ux + uy * uy).astype(np.float64)).astype(np.int64)
    norm = np.maximum(norm, 1)
    m = np.asarray(magnitude, dtype=np.int64)
    return (m * ux) // norm, (m * uy) // norm
