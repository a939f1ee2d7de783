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
