"""A ``KpiSource`` over what shards report after each tick: the book the controller reads.

Each shard reports a ``TickReport`` after every tick with the version it ran; ``KpiBook`` keeps
them (bounded) and serves ``window(state, start, end)``: a report belongs to the treatment when
its version is the rollout's patch, to the control when it is the stable version
(``rollback_target_id``), to neither otherwise. Per arm over ``[start, end)``:

- ``ticks``: shard-ticks reported; ``faults``: their script faults and tick exceptions;
- ``tick_p99_ms``: the nearest-rank 99th percentile of their tick times;
- ``money_start``/``money_end``: summed over the arm's shards, each shard's first and last
  report in the window (a shard that switched arms mid-window counts in each with its own
  segment); unknown if any report lacks it;
- ``moderation_incidents``, ``quests_started``, ``quests_completed``: sums;
- ``player_minutes``: players online per shard-tick, over the tick rate;
- ``exposures``: distinct accounts seen (or entity ids, for a world without players).

An arm with no report at all in the window is unreadable (``None``), never "zero": a shard that
stopped reporting must not look healthy. Hard guards raised with ``guard`` land in the window
that holds their tick. Time is ticks: nothing here reads a clock.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from ouroboros.errors import BadInputError
from ouroboros.rollout.analysis import ArmWindow, WindowSample
from ouroboros.rollout.controller import RolloutState

DEFAULT_KEEP_TICKS = 100_000


@dataclass(frozen=True)
class TickReport:
    """What one shard measured over one tick."""

    tick: int
    tick_ms: float
    faults: int = 0
    money_supply: int | None = None
    moderation_incidents: int = 0
    exposed: frozenset[str] = frozenset()  # accounts online (or entity ids in the cohort)
    quests_started: int = 0
    quests_completed: int = 0


def p99(values: list[float]) -> float:
    """The nearest-rank 99th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


class KpiBook:
    """Tick reports of a world's shards, and the windows the controller asks for."""

    def __init__(
        self, *, ticks_per_second: float, tick_budget_ms: float, keep_ticks: int = DEFAULT_KEEP_TICKS
    ) -> None:
        if ticks_per_second <= 0 or tick_budget_ms <= 0 or keep_ticks < 1:
            raise BadInputError("a KPI book needs a positive tick rate, tick budget and history")
        self.ticks_per_second = ticks_per_second
        self.tick_budget_ms = tick_budget_ms
        self.keep_ticks = keep_ticks
        self._reports: dict[str, deque[tuple[str | None, TickReport]]] = {}
        self._guards: list[tuple[int, str]] = []

    def observe(self, shard: str, version: str | None, report: TickReport) -> None:
        kept = self._reports.setdefault(shard, deque())
        if kept and report.tick <= kept[-1][1].tick:
            raise BadInputError(f"shard {shard} reported tick {report.tick} after {kept[-1][1].tick}")
        kept.append((version, report))
        while kept and kept[0][1].tick <= report.tick - self.keep_ticks:
            kept.popleft()

    def guard(self, name: str, tick: int) -> None:
        """A hard guard fired at ``tick`` (a crashed tick thread, a broken invariant, …)."""
        self._guards.append((tick, name))

    def _arm(self, version: str | None, start: int, end: int) -> ArmWindow | None:
        segments: list[list[TickReport]] = []
        for kept in self._reports.values():
            current: list[TickReport] = []
            for v, report in kept:
                if start <= report.tick < end and v == version:
                    current.append(report)
                elif current:
                    segments.append(current)
                    current = []
            if current:
                segments.append(current)
        reports = [r for seg in segments for r in seg]
        if not reports:
            return None
        money = None
        if all(r.money_supply is not None for r in reports):
            money = (
                sum(seg[0].money_supply or 0 for seg in segments),
                sum(seg[-1].money_supply or 0 for seg in segments),
            )
        exposed: set[str] = set()
        for r in reports:
            exposed |= r.exposed
        return ArmWindow(
            exposures=len(exposed),
            ticks=len(reports),
            faults=sum(r.faults for r in reports),
            tick_p99_ms=p99([r.tick_ms for r in reports]),
            tick_budget_ms=self.tick_budget_ms,
            money_start=None if money is None else money[0],
            money_end=None if money is None else money[1],
            moderation_incidents=sum(r.moderation_incidents for r in reports),
            player_minutes=sum(len(r.exposed) for r in reports) / self.ticks_per_second / 60.0,
            quests_started=sum(r.quests_started for r in reports),
            quests_completed=sum(r.quests_completed for r in reports),
        )

    def window(self, state: RolloutState, start_tick: int, end_tick: int) -> WindowSample:
        guards = frozenset(name for tick, name in self._guards if start_tick <= tick < end_tick)
        return WindowSample(
            start_tick,
            end_tick,
            self._arm(state.patch_id, start_tick, end_tick),
            self._arm(state.rollback_target_id, start_tick, end_tick),
            guards,
        )

    def shards(self) -> Iterable[str]:
        return tuple(self._reports)


__all__ = ["KpiBook", "TickReport", "p99"]
