"""Scripted KPI windows for the rollout tests: a healthy arm, and ways to make one sick."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ouroboros.rollout.analysis import ArmWindow


def healthy(exposures: int = 50, **changes: Any) -> ArmWindow:
    arm = ArmWindow(
        exposures=exposures,
        ticks=100,
        faults=0,
        tick_p99_ms=20.0,
        tick_budget_ms=50.0,
        money_start=10_000,
        money_end=10_050,
        moderation_incidents=1,
        player_minutes=500.0,
        quests_started=40,
        quests_completed=30,
    )
    return replace(arm, **changes)


def inflating(exposures: int = 50) -> ArmWindow:
    """The treatment of a patch that prints money: +8 % over a window instead of +0.5 %."""
    return healthy(exposures, money_end=10_800)


class TickClock:
    """The tick a fake world has reached; tests move it."""

    def __init__(self, tick: int = 0) -> None:
        self.tick = tick

    def __call__(self) -> int:
        return self.tick

    def advance(self, ticks: int) -> None:
        self.tick += ticks


class ScriptedKpis:
    """Serves a scripted series of windows, one per call, in order; ``None`` in the series is an
    unreadable window, an exception is raised. Records every window it was asked for."""

    def __init__(self, series: list[Any]) -> None:
        self.series = list(series)
        self.asked: list[tuple[int, int, int]] = []  # (start, end, treatment share in bp)

    def window(self, state: Any, start_tick: int, end_tick: int) -> Any:
        from ouroboros.rollout.analysis import WindowSample

        self.asked.append((start_tick, end_tick, state.pct_bp))
        item = self.series.pop(0) if self.series else (healthy(), healthy())
        if item is None:
            return None
        if isinstance(item, Exception):
            raise item
        treatment, control, *guards = item
        return WindowSample(start_tick, end_tick, treatment, control, frozenset(guards))
