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
    # Food gathered into cell order first, so the candidates of a cell are contiguous (the search
    # then reads memory in sequence instead of at random: at 100k molbots that is most of it).
    nf = fx.size
    sfx = np.empty(nf, dtype=np.int64)
    sfy = np.empty(nf, dtype=np.int64)
    for k in range(nf):
        sfx[k] = fx[order[k]]
        sfy[k] = fy[order[k]]
    best_d2 = np.full(nf, -1, dtype=np.int64)  # by position in cell order
    best_bot = np.full(nf, -1, dtype=np.int64)
    nb = bx.size
    sbx = np.empty(nb, dtype=np.int64)  # molbots gathered in their own cell order too
    sby = np.empty(nb, dtype=np.int64)
    sbr = np.empty(nb, dtype=np.int64)
    for v in range(nb):
        i = visit_order[v]
        sbx[v] = bx[i]
        sby[v] = by[i]
        sbr[v] = br[i]
    for visit in range(nb):
        i = visit_order[visit]
        x = sbx[visit]
        y = sby[visit]
        cx = min(max(x >> shift, 0), cols - 1)
        cy = min(max(y >> shift, 0), rows - 1)
        reach = (sbr[visit] + FOOD_RADIUS_FP) >> 8
        reach2 = reach * reach
        x0 = max(cx - 1, 0)
        x1 = min(cx + 2, cols)
        for ny in range(max(cy - 1, 0), min(cy + 2, rows)):
            # the three cells of a row are consecutive in cell order: one run of candidates
            row = ny * cols
            for k in range(start[row + x0], start[row + x1]):
                dx = (x - sfx[k]) >> 8
                dy = (y - sfy[k]) >> 8
                d2 = dx * dx + dy * dy
                if d2 > reach2:
                    continue
                b = best_d2[k]
                if b < 0 or d2 < b or (d2 == b and i < best_bot[k]):
                    best_d2[k] = d2
                    best_bot[k] = i
    winner = np.full(nf, -1, dtype=np.int64)  # back to food rows
    for k in range(nf):
        winner[order[k]] = best_bot[k]
    eaten = np.flatnonzero(winner >= 0)
    return eaten.astype(np.int64), winner[eaten]


@numba.njit(cache=True, nogil=True)
def _predation(x, y, radius, energy, shift, cols, rows, cellx, celly, order, start):  # type: ignore[no-untyped-def]
    # Every molbot gathered into cell order (see ``_eat``); the best predator is kept as
    # (energy, row) in locals and written once per prey.
    n = x.size
    sx = np.empty(n, dtype=np.int64)
    sy = np.empty(n, dtype=np.int64)
    sr = np.empty(n, dtype=np.int64)
    se = np.empty(n, dtype=np.int64)
    for k in range(n):
        r = order[k]
        sx[k] = x[r]
        sy[k] = y[r]
        sr[k] = radius[r]
        se[k] = energy[r]
    best = np.empty(n, dtype=np.int64)  # by position in cell order
    for ka in range(n):
        xa = sx[ka]
        cx = min(max(xa >> shift, 0), cols - 1)
        cy = min(max(sy[ka] >> shift, 0), rows - 1)
        ya = sy[ka]
        ra = sr[ka]
        strong = se[ka] * 3
        p = -1
        pe = 0
        x0 = max(cx - 1, 0)
        x1 = min(cx + 2, cols)
        for ny in range(max(cy - 1, 0), min(cy + 2, rows)):
            row = ny * cols  # three consecutive cells: one run of candidates
            for k in range(start[row + x0], start[row + x1]):
                eb = se[k]
                if k == ka or eb * 2 < strong:
                    continue
                dx = (xa - sx[k]) >> 8
                dy = (ya - sy[k]) >> 8
                reach = (ra + sr[k]) >> 8
                if dx * dx + dy * dy > reach * reach:
                    continue
                b = order[k]
                if p < 0 or eb > pe or (eb == pe and b < p):
                    p = b
                    pe = eb
        best[ka] = p
    pred = np.empty(n, dtype=np.int64)  # back to rows
    for k in range(n):
        pred[order[k]] = best[k]
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


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_U27, _U30, _U31, _U32 = np.uint64(27), np.uint64(30), np.uint64(31), np.uint64(32)
_TWO_ONE = np.uint64(2 << 16)


@numba.njit(cache=True, nogil=True, inline="always")
def _signed_one(lane, entity):  # type: ignore[no-untyped-def]
    # Stream.signed_fp(n, ONE, ids=..., salt) for one id: SplitMix64 of the id on the salt's
    # lane, multiply-shifted to [0, 2 ONE), less ONE (engine/rng.py, in uint64 throughout).
    z = lane + np.uint64(entity) * _GOLDEN
    z = (z ^ (z >> _U30)) * _M1
    z = (z ^ (z >> _U27)) * _M2
    z = z ^ (z >> _U31)
    return np.int64(((z >> _U32) * _TWO_ONE) >> _U32) - (1 << 16)


@numba.njit(cache=True, nogil=True, inline="always")
def _steer_one(dx, dy, m):  # type: ignore[no-untyped-def]
    # spatial.steer for one molbot: whole-unit direction, float64 sqrt of an integer, truncated.
    ux = dx >> 16
    uy = dy >> 16
    norm = np.int64(np.sqrt(np.float64(ux * ux + uy * uy)))
    if norm < 1:
        norm = 1
    return (m * ux) // norm, (m * uy) // norm


@numba.njit(cache=True, nogil=True)
def _builtin_traits(  # type: ignore[no-untyped-def]
    mask, ids, thrust, fcount, fdx, fdy, ccount, cdx, cdy, wander1, wander2, absorb, tx, ty, gain
):
    # The four built-in traits (traits.py: SeekFood, Wander, Flee, AbsorbEnergy on bits 0-3) in
    # one pass; each adds what its numpy version adds, and integer sums do not depend on order.
    for i in range(mask.size):
        bits = mask[i]
        m = np.int64(thrust[i])
        if bits & np.uint64(1) and fcount[i] > 0:
            ax, ay = _steer_one(fdx[i], fdy[i], m)
            tx[i] += ax
            ty[i] += ay
        if bits & np.uint64(2):
            tx[i] += (_signed_one(wander1, ids[i]) * m) >> 17
            ty[i] += (_signed_one(wander2, ids[i]) * m) >> 17
        if bits & np.uint64(4) and ccount[i] > 0:
            ax, ay = _steer_one(-cdx[i], -cdy[i], m)
            tx[i] += ax
            ty[i] += ay
        if bits & np.uint64(8):
            gain[i] += absorb


@numba.njit(cache=True, nogil=True)
def _field(x, y, shift, cols, rows):  # type: ignore[no-untyped-def]
    # spatial.build_field: per padded coarse cell the count and coordinate sums of its points,
    # then the 3x3 sums around every inner cell (the border stays empty). Integer sums, equal to
    # numpy's float bincount while that is exact (below 2**53, see build_field).
    size = cols * rows
    count = np.zeros(size, dtype=np.int64)
    sum_x = np.zeros(size, dtype=np.int64)
    sum_y = np.zeros(size, dtype=np.int64)
    for i in range(x.size):
        cx = min(max(x[i] >> shift, 0), cols - 3) + 1
        cy = min(max(y[i] >> shift, 0), rows - 3) + 1
        c = cy * cols + cx
        count[c] += 1
        sum_x[c] += x[i]
        sum_y[c] += y[i]
    box_n = np.zeros(size, dtype=np.int64)
    box_x = np.zeros(size, dtype=np.int64)
    box_y = np.zeros(size, dtype=np.int64)
    for r in range(1, rows - 1):
        for col in range(1, cols - 1):
            n = 0
            sx = 0
            sy = 0
            for dr in range(-1, 2):
                base = (r + dr) * cols + col
                for dc in range(-1, 2):
                    n += count[base + dc]
                    sx += sum_x[base + dc]
                    sy += sum_y[base + dc]
            c = r * cols + col
            box_n[c] = n
            box_x[c] = sx
            box_y[c] = sy
    return box_n, box_x, box_y


@numba.njit(cache=True, nogil=True)
def _lookup(count, sum_x, sum_y, shift, cols, rows, x, y, less):  # type: ignore[no-untyped-def]
    # spatial.neighbourhood plus the offsets the traits read: (count - less, sum_x - count * x,
    # sum_y - count * y) of the 3x3 cells around each point.
    n = x.size
    out_n = np.empty(n, dtype=np.int64)
    out_x = np.empty(n, dtype=np.int64)
    out_y = np.empty(n, dtype=np.int64)
    for i in range(n):
        cx = min(max(x[i] >> shift, 0), cols - 3) + 1
        cy = min(max(y[i] >> shift, 0), rows - 3) + 1
        c = cy * cols + cx
        k = count[c]
        out_n[i] = k - less
        out_x[i] = sum_x[c] - k * x[i]
        out_y[i] = sum_y[c] - k * y[i]
    return out_n, out_x, out_y


_I64 = types.Array(types.int64, 1, "A", readonly=True)
_I32 = types.Array(types.int32, 1, "A", readonly=True)
_INT = types.int64
_U64 = types.Array(types.uint64, 1, "A", readonly=True)
_OUT = types.Array(types.int64, 1, "C")
#: the one signature each kernel is compiled for (every layout and writability converts to it)
SIGNATURES = (
    (_eat, (_I64, _I64, _I32, _I64, _I64, _INT, _INT, _INT, _I64, _I64, _I64)),
    (_predation, (_I64, _I64, _I32, _I64, _INT, _INT, _INT, _I64, _I64, _I64, _I64)),
    (_counting_sort, (_I64, _INT)),
    (_field, (_I64, _I64, _INT, _INT, _INT)),
    (_lookup, (_I64, _I64, _I64, _INT, _INT, _INT, _I64, _I64, _INT)),
    (
        _builtin_traits,
        (_U64, _I64, _I32, *(_I64,) * 6, types.uint64, types.uint64, _INT, _OUT, _OUT, _OUT),
    ),
)


def prepare() -> None:
    """Compile (or load from numba's cache) every kernel for ``SIGNATURES`` and stop compiling at
    call time; specialisations compiled before (by calls) stay in use for their exact types.
    Calling it again does nothing more."""
    for fn, sig in SIGNATURES:
        if sig not in fn.signatures:  # prepared already (each system's variant prepares)
            fn.compile(sig)
        fn.disable_compile()
