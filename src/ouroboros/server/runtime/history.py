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
    "avg_energy_fp": ("Energy, mean (fixed point)", "energy"),
    "births": ("Births", "molbots"),
    "deaths.starvation": ("Deaths by starvation", "molbots"),
    "deaths.age": ("Deaths of old age", "molbots"),
    "deaths.collision": ("Deaths by collision", "molbots"),
    "resource_density_per_mil": ("Resource density", "per million"),
    "trait_diversity": ("Trait diversity", "traits"),
    "max_generation": ("Oldest generation", "generation"),
    "players": ("Players (all)", "players"),
    "items": ("Items", "items"),
    "held_transactions": ("Transactions held by the economic guard", "transactions"),
    "quests_done": ("Quests done", "quests"),
    "feedback_total": ("Player feedback", "messages"),
    "feedback_sentiment_mean": ("Feedback sentiment, mean", ""),
}


_ORDER = {key: i for i, key in enumerate(LABELS)}


def label_of(key: str) -> dict[str, str]:
    """The human name and unit of a series (``trait_counts.flee``: "Trait counts: flee")."""
    if key not in LABELS and "." in key:
        parent, sub = key.split(".", 1)
        return {"label": f"{label_of(parent)['label']}: {sub.replace('_', ' ')}", "unit": ""}
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
            if key == "tick":
                continue
            inner = value.items() if isinstance(value, dict) else [("", value)]
            for sub, v in inner:  # one level of nesting: deaths.starvation
                if isinstance(v, int | float) and not isinstance(v, bool):
                    values[f"{key}.{sub}" if sub else key] = float(v)
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
        keys = sorted({k for r in rows for k in r["values"]}, key=lambda k: (_ORDER.get(k, len(_ORDER)), k))
        return {
            "world": world,
            "t": [r["t"] for r in rows],
            "at": [datetime.fromtimestamp(r["t"], UTC).isoformat(timespec="seconds") for r in rows],
            "tick": [r["tick"] for r in rows],
            "series": {k: {**label_of(k), "values": [r["values"].get(k) for r in rows]} for k in keys},
        }

    def attach(self, runner: Any, on_sample: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        """Sample ``runner`` from its ``after_tick`` hooks (cheap: a clock read per tick);
        ``on_sample(world, kpis)`` sees each sample's KPIs (the alerts' economic holds)."""
        name = runner.name

        def hook(world: Any, ms: float) -> None:
            if self.due(name):
                kpis = runner.kpis()
                self.sample(name, runner.stats(), kpis)
                if on_sample is not None:
                    on_sample(name, kpis)

        runner.after_tick.append(hook)


__all__ = ["HISTORY_KEEP", "LABELS", "History", "label_of"]
