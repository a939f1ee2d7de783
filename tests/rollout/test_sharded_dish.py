"""petri as two dishes inside one runtime (``go --shards petri=2``): a rollout of scope ``shard``
puts the patch on one dish and keeps the other as its control, promotes on healthy windows until
the patch is active everywhere; a dish whose tick crashes rolls the rollout back at once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ouroboros.patches.states import State
from ouroboros.rollout.analysis import Check
from ouroboros.rollout.controller import Phase
from ouroboros.rollout.plan import parse_plan
from ouroboros.rollout.service import RolloutService
from ouroboros.server.runtime import Runtime, RuntimeOptions
from ouroboros.server.runtime.runner import WorldRunner
from ouroboros.worlds.petri.systems import molbots
from tests.patches.conftest import FAST_BUDGETS

WINDOW_TICKS = 20


@pytest.fixture
def dish(tmp_path: Path) -> Iterator[WorldRunner]:
    options = RuntimeOptions(
        ticks_per_second=40,
        world_configs={"petri": {"entities": 60}},
        optimizer=False,
        council=False,
        event_log=False,
        input_log=False,
        shards={"petri": 2},
        governance_budgets={**FAST_BUDGETS, "human_domains": ["world_params"]},
    )
    runtime = Runtime(tmp_path / "data", ["petri"], options)
    runtime.start()
    try:
        yield runtime.runner("petri")
    finally:
        runtime.stop()


def wait_for(check: Callable[[], bool], timeout_s: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.02)


def versions(runner: WorldRunner) -> list[Any]:
    return [s["version"] for s in runner.stats()["shards"]]


def stage(runner: WorldRunner, temperature: int, **plan: Any) -> str:
    verdict = runner.governance.set_params({"temperature": temperature}, "op", "a warmer dish")
    assert verdict["state"] == "validated", verdict
    patch = str(verdict["patch_id"])
    checks = (Check("faults_per_1000_ticks", limit=5.0),)  # a dish has no players and no money
    made = parse_plan(
        "50,100", window_ticks=WINDOW_TICKS, min_exposures=10, scope="shard", checks=checks, **plan
    )
    runner.call(lambda: RolloutService(runner.governor).start(patch, made, "op", "stage it"))
    return patch


def rollout(runner: WorldRunner) -> Any:
    return runner.call(lambda: RolloutService(runner.governor).store.rollouts()[-1])


def test_the_patch_runs_on_one_dish_beside_its_control_then_everywhere(dish: WorldRunner) -> None:
    patch = stage(dish, 33, windows_per_stage=3)
    wait_for(lambda: sorted(versions(dish), key=str) == [None, patch], what="one dish on the patch")
    treated = versions(dish).index(patch)
    assert dish.shards is not None
    assert dish.shards.worlds[treated].resources["params"]["temperature"] == 33
    assert dish.shards.worlds[1 - treated].resources["params"]["temperature"] == 20
    wait_for(lambda: versions(dish) == [patch, patch], 60, "the patch on every dish")
    state = rollout(dish)
    assert state.phase is Phase.COMPLETE and state.windows >= 3
    assert dish.call(lambda: dish.governor.active()) == patch
    assert dish.error is None


def test_a_dish_whose_tick_crashes_rolls_the_rollout_back_at_once(dish: WorldRunner) -> None:
    patch = stage(dish, 34, windows_per_stage=1000)
    wait_for(lambda: patch in versions(dish), what="one dish on the patch")
    treated = versions(dish).index(patch)
    assert dish.shards is not None
    world = dish.shards.worlds[treated]
    real_step = world.step

    def crash_once() -> Any:
        del world.step  # type: ignore[method-assign]  # the next tick is the real one again
        raise RuntimeError("a tick thread crash")

    with dish.lock:
        world.step = crash_once  # type: ignore[method-assign]
    wait_for(lambda: rollout(dish).phase is Phase.ROLLED_BACK, what="the rollback")
    wait_for(lambda: versions(dish) == [None, None], what="every dish back on the stable version")
    rollbacks = dish.call(lambda: dish.governor.ledger.entries(patch_id=patch, kind="rollout_rollback"))
    assert rollbacks[-1].evidence["fired"] == ["tick_thread_crash"]
    assert dish.call(lambda: dish.governor.ledger.state_of(patch)) == State.ROLLED_BACK
    assert world.step == real_step and dish.error is None  # one crash does not stop the world
    errors = [e for e in dish.feed.recent(200) if e.get("kind") == "error"]
    assert any("a tick thread crash" in str(e.get("message")) for e in errors)


@pytest.mark.parametrize("shards", [1, 2])
def test_the_council_and_evolution_of_a_world_run_as_shards_stage_by_default(
    tmp_path: Path, shards: int
) -> None:
    options = RuntimeOptions(
        ticks_per_second=40,
        world_configs={"petri": {"entities": 60}},
        optimizer=False,
        event_log=False,
        input_log=False,
        shards={"petri": shards},
    )
    runtime = Runtime(tmp_path / "data", ["petri"], options)
    runtime.start()
    try:
        runner = runtime.runner("petri")
        council, loop = runner.council, runner.evolution.loop
        assert council is not None and loop is not None
        # one world alone never promotes a rollout: it stages only what the operator asks it to
        assert council.staged_by_default is (shards > 1)
        assert loop.staged_by_default is (shards > 1)
    finally:
        runtime.stop()


def test_a_dish_on_the_patch_that_breaks_an_invariant_rolls_the_rollout_back_and_the_control_only_reports(
    dish: WorldRunner,
) -> None:
    patch = stage(dish, 35, windows_per_stage=1000)
    wait_for(lambda: patch in versions(dish), what="one dish on the patch")
    treated = versions(dish).index(patch)
    assert dish.shards is not None
    worlds = dish.shards.worlds

    def corrupt(k: int) -> None:  # a gene out of its bounds: no tick puts it back
        with dish.lock:
            mb = molbots(worlds[k])
            assert mb is not None
            mb["DNA.mutation_permille"][0] = 999

    def errors() -> list[str]:
        return [str(e.get("message")) for e in dish.feed.recent(200) if e.get("kind") == "error"]

    corrupt(1 - treated)  # the control arm: said on the feed, the rollout goes on
    wait_for(lambda: any("invariant broken" in m for m in errors()), what="the control's broken invariant")
    tick = dish.call(lambda: worlds[treated].tick)
    wait_for(lambda: dish.call(lambda: worlds[treated].tick) > tick + 5, what="more ticks")
    assert rollout(dish).phase is not Phase.ROLLED_BACK and patch in versions(dish)
    corrupt(treated)  # the treatment: the hard guard rolls it back at once
    wait_for(lambda: rollout(dish).phase is Phase.ROLLED_BACK, what="the rollback")
    wait_for(lambda: versions(dish) == [None, None], what="every dish back on the stable version")
    rollbacks = dish.call(lambda: dish.governor.ledger.entries(patch_id=patch, kind="rollout_rollback"))
    assert rollbacks[-1].evidence["fired"] == ["invariant_broken"]
    found = [m for m in errors() if "invariant broken" in m]
    assert any(f"petri-{treated}" in m and "mutation_permille" in m for m in found), found
    assert dish.error is None  # a broken invariant does not stop the world
