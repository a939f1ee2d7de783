"""Quality and diversity: a MAP-Elites archive of evaluated trait programs, and the library of
proven traits later candidates are built from.

The archive has one cell per behaviour descriptor (carriers' mean speed bin × food eaten bin);
a cell keeps the best program that landed in it (higher fitness wins; a tie keeps the smaller
program, then the one that came first), so the archive holds good programs that *behave
differently*, the stepping stones a single best-so-far would lose (MAP-Elites, as in OpenELM).
Pure data: no I/O, deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ouroboros.ai.evolution.genome import Program, to_data

SPEED_BINS = (1 << 14, 1 << 15, 1 << 16, 1 << 17)  # Q16 |vx|+|vy|: a quarter .. two units a tick
FOOD_BINS = (1, 5, 20, 80)  # food items eaten in the dish during a shadow run, above the baseline


def bin_of(value: int, edges: tuple[int, ...]) -> int:
    return sum(1 for e in edges if value >= e)


def descriptor(mean_speed_fp: int, food_eaten: int) -> tuple[int, int]:
    return (bin_of(mean_speed_fp, SPEED_BINS), bin_of(food_eaten, FOOD_BINS))


@dataclass(frozen=True)
class Elite:
    program: Program
    fitness: int
    cell: tuple[int, int]
    source: str
    numbers: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "cell": list(self.cell),
            "fitness": self.fitness,
            "size": self.program.size(),
            "program": to_data(self.program),
            "numbers": dict(self.numbers),
        }


class Archive:
    """MAP-Elites over ``descriptor`` cells."""

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], Elite] = {}

    def offer(self, elite: Elite) -> bool:
        """Keep ``elite`` if its cell is empty or it beats the one there; ``True`` when kept."""
        held = self.cells.get(elite.cell)
        if held is not None and (held.fitness, -held.program.size()) >= (
            elite.fitness,
            -elite.program.size(),
        ):
            return False
        self.cells[elite.cell] = elite
        return True

    def best(self) -> Elite | None:
        return max(self.cells.values(), key=lambda e: (e.fitness, -e.program.size()), default=None)

    def elites(self) -> list[Elite]:
        """Every kept elite, best first (cell order breaks ties)."""
        return sorted(self.cells.values(), key=lambda e: (-e.fitness, e.program.size(), e.cell))

    def __len__(self) -> int:
        return len(self.cells)

    def as_dict(self) -> dict[str, Any]:
        return {"cells": [e.as_dict() for e in self.elites()]}


class Library:
    """Traits that were accepted into a world: the proven parents of later candidates."""

    def __init__(self, limit: int = 16) -> None:
        self.limit = limit
        self.entries: list[Elite] = []

    def add(self, elite: Elite) -> None:
        if any(e.program == elite.program for e in self.entries):
            return
        self.entries.append(elite)
        self.entries = self.entries[-self.limit :]

    def programs(self) -> list[Program]:
        return [e.program for e in self.entries]

    def __len__(self) -> int:
        return len(self.entries)


__all__ = ["Archive", "Elite", "Library", "descriptor"]
