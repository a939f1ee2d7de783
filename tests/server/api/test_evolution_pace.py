"""In the live runtime an evolution cycle's fork ticks run in the dish's idle time: each waits
until the tick thread has finished its tick and sleeps until the next one, so the evaluation
never takes the interpreter from a paced tick it could have run beside; the cycle says what it
cost."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from ouroboros.server.runtime import Runtime

from .conftest import OPTIONS


@pytest.mark.slow
def test_fork_ticks_wait_for_the_dish_to_be_idle_and_the_cycle_reports_its_cost(tmp_path: Path) -> None:
    runtime = Runtime(tmp_path / "data", ("petri",), OPTIONS)
    runtime.start()
    try:
        petri = runtime.runner("petri")
        loop = petri.evolution.loop
        assert loop is not None and loop.pace == petri.wait_for_idle
        idle_at_fork_tick: list[bool] = []
        waits = loop.pace

        def pace() -> None:
            waits()
            idle_at_fork_tick.append(petri._idle.is_set())

        loop.pace = pace
        outcome: dict[str, Any] = {}
        cycle = threading.Thread(target=lambda: outcome.update(petri.evolution.evolve("pace", "op1")))
        cycle.start()
        cycle.join(120)
        assert not cycle.is_alive() and outcome, "the cycle did not end"
        events = [e["event"] for e in runtime.feed.recent(1000) if e["kind"] == "evolution"]
        cost = next(e for e in events if e["type"] == "cost" and e["cycle"] == outcome["cycle"])
        assert cost["fork_ticks"] == len(idle_at_fork_tick) > 0
        assert cost["timed_out"] is False and cost["elapsed_ms"] > 0
        # the idle flag may clear just after a wait returns (the next tick is due): rarely
        assert sum(idle_at_fork_tick) >= 0.9 * len(idle_at_fork_tick), idle_at_fork_tick.count(False)
    finally:
        runtime.stop()
