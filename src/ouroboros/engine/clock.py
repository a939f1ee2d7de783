"""The clock a world measures with: a callable returning nanoseconds.

Time is measurement, never state (ADR 0001): the profiler and the optimizer read it, no system's
result depends on it. The default is the monotonic performance counter. ``ManualClock`` is the
clock tests inject so that "this system takes 4 ms" is a fact of the test, not of the machine's
load: a system advances it by what it claims to cost, and every decision the optimizer takes
from timings is then the same on an idle laptop and on a loaded CI runner.
"""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], int]
"""Nanoseconds from an arbitrary, monotonic origin."""

monotonic_ns: Clock = time.perf_counter_ns


class ManualClock:
    """A clock that moves only when told: ``advance(ns)`` or ``advance_ms(ms)``."""

    __slots__ = ("now_ns",)

    def __init__(self, start_ns: int = 0) -> None:
        self.now_ns = start_ns

    def __call__(self) -> int:
        return self.now_ns

    def advance(self, ns: int) -> None:
        if ns < 0:
            raise ValueError(f"a clock never goes back ({ns} ns)")
        self.now_ns += ns

    def advance_ms(self, ms: float) -> None:
        self.advance(round(ms * 1e6))


__all__ = ["Clock", "ManualClock", "monotonic_ns"]
