"""Per-system time per tick over a sliding window, exposed as data.

Timing uses the monotonic performance counter. It is measurement, never state: nothing it
records reaches a component, a resource or the digest.
"""

from __future__ import annotations

import numpy as np

TICK = "<tick>"


class _Ring:
    __slots__ = ("filled", "index", "values")

    def __init__(self, window: int) -> None:
        self.values = np.zeros(window, dtype=np.int64)
        self.index = 0
        self.filled = 0

    def push(self, ns: int) -> None:
        self.values[self.index] = ns
        self.index = (self.index + 1) % self.values.size
        self.filled = min(self.filled + 1, self.values.size)

    def last(self) -> int:
        return int(self.values[(self.index - 1) % self.values.size])

    def window(self) -> np.ndarray:
        return self.values[: self.filled] if self.filled < self.values.size else self.values


class Profiler:
    """Nanoseconds per system per tick (and per whole tick, under ``"<tick>"``)."""

    def __init__(self, window: int = 512) -> None:
        if window < 1:
            raise ValueError("profiler window must be at least 1 tick")
        self.window = window
        self._rings: dict[str, _Ring] = {}

    def record(self, name: str, ns: int) -> None:
        ring = self._rings.get(name)
        if ring is None:
            ring = self._rings[name] = _Ring(self.window)
        ring.push(ns)

    def stats(self) -> dict[str, dict[str, float]]:
        """``{name: {p50_ms, p95_ms, max_ms, mean_ms, last_ms, samples}}`` over the window."""
        out: dict[str, dict[str, float]] = {}
        for name, ring in self._rings.items():
            w = ring.window()
            if w.size == 0:
                continue
            p50, p95 = np.percentile(w, [50, 95])
            out[name] = {
                "p50_ms": float(p50) / 1e6,
                "p95_ms": float(p95) / 1e6,
                "max_ms": float(w.max()) / 1e6,
                "mean_ms": float(w.mean()) / 1e6,
                "last_ms": ring.last() / 1e6,
                "samples": float(w.size),
            }
        return out

    def tick_stats(self) -> dict[str, float]:
        return self.stats().get(TICK, {"p50_ms": 0.0, "p95_ms": 0.0, "max_ms": 0.0})

    def reset(self) -> None:
        self._rings.clear()
