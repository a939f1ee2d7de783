"""The numba implementation of ``kernels.step``: the same arithmetic, in the same order (see there).

The neighbour search uses a periodic cell list (doubly linked, updated as each bird moves), with
cells a little wider than the visual distance, so the 3×3 cells around a bird hold every bird
within the distance whatever the rounding of the cell index. Neighbours found in cell order are
sorted by index before the sums, which is what makes the bits equal to the reference's. Compiled
without ``fastmath``: LLVM then neither contracts ``a * b + c`` into a fused multiply-add nor
reassociates. Importing this module raises ImportError when numba is absent.
"""

from __future__ import annotations

import numba
import numpy as np

from ouroboros.worlds.flocking.params import Model

#: cells are at least this factor wider than the visual distance (room for rounding)
CELL_MARGIN = 1.000001


@numba.njit(cache=True, nogil=True)
def _cell_of(p, cell_size, cells):  # type: ignore[no-untyped-def]
    c = int(p / cell_size)
    if c >= cells:
        c = cells - 1
    if c < 0:
        c = 0
    return c


@numba.njit(cache=True, nogil=True)
def _step(x, y, vx, vy, order, w, h, r, speed, cf, sep, sf, mf, ncx, ncy):  # type: ignore[no-untyped-def]
    n = x.size
    csx = w / ncx
    csy = h / ncy
    head = np.full(ncx * ncy, -1, dtype=np.int64)
    nxt = np.full(n, -1, dtype=np.int64)
    prv = np.full(n, -1, dtype=np.int64)
    cell = np.empty(n, dtype=np.int64)
    for i in range(n):
        c = _cell_of(y[i], csy, ncy) * ncx + _cell_of(x[i], csx, ncx)
        cell[i] = c
        nxt[i] = head[c]
        if head[c] >= 0:
            prv[head[c]] = i
        head[c] = i
    rx = 1 if ncx >= 3 else 0
    ry = 1 if ncy >= 3 else 0
    hw = w * 0.5
    hh = h * 0.5
    buf = np.empty(n, dtype=np.int64)
    for k in range(order.size):
        i = order[k]
        xi = x[i]
        yi = y[i]
        ci = cell[i]
        cy0 = ci // ncx
        cx0 = ci - cy0 * ncx
        m = 0
        for oy in range(-ry, ry + 1):
            cyy = (cy0 + oy) % ncy
            for ox in range(-rx, rx + 1):
                j = head[cyy * ncx + (cx0 + ox) % ncx]
                while j >= 0:
                    if j != i:
                        dx = x[j] - xi
                        if dx > hw:
                            dx = dx - w
                        elif dx < -hw:
                            dx = dx + w
                        dy = y[j] - yi
                        if dy > hh:
                            dy = dy - h
                        elif dy < -hh:
                            dy = dy + h
                        if np.sqrt(dx * dx + dy * dy) <= r:
                            buf[m] = j
                            m += 1
                    j = nxt[j]
        for a in range(1, m):  # insertion sort: neighbour lists are short
            v = buf[a]
            b = a - 1
            while b >= 0 and buf[b] > v:
                buf[b + 1] = buf[b]
                b -= 1
            buf[b + 1] = v
        shx = 0.0
        shy = 0.0
        scx = 0.0
        scy = 0.0
        svx = 0.0
        svy = 0.0
        for a in range(m):
            j = buf[a]
            dx = x[j] - xi
            if dx > hw:
                dx = dx - w
            elif dx < -hw:
                dx = dx + w
            dy = y[j] - yi
            if dy > hh:
                dy = dy - h
            elif dy < -hh:
                dy = dy + h
            shx += dx
            shy += dy
            if np.sqrt(dx * dx + dy * dy) < sep:
                scx += dx
                scy += dy
            svx += vx[j]
            svy += vy[j]
        nn = float(max(m, 1))
        ax = (shx * cf + (-scx) * sf) + svx * mf
        ay = (shy * cf + (-scy) * sf) + svy * mf
        nvx = vx[i] + ax / nn
        nvy = vy[i] + ay / nn
        norm = np.sqrt(nvx * nvx + nvy * nvy)
        if norm > 0.0:
            nvx = nvx / norm
            nvy = nvy / norm
        vx[i] = nvx
        vy[i] = nvy
        nx = (xi + nvx * speed) % w
        ny = (yi + nvy * speed) % h
        x[i] = nx
        y[i] = ny
        c = _cell_of(ny, csy, ncy) * ncx + _cell_of(nx, csx, ncx)
        if c != ci:
            if prv[i] >= 0:
                nxt[prv[i]] = nxt[i]
            else:
                head[ci] = nxt[i]
            if nxt[i] >= 0:
                prv[nxt[i]] = prv[i]
            prv[i] = -1
            nxt[i] = head[c]
            if head[c] >= 0:
                prv[head[c]] = i
            head[c] = i
            cell[i] = c


def _cells(extent: float, r: float) -> int:
    cells = int(extent // (r * CELL_MARGIN))
    return cells if cells >= 3 else 1


def step(x, y, vx, vy, order, m: Model) -> None:  # type: ignore[no-untyped-def]
    _step(
        x,
        y,
        vx,
        vy,
        order,
        m.width,
        m.height,
        m.visual_distance,
        m.speed,
        m.cohere_factor,
        m.separation,
        m.separate_factor,
        m.match_factor,
        _cells(m.width, m.visual_distance),
        _cells(m.height, m.visual_distance),
    )
