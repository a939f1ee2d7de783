"""The watcher: reads petri's telemetry snapshots and raises triggers.

Petri's ``telemetry`` system writes one KPI snapshot into ``world.resources["telemetry"]`` every
``telemetry_every`` ticks (``worlds/petri/systems.py``). The watcher keeps the last ``WINDOW``
snapshots it was shown and compares them, oldest to newest. Pure: no I/O, no clock, integers.

Triggers (each with a ``severity`` 1..3, and the numbers that raised it):

- ``starvation``: starvation deaths over the window are a large share of the population, or the
  population fell by a tenth or more while average energy fell;
- ``overpopulation``: the population is near the dish's ``max_entities``, or food ran out while
  the population grew;
- ``low_diversity``: few distinct trait sets remain (``trait_diversity``), or one trait is
  carried by nearly everyone.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

WINDOW = 5
KINDS = ("starvation", "overpopulation", "low_diversity")


@dataclass(frozen=True)
class Trigger:
    kind: str
    severity: int  # 1 (watch) .. 3 (act now)
    tick: int
    numbers: dict[str, int] = field(default_factory=dict)
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "tick": self.tick,
            "numbers": dict(self.numbers),
            "reason": self.reason,
        }


def _severity(value: int, steps: tuple[int, int, int]) -> int:
    """1, 2 or 3 for the highest of ``steps`` that ``value`` reaches; 0 below all."""
    return sum(1 for s in steps if value >= s)


def assess(snapshots: list[Mapping[str, Any]], max_entities: int | None = None) -> list[Trigger]:
    """The triggers the window ``snapshots`` (oldest first) raises. Fewer than two: none."""
    if len(snapshots) < 2:
        return []
    first, last = snapshots[0], snapshots[-1]
    tick = int(last["tick"])
    pop0, pop1 = int(first["entity_count"]), int(last["entity_count"])
    out: list[Trigger] = []
    starved = sum(int(s["deaths"]["starvation"]) for s in snapshots[1:])
    births = sum(int(s["births"]) for s in snapshots[1:])
    energy0, energy1 = int(first["avg_energy_fp"]), int(last["avg_energy_fp"])
    drop_permille = (pop0 - pop1) * 1000 // max(pop0, 1)
    starved_permille = starved * 1000 // max(pop0, 1)
    sev = max(_severity(starved_permille, (100, 250, 500)), _severity(drop_permille, (100, 250, 500)))
    if pop0 > 0 and sev and (starved > births or energy1 < energy0):
        out.append(
            Trigger(
                "starvation",
                sev,
                tick,
                {
                    "population_start": pop0,
                    "population_end": pop1,
                    "starved": starved,
                    "births": births,
                    "avg_energy_start_fp": energy0,
                    "avg_energy_end_fp": energy1,
                },
                f"{starved} starved and the population went {pop0} -> {pop1} over {len(snapshots)} snapshots",
            )
        )
    food0, food1 = int(first["food_count"]), int(last["food_count"])
    crowd = pop1 * 1000 // max_entities if max_entities else 0
    food_gone = food1 * 10 < max(food0, 1) and pop1 > pop0
    sev = _severity(crowd, (800, 900, 980))
    if food_gone:
        sev = max(sev, 2)
    if sev:
        out.append(
            Trigger(
                "overpopulation",
                sev,
                tick,
                {
                    "population": pop1,
                    "max_entities": max_entities or 0,
                    "food_start": food0,
                    "food_end": food1,
                },
                f"population {pop1} with food {food0} -> {food1}",
            )
        )
    diversity = int(last["trait_diversity"])
    counts = last.get("trait_counts") or {}
    top = max(counts.values(), default=0)
    share = top * 1000 // max(pop1, 1)
    sev = max(
        _severity(5 - min(diversity, 5), (2, 3, 4)) if pop1 >= 20 else 0,
        _severity(share, (950, 980, 1000)) if pop1 >= 20 else 0,
    )
    if sev:
        out.append(
            Trigger(
                "low_diversity",
                sev,
                tick,
                {"trait_diversity": diversity, "top_share_permille": share, "population": pop1},
                f"{diversity} trait sets; the commonest trait on {share}‰ of the molbots",
            )
        )
    return out


class Watcher:
    """Keeps the last ``WINDOW`` telemetry snapshots of one world and assesses them."""

    def __init__(self, window: int = WINDOW) -> None:
        self.window = window
        self.snapshots: deque[dict[str, Any]] = deque(maxlen=window)

    def observe(self, snapshot: Mapping[str, Any] | None) -> bool:
        """Take a snapshot if it is new (by tick); ``True`` when it was taken."""
        if snapshot is None:
            return False
        if self.snapshots and int(self.snapshots[-1]["tick"]) >= int(snapshot["tick"]):
            return False
        self.snapshots.append(dict(snapshot))
        return True

    def ready(self) -> bool:
        return len(self.snapshots) == self.window

    def triggers(self, max_entities: int | None = None) -> list[Trigger]:
        """Triggers over a full window (none before it is full), most severe first."""
        if not self.ready():
            return []
        found = assess(list(self.snapshots), max_entities)
        return sorted(found, key=lambda t: (-t.severity, KINDS.index(t.kind)))

    def clear(self) -> None:
        self.snapshots.clear()


__all__ = ["KINDS", "WINDOW", "Trigger", "Watcher", "assess"]
