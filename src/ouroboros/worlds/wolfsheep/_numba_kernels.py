"""numba implementations of the WolfSheep phases in ``kernels.py``: each phase one compiled loop,
with the same draws and the same tie-breaking as the numpy reference (smallest key, then row), so
the state they leave is identical. Integer arithmetic only; ``below`` is ``Stream.below`` (the
multiply-shift on the top 32 bits). Importing this module raises ImportError when numba is absent.
"""

from __future__ import annotations

import numba
import numpy as np

from ouroboros.worlds.wolfsheep.kernels import DX, DY, MOVE_COUNTS, MOVES

ONE_Q16 = 1 << 16
PPM = 1_000_000


@numba.njit(cache=True, nogil=True, inline="always")
def _below(raw, bound):  # type: ignore[no-untyped-def]
    return np.int64(((raw >> np.uint64(32)) * np.uint64(bound)) >> np.uint64(32))


@numba.njit(cache=True, nogil=True)
def _walk(x, y, raw, width, height, moves, counts, dx, dy):  # type: ignore[no-untyped-def]
    for i in range(x.size):
        xi = x[i]
        yi = y[i]
        ax = 0 if xi == 0 else (2 if xi == width - 1 else 1)
        ay = 0 if yi == 0 else (2 if yi == height - 1 else 1)
        cls = ax * 3 + ay
        pick = moves[cls, _below(raw[i], counts[cls])]
        x[i] = xi + dx[pick]
        y[i] = yi + dy[pick]


@numba.njit(cache=True, nogil=True)
def _settle(energy, raw, ppm):  # type: ignore[no-untyped-def]
    n = energy.size
    alive = energy >= 0
    split = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        if alive[i] and _below(raw[i], PPM) < ppm:
            energy[i] >>= 1
            split[m] = i
            m += 1
    return alive, split[:m].copy()


@numba.njit(cache=True, nogil=True)
def _sheep(x, y, energy, grown, walk_raw, keys, repro_raw, width, height, gain, ppm, moves, counts, dx, dy):  # type: ignore[no-untyped-def]
    _walk(x, y, walk_raw, width, height, moves, counts, dx, dy)
    n = x.size
    best = np.full(width * height, -1, dtype=np.int64)
    for i in range(n):
        energy[i] -= ONE_Q16
        c = np.int64(y[i]) * width + x[i]
        if grown[c]:
            b = best[c]
            if b < 0 or keys[i] < keys[b]:  # rows ascend: an equal key keeps the lower row
                best[c] = i
    for i in range(n):
        c = np.int64(y[i]) * width + x[i]
        if best[c] == i:
            energy[i] += gain
            grown[c] = False
    return _settle(energy, repro_raw, ppm)


@numba.njit(cache=True, nogil=True)
def _rank_in_cells(cells, keys, ncells):  # type: ignore[no-untyped-def]
    """(order, start): rows by (cell, key, row), and each cell's first position."""
    n = cells.size
    start = np.zeros(ncells + 1, dtype=np.int64)
    for i in range(n):
        start[cells[i] + 1] += 1
    for c in range(ncells):
        start[c + 1] += start[c]
    fill = start[:-1].copy()
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        c = cells[i]
        order[fill[c]] = i
        fill[c] += 1
    lo = 0
    while lo < n:  # each occupied cell's rows, in place: visits rows, not all cells
        hi = start[cells[order[lo]] + 1]
        for a in range(lo + 1, hi):
            v = order[a]
            b = a - 1
            while b >= lo and keys[order[b]] > keys[v]:
                order[b + 1] = order[b]
                b -= 1
            order[b + 1] = v
        lo = hi
    return order, start


@numba.njit(cache=True, nogil=True)
def _wolves(
    x,
    y,
    energy,
    walk_raw,
    keys,
    repro_raw,
    prey_cells,
    prey_keys,
    width,
    height,
    gain,
    ppm,
    moves,
    counts,
    dx,
    dy,
):  # type: ignore[no-untyped-def]
    _walk(x, y, walk_raw, width, height, moves, counts, dx, dy)
    n = x.size
    ncells = width * height
    cells = np.empty(n, dtype=np.int64)
    for i in range(n):
        energy[i] -= ONE_Q16
        cells[i] = np.int64(y[i]) * width + x[i]
    eaten = np.empty(min(n, prey_cells.size), dtype=np.int64)
    m = 0
    if prey_cells.size:
        prey_order, prey_start = _rank_in_cells(prey_cells, prey_keys, ncells)
        wolf_order, wolf_start = _rank_in_cells(cells, keys, ncells)
        for p in range(n):
            w = wolf_order[p]
            c = cells[w]
            rank = p - wolf_start[c]
            if rank < prey_start[c + 1] - prey_start[c]:
                energy[w] += gain
                eaten[m] = prey_order[prey_start[c] + rank]
                m += 1
    alive, split = _settle(energy, repro_raw, ppm)
    return alive, split, eaten[:m].copy()


@numba.njit(cache=True, nogil=True)
def _grass(grown, countdown, regrowth):  # type: ignore[no-untyped-def]
    for c in range(grown.size):
        if not grown[c]:
            if countdown[c] <= 0:
                grown[c] = True
                countdown[c] = regrowth
            else:
                countdown[c] -= 1


def sheep_phase(x, y, energy, grown, walk_raw, keys, repro_raw, width, height, gain_q16, ppm):  # type: ignore[no-untyped-def]
    return _sheep(
        x,
        y,
        energy,
        grown,
        walk_raw,
        keys,
        repro_raw,
        width,
        height,
        gain_q16,
        ppm,
        MOVES,
        MOVE_COUNTS,
        DX,
        DY,
    )


def wolf_phase(x, y, energy, walk_raw, keys, repro_raw, prey_cells, prey_keys, width, height, gain_q16, ppm):  # type: ignore[no-untyped-def]
    return _wolves(
        x,
        y,
        energy,
        walk_raw,
        keys,
        repro_raw,
        prey_cells,
        prey_keys,
        width,
        height,
        gain_q16,
        ppm,
        MOVES,
        MOVE_COUNTS,
        DX,
        DY,
    )


def grass_phase(grown, countdown, regrowth):  # type: ignore[no-untyped-def]
    _grass(grown, countdown, regrowth)
