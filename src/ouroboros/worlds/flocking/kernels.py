"""One step of the sequential flocking rule (SPEC.md 2.3), in interchangeable implementations.

Contract: ``step(x, y, vx, vy, order, model)`` updates the four float64 arrays in place, activating
the birds in ``order``; each bird sees the current state of the others. Every implementation must
give the *same bits*, so the arithmetic is pinned down here, and nothing else is allowed:

- ``h = p_j - p_i`` per axis, then the minimum image: ``h - W`` if ``h > W/2``, ``h + W`` if
  ``h < -W/2``; ``d = sqrt(hx*hx + hy*hy)``; ``j`` is a neighbour when ``j != i`` and ``d <= r``
  (exact search, the spec's choice; not Agents.jl's approximate one);
- the sums (of ``h`` over neighbours, of ``h`` over those with ``d < separation``, of ``v`` over
  neighbours) are taken one term at a time in ascending bird index;
- ``a = (sum_h * cohere + (-sum_close) * separate) + sum_v * match``, ``v = v + a / max(N, 1)``,
  ``v = v / sqrt(vx*vx + vy*vy)``, ``p = (p + v * speed) mod W`` (mod as Python's ``%``: the
  result has the sign of W).

These are IEEE 754 basic operations (+ - * / sqrt), each correctly rounded; no fused multiply-add,
no reassociation, no fast-math (numba compiles without ``fastmath``). ``numpy`` is the reference
(one vectorised pass over all birds per activation: O(N²)); ``numba`` keeps a periodic cell list
(cells at least the visual distance wide) and sorts each neighbour list before summing.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from ouroboros.errors import WorldError
from ouroboros.worlds.flocking.params import Model

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
StepFn = Callable[[F64, F64, F64, F64, I64, Model], None]


def _sequential_sum(values: F64) -> float:
    return float(np.cumsum(values)[-1]) if values.size else 0.0


def step_numpy(x: F64, y: F64, vx: F64, vy: F64, order: I64, m: Model) -> None:
    w, h = m.width, m.height
    hw, hh = w * 0.5, h * 0.5
    for i in order.tolist():
        dx = x - x[i]
        dx = np.where(dx > hw, dx - w, np.where(dx < -hw, dx + w, dx))
        dy = y - y[i]
        dy = np.where(dy > hh, dy - h, np.where(dy < -hh, dy + h, dy))
        d = np.sqrt(dx * dx + dy * dy)
        near = d <= m.visual_distance
        near[i] = False
        idx = np.flatnonzero(near)
        close = idx[d[idx] < m.separation]
        n = max(idx.size, 1)
        ax = (
            _sequential_sum(dx[idx]) * m.cohere_factor
            + (-_sequential_sum(dx[close])) * m.separate_factor
            + _sequential_sum(vx[idx]) * m.match_factor
        )
        ay = (
            _sequential_sum(dy[idx]) * m.cohere_factor
            + (-_sequential_sum(dy[close])) * m.separate_factor
            + _sequential_sum(vy[idx]) * m.match_factor
        )
        nvx = float(vx[i]) + ax / n
        nvy = float(vy[i]) + ay / n
        norm = math.sqrt(nvx * nvx + nvy * nvy)
        if norm > 0.0:
            nvx, nvy = nvx / norm, nvy / norm
        vx[i], vy[i] = nvx, nvy
        x[i] = (float(x[i]) + nvx * m.speed) % w
        y[i] = (float(y[i]) + nvy * m.speed) % h


def _numba_step() -> StepFn | None:
    try:
        from ouroboros.worlds.flocking import _numba_kernels as nk
    except ImportError:
        return None
    return nk.step


def available() -> list[str]:
    return ["numpy", "numba"] if _numba_step() is not None else ["numpy"]


def select(name: str = "auto") -> tuple[str, StepFn]:
    """``numpy``, ``numba`` (refused without numba) or ``auto`` (numba if present)."""
    if name == "numpy":
        return "numpy", step_numpy
    if name in ("numba", "auto"):
        fn = _numba_step()
        if fn is not None:
            return "numba", fn
        if name == "numba":
            raise WorldError("the numba kernels need numba: pip install 'ouroboros[jit]'")
        return "numpy", step_numpy
    raise WorldError(f"unknown flocking kernels {name!r} (known: auto, {', '.join(available())})")


def prepare_numba() -> None:
    """Compile the numba step (or load it from numba's cache) outside any tick."""
    fn = _numba_step()
    if fn is None:
        return
    x = np.array([1.0, 2.0, 3.0])
    fn(
        x.copy(),
        x.copy(),
        x.copy(),
        x.copy(),
        np.arange(3, dtype=np.int64),
        Model(10.0, 10.0, 1.5, 1.0, 0.03, 1.0, 0.015, 0.05),
    )
