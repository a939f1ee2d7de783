"""Server-side history for the dashboard's charts: one sample per world per ``every_s`` seconds,
kept in a ring of ``keep`` samples (one hour at one a second), so a chart opened late, or again
after a tab change, starts with the last hour instead of an empty line.

A sample is taken by the world's own ``after_tick`` hook (under its lock, at a tick boundary) at
most once per ``every_s`` of the sampler's clock: the tick time p50/p95, ticks per second, and
every numeric KPI of the world. It is measurement, never state: nothing here reaches the world.
Each series has a human name and a unit (``LABELS``; a KPI without one is named from its key).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

HISTORY_KEEP = 3600
#: series -> (what a person reads, unit)
LABELS: dict[str, tuple[str, str]] = {
    "tick_p50_ms": ("Tick time, median", "ms"),
    "tick_p95_ms": ("Tick time, 95th percentile", "ms"),
    "ticks_per_second": ("Ticks per second", "ticks/s"),
    "entity_count": ("Population", "entities"),
    "food_count": ("Food", "items"),
    "npcs": ("NPCs", "npcs"),
    "players_online": ("Players online", "players"),
    "money_supply": ("Money supply", "credits"),
    "inflation_permille": ("Inflation", "‰"),
    "energy_total": ("Energy, total", "energy"),
    "mean_energy": ("Energy, mean", "energy"),
    "rooms": ("Rooms", "rooms"),
}


def label_of(key: str) -> dict[str, str]:
    name, unit = LABELS.get(key, (key.replace("_", " ").capitalize(), ""))
    return {"label": name, "unit": unit}


class History:
    """The rings of every world: ``sample(world, stats, kpis)`` and ``series(world, seconds)``."""

    def __init__(
        self,
        keep: int = HISTORY_KEEP,
        every_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.keep, self.every_s = keep, every_s
        self._clock, self._wall = clock, wall
        self._rings: dict[str, deque[dict[str, Any]]] = {}
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def due(self, world: str) -> bool:
        last = self._last.get(world)
        return last is None or self._clock() - last >= self.every_s

    def sample(self, world: str, stats: dict[str, Any], kpis: dict[str, Any]) -> None:
        values: dict[str, float] = {}
        for key in ("tick_p50_ms", "tick_p95_ms", "ticks_per_second"):
            if isinstance(stats.get(key), int | float):
                values[key] = float(stats[key])
        for key, value in kpis.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                values[key] = float(value)
        row = {"t": round(self._wall(), 3), "tick": stats.get("tick"), "values": values}
        with self._lock:
            self._last[world] = self._clock()
            ring = self._rings.setdefault(world, deque(maxlen=self.keep))
            ring.append(row)

    def series(self, world: str, seconds: float | None = None) -> dict[str, Any]:
        """``{"world", "t": [...], "tick": [...], "series": {key: {label, unit, values}}}``, oldest
        first; a value a sample lacks is ``None``."""
        with self._lock:
            rows = list(self._rings.get(world, ()))
        if seconds is not None and rows:
            since = rows[-1]["t"] - seconds
            rows = [r for r in rows if r["t"] >= since]
        keys = sorted({k for r in rows for k in r["values"]})
        return {
            "world": world,
            "t": [r["t"] for r in rows],
            "at": [datetime.fromtimestamp(r["t"], UTC).isoformat(timespec="seconds") for r in rows],
            "tick": [r["tick"] for r in rows],
            "series": {k: {**label_of(k), "values": [r["values"].get(k) for r in rows]} for k in keys},
        }

    def attach(self, runner: Any) -> None:
        """Sample ``runner`` from its ``after_tick`` hooks (cheap: a clock read per tick)."""
        name = runner.name

        def hook(world: Any, ms: float) -> None:
            if self.due(name):
                self.sample(name, runner.stats(), runner.kpis())

        runner.after_tick.append(hook)


__all__ = ["HISTORY_KEEP", "LABELS", "History", "label_of"]
