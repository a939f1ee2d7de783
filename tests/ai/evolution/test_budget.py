"""A cycle's cost is bounded and visible: its evaluation stops within one fork tick of its budget
(by the loop's injected clock) and the cycle is recorded as timed out; every evaluated cycle ends
with a ``cost`` event; the loop's buffers keep to their configured bounds."""

from __future__ import annotations

from typing import Any

import pytest

from ouroboros.ai.evolution import CascadeConfig, EvolutionConfig, EvolutionLoop, Headless
from ouroboros.errors import BadInputError
from ouroboros.worlds import build_world

FAST = CascadeConfig(replay_ticks=2, shadow_ticks=30)
FORK_TICK_S = 1 / 64  # what the fake clock says one fork tick takes (exact in binary)


class FakeClock:
    """Monotonic seconds that move only when a fork tick is paced."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.paced = 0

    def __call__(self) -> float:
        return self.now

    def pace(self) -> None:
        self.paced += 1
        self.now += FORK_TICK_S


def _loop(budget_ms: int, clock: FakeClock, **config: Any) -> EvolutionLoop:
    dish = build_world("petri", 5, {"entities": 60})
    dish.run(5)
    cfg = EvolutionConfig(generations=2, cascade=FAST, cycle_budget_ms=budget_ms, **config)
    return EvolutionLoop(dish, config=cfg, clock=clock, pace=clock.pace)


def test_a_cycle_out_of_its_budget_stops_within_one_fork_tick_and_is_recorded_as_timed_out() -> None:
    clock = FakeClock()
    loop = _loop(500, clock)
    outcome = loop.trigger("budget")
    assert outcome["type"] == "rejected" and outcome["code"] == "cycle_timed_out", outcome
    assert outcome["timed_out"] is True and outcome["budget_ms"] == 500
    cost = loop.history(5)[-1]
    assert cost["type"] == "cost" and cost["cycle"] == outcome["cycle"]
    # 500 ms at 15.625 ms a fork tick: exactly 32 fork ticks ran, and not one more
    assert cost["fork_ticks"] == 32 == clock.paced, cost
    assert cost["timed_out"] is True and cost["elapsed_ms"] == 500
    assert not any(e["type"] in ("accepted", "swapped") for e in loop.history(1000))
    assert loop.governor.active() is None  # nothing was submitted
    Headless(loop).run(2, evolve=False)  # the live dish, following its governor, ticks on unchanged
    assert not loop.world.resources.get("scripted_traits")


def test_the_same_cycle_without_a_budget_runs_to_its_decision_and_says_what_it_cost() -> None:
    clock = FakeClock()
    loop = _loop(0, clock)
    outcome = loop.trigger("no budget")
    assert outcome.get("code") != "cycle_timed_out"
    cost = next(e for e in loop.history(1000) if e["type"] == "cost")
    assert cost["fork_ticks"] > 32 and cost["timed_out"] is False and cost["candidates"] >= 1
    assert cost["elapsed_ms"] == int(cost["fork_ticks"] * FORK_TICK_S * 1000)


def test_the_history_and_the_library_keep_to_their_bounds() -> None:
    clock = FakeClock()
    loop = _loop(0, clock, history_max_events=7, library_max_programs=1)
    for _ in range(3):
        loop.world.run(2)
        loop.trigger("bounds")
    assert len(loop.history(1000)) == 7
    assert len(loop.library) <= 1


@pytest.mark.parametrize("name", ["history_max_events", "library_max_programs", "cycle_budget_ms"])
def test_a_negative_bound_is_bad_input(name: str) -> None:
    with pytest.raises(BadInputError, match=name):
        EvolutionConfig(**{name: -1})
