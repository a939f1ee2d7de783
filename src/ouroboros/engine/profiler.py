"""Per-system time per tick over a sliding window, exposed as data.

Timing uses the monotonic performance counter. It is measurement, never state: nothing it
records reaches a component, a resource or the digest.

Besides time it records, per tick, the entity count and the archetype churn (rows spawned,
despawned or moved by structural commands) and, per system, the change in Python's allocated
blocks (a cheap allocation signal). It is double-buffered: ``publish()`` (called by the world
between ticks every ``publish_every`` ticks) computes a summary once; ``published()`` hands out
the last one without computing anything, so a reader — a dashboard, the optimizer — never stalls
a tick or sees a half-written window.
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


ENTITIES = "<entities>"
CHURN = "<churn>"
SPIKE_FACTOR = 4  # a tick slower than 4× the median is a spike


class Profiler:
    """Nanoseconds per system per tick (and per whole tick, under ``"<tick>"``)."""

    def __init__(self, window: int = 512, publish_every: int = 32) -> None:
        if window < 1:
            raise ValueError("profiler window must be at least 1 tick")
        self.window = window
        self.publish_every = max(1, publish_every)
        self._rings: dict[str, _Ring] = {}
        self._allocs: dict[str, _Ring] = {}
        self._meta: dict[str, _Ring] = {ENTITIES: _Ring(window), CHURN: _Ring(window)}
        self._published: dict[str, object] = {"stats": {}, "tick": 0}
        self._since_publish = 0

    def record(self, name: str, ns: int, alloc_blocks: int | None = None) -> None:
        ring = self._rings.get(name)
        if ring is None:
            ring = self._rings[name] = _Ring(self.window)
        ring.push(ns)
        if alloc_blocks is not None:
            aring = self._allocs.get(name)
            if aring is None:
                aring = self._allocs[name] = _Ring(self.window)
            aring.push(alloc_blocks)

    def record_tick(self, tick: int, entities: int, churn: int) -> None:
        """End of a tick: its entity count and churn; publishes every ``publish_every`` ticks."""
        self._meta[ENTITIES].push(entities)
        self._meta[CHURN].push(churn)
        self._since_publish += 1
        if self._since_publish >= self.publish_every:
            self.publish(tick)

    def recent(self, name: str, ticks: int) -> np.ndarray:
        """The last ``ticks`` samples of ``name`` (oldest first)."""
        ring = self._rings.get(name) or self._meta.get(name)
        if ring is None or ring.filled == 0:
            return np.zeros(0, dtype=np.int64)
        n = min(ticks, ring.filled)
        idx = (ring.index - n + np.arange(n)) % ring.values.size
        return ring.values[idx]

    def last(self, name: str) -> int | None:
        """The last sample of ``name`` (``None`` before the first): what a per-tick reader needs,
        without building an array."""
        ring = self._rings.get(name) or self._meta.get(name)
        return ring.last() if ring is not None and ring.filled else None

    def publish(self, tick: int) -> None:
        stats = self.stats()
        for name, ring in self._allocs.items():
            if name in stats:
                stats[name]["alloc_blocks_mean"] = float(ring.window().mean())
        tick_ring = self._rings.get(TICK)
        if tick_ring is not None and tick_ring.filled:
            w = tick_ring.window()
            stats.setdefault(TICK, {})["spikes"] = float(np.count_nonzero(w > SPIKE_FACTOR * np.median(w)))
        counts = {
            name.strip("<>"): {"last": ring.last(), "mean": float(ring.window().mean())}
            for name, ring in self._meta.items()
            if ring.filled
        }
        self._published = {"stats": stats, "counts": counts, "tick": tick}
        self._since_publish = 0

    def published(self) -> dict[str, object]:
        """The last published summary: ``{"tick": T, "stats": {name: {...}}}``."""
        return self._published

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
        self._allocs.clear()
        self._meta = {ENTITIES: _Ring(self.window), CHURN: _Ring(self.window)}
        self._since_publish = 0
