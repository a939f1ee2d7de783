"""Components of Flocking. A bird's position and velocity are float64 values kept as their IEEE 754
bit patterns in integer fields (ADR 0014): the digest, snapshots and the sync test compare them bit
for bit, and only the flocking kernels read them as floats (``as_float``)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ouroboros.engine import Component

#: x, y, vx, vy: float64 bit patterns (see the module docstring)
Bird = Component("Bird", x="i8", y="i8", vx="i8", vy="i8")

ALL = (Bird,)
BIRD = ("Bird",)
FIELDS = ("x", "y", "vx", "vy")


def as_float(column: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """The float64 view of a bit-pattern column (writes go through to the column)."""
    return column.view(np.float64)


def as_bits(values: npt.ArrayLike) -> npt.NDArray[np.int64]:
    return np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
