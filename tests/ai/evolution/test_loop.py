"""The evolution loop end to end: through a real Governor to ``active`` and taken into the live
world by its follower at a tick boundary (the loop itself never writes the world); the famine
experiment (evolution on vs off); the ``ouroboros evolve`` command."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ouroboros.ai.evolution import (
    CascadeConfig,
    EvolutionConfig,
    EvolutionLoop,
    Headless,
    famine_experiment,
    famine_world,
)
from ouroboros.cli import app
from ouroboros.engine import World
from ouroboros.errors import BadInputError
from ouroboros.patches import Governor, PointerFollower
from ouroboros.worlds import build_world
from tests.patches.conftest import SMALL_WORLD

FAST = EvolutionConfig(generations=2, cascade=CascadeConfig(replay_ticks=3, shadow_ticks=40))


def test_an_evolved_trait_goes_through_the_governor_to_active_and_is_hot_swapped(tmp_path: Path) -> None:
    gov = Governor(tmp_path / "data", world_defaults=SMALL_WORLD, environ={})
    try:
        world = build_world("petri", 7, {"entities": 60})
        world.run(10)
        seen: list[dict] = []
        gov.new_key("op", ["*"])  # an operator's key; the loop makes its own on first use
        loop = EvolutionLoop(world, governor=gov, config=FAST, feed=seen.append)
        outcome = loop.trigger("test", actor="alice")
        kinds = [e["type"] for e in loop.history(1000)]
        assert kinds[:3] == ["trigger_requested", "trigger", "plan"] and "accepted" in kinds
        assert outcome["type"] == "swapped" and outcome["via"] == "governor", outcome
        governed = next(e for e in seen if e["type"] == "governed")
        assert governed["state"] == "active" and gov.active() == governed["patch_id"]
        world.step()  # the loop only submitted: without a follower the world stays where it was
        assert not world.resources.get("scripted_traits")
        follower = PointerFollower(gov.data)  # the runner's one follower, at a tick boundary
        assert follower.sync(world) == gov.active()
        world.step()
        (entry,) = world.resources["scripted_traits"]
        assert (entry["id"], entry["version"]) == ("evo.trait.1", "1.1.0")
        assert world.resources["gameplay_version"] == gov.active()
        assert len(loop.library) == 1 and len(loop.archive) >= 1
        assert (gov.keys_dir / "evolution.key").exists()
        world.run(5)
        assert world.resources["script_faults"] == 0
        # With the kill-switch engaged, a cycle is refused as data and the world runs on.
        gov.killswitch.set(True, "alice", "stop AI changes")
        refused = loop.trigger("after the stop")
        assert refused["type"] == "rejected" and refused["code"] == "killswitch_engaged", refused
        assert not any(
            e["type"] == "evaluation" and e["cycle"] == refused["cycle"] for e in loop.history(1000)
        )
        assert follower.sync(world) is False
        world.step()
        assert [e["version"] for e in world.resources["scripted_traits"]] == ["1.1.0"]
        follower.close()
        loop.close()
    finally:
        gov.close()


def test_famine_evolution_on_keeps_at_least_twice_as_many_alive() -> None:
    off = famine_experiment([3], ticks=1500, evolve=False)
    on = famine_experiment([3], ticks=1500, evolve=True)
    assert off[0] > 0 and on[0] >= 2 * off[0], (on, off)


def test_the_loop_is_deterministic_for_a_seed() -> None:
    def run() -> tuple[str, list[dict]]:
        world = famine_world(2, 120)
        loop = EvolutionLoop(world, config=FAST, cooldown_ticks=100)
        headless = Headless(loop)
        headless.run(100)
        loop.trigger("determinism")
        headless.run(60)
        # a cycle's ``elapsed_ms`` is the one wall-clock figure in the feed
        return world.digest().hex, [
            {k: v for k, v in e.items() if k != "elapsed_ms"} for e in loop.history(10_000)
        ]

    a, b = run(), run()
    assert a == b and any(e["type"] == "evaluation" for e in a[1])


def test_bad_input_is_refused() -> None:
    with pytest.raises(BadInputError):
        famine_experiment([], ticks=10, evolve=False)
    with pytest.raises(BadInputError):
        famine_experiment([1], ticks=0, evolve=False)
    with pytest.raises(BadInputError):
        EvolutionLoop(build_world("neon", 1))


def test_cli_compare_prints_on_off_and_ratio() -> None:
    result = CliRunner().invoke(
        app,
        [
            "evolve",
            "--scenario",
            "famine",
            "--compare",
            "--seeds",
            "4",
            "--ticks",
            "60",
            "--entities",
            "50",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc) >= {"on", "off", "ratio"} and len(doc["on"]) == len(doc["off"]) == 1
    assert doc["off"] == famine_experiment([4], ticks=60, evolve=False, entities=50)


@pytest.mark.parametrize(
    "args",
    [
        ["evolve", "--world", "neon"],
        ["evolve", "--scenario", "flood", "--compare"],
        ["evolve", "--scenario", "famine"],
        ["evolve", "--scenario", "famine", "--compare", "--seeds", "1,x"],
        ["evolve", "--ticks", "0"],
        ["evolve", "--cycle-budget-ms", "-1"],
    ],
)
def test_cli_bad_input_exits_2_with_one_line(args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "error:" in result.output


def test_cli_live_run_prints_the_feed_as_json() -> None:
    result = CliRunner().invoke(
        app, ["evolve", "--world", "petri", "--ticks", "30", "--entities", "40", "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["ticks"] == 30 and doc["survivors"] > 0 and isinstance(doc["feed"], list)


def test_the_llm_hook_gets_the_errors_of_its_failed_candidates() -> None:
    from ouroboros.ai.evolution import LlmCoder, OfflineCoder

    calls: list[list[Mapping[str, Any]]] = []

    def hook(plan: Mapping[str, Any], feedback: Sequence[Mapping[str, Any]]) -> str:
        calls.append(list(feedback))
        return "function act(ctx) os.exit(1) end\n"

    world = famine_world(1, 80)
    world.run(20)
    loop = EvolutionLoop(world, coder=LlmCoder(hook, OfflineCoder(population=2)), config=FAST)
    loop.trigger("llm")
    assert len(calls) == 2 and calls[0] == []  # one call per generation
    assert any(f["stage"] == "static" and "script_forbidden_name" in f["codes"] for f in calls[1])
    llm = [e for e in loop.history(1000) if e["type"] == "evaluation" and e["origin"] == "llm"]
    assert [e["stage"] for e in llm] == ["static", "static"]


def test_a_parameter_plan_only_when_allowed_and_it_is_applied_at_a_tick_boundary() -> None:
    from ouroboros.ai.evolution import EvolutionConfig

    world = famine_world(2, 150)
    world.run(300)
    config = EvolutionConfig(
        generations=1, allow_params=True, max_new_traits=0, cascade=CascadeConfig(shadow_ticks=150)
    )
    loop = EvolutionLoop(world, config=config)
    before = world.resources["params"]["resource_spawn_rate_fp"]
    outcome = loop.trigger("more food")
    plan = next(e for e in loop.history(100) if e["type"] == "plan")["plan"]
    assert plan["kind"] == "param_change"
    tried = [e for e in loop.history(100) if e["type"] == "evaluation"]
    assert [e["params"]["resource_spawn_rate_fp"] for e in tried] == [before * 3 // 2, before * 2, before * 4]
    assert outcome["type"] == "swapped", outcome
    accepted = next(e for e in loop.history(100) if e["type"] == "accepted")
    assert accepted["numbers"]["starved"] < accepted["baseline"]["starved"]  # only a better one
    assert accepted["numbers"]["starved"] == min(e["numbers"]["starved"] for e in tried)
    assert world.resources["params"]["resource_spawn_rate_fp"] == before  # submitted, not written
    Headless(loop).tick()
    assert (
        world.resources["params"]["resource_spawn_rate_fp"]
        == accepted["params"]["resource_spawn_rate_fp"]
        > before
    )
    # without allow_params the same trigger is a trait plan
    other = EvolutionLoop(famine_world(2, 150), config=FAST)
    other.world.run(20)
    other.trigger("more food")
    assert next(e for e in other.history(100) if e["type"] == "plan")["plan"]["kind"] == "new_trait"


class _CountingLock:
    """A world lock that counts how often the loop takes it."""

    def __init__(self) -> None:
        self.entered = 0

    def __enter__(self) -> None:
        self.entered += 1

    def __exit__(self, *exc: object) -> None:
        return None


def test_a_cycle_is_evaluated_on_the_dish_as_planned_while_the_live_dish_ticks_on() -> None:
    """prepare (with the world held) forks the dish; evaluate needs neither the world nor its
    lock, so the live dish may tick meanwhile and the numbers are those of the planned tick;
    finish submits without touching the world, and the world's follower takes the trait in at
    its next tick boundary."""

    def planned(lock: _CountingLock | None = None) -> tuple[World, EvolutionLoop]:
        world = build_world("petri", 7, {"entities": 60})
        world.run(10)
        return world, EvolutionLoop(world, config=FAST, world_lock=lock)

    _, reference = planned()
    reference.trigger("t", actor="alice")
    lock = _CountingLock()
    world, loop = planned(lock)
    cycle = loop.prepare_trigger("t", actor="alice")
    assert lock.entered == 1 and cycle.tick == 10 and cycle.world is not None and cycle.world is not world
    world.run(25)  # the live dish ticks on while the cycle is evaluated
    loop.evaluate(cycle)
    assert lock.entered == 1 and world.tick == 35 and not world.resources.get("scripted_traits")

    def decided(loop: EvolutionLoop) -> list[dict[str, Any]]:
        return [e for e in loop.history(1000) if e["type"] in ("candidate", "evaluation", "accepted")]

    assert decided(loop) == decided(reference) and decided(loop)[-1]["type"] == "accepted"
    outcome = loop.finish(cycle)
    assert lock.entered == 1 and outcome["type"] == "swapped" and outcome["tick"] == 35, outcome
    assert loop.finish(cycle) is outcome  # finishing twice delivers once
    assert not world.resources.get("scripted_traits")
    Headless(loop).tick()
    assert [e["id"] for e in world.resources["scripted_traits"]] == ["evo.trait.1"]


def test_a_cancelled_cycle_delivers_nothing() -> None:
    world = build_world("petri", 7, {"entities": 60})
    world.run(10)
    loop = EvolutionLoop(world, config=FAST)
    cycle = loop.prepare_trigger("t")
    cycle.cancel()
    loop.evaluate(cycle)
    outcome = loop.finish(cycle)
    assert outcome["type"] == "rejected" and "stopped" in outcome["reason"], outcome
    assert not any(e["type"] == "evaluation" for e in loop.history(100))
    world.run(3)
    assert not world.resources.get("scripted_traits") and loop.content == {}


def test_a_dish_ticking_while_a_cycle_is_evaluated_on_another_thread_ends_as_if_alone() -> None:
    """The evaluation's forks share nothing mutable with the live dish: a dish (running an evolved
    Lua trait) that ticks while another thread evaluates a cycle ends with the digest of the same
    dish ticked alone."""

    def with_a_trait() -> tuple[World, EvolutionLoop]:
        world = build_world("petri", 7, {"entities": 60})
        world.run(10)
        loop = EvolutionLoop(world, config=FAST)
        assert loop.trigger("first")["type"] == "swapped"
        Headless(loop).tick()
        assert world.resources["scripted_traits"]
        return world, loop

    alone, _ = with_a_trait()
    live, loop = with_a_trait()
    assert live.digest().hex == alone.digest().hex
    cycle = loop.prepare_trigger("second")
    evaluating = threading.Thread(target=loop.evaluate, args=(cycle,))
    evaluating.start()
    ran = 0
    while evaluating.is_alive() or ran < 5:
        live.step()
        ran += 1
    evaluating.join()
    alone.run(ran)
    assert live.digest().hex == alone.digest().hex and ran > 5
    assert any(e["type"] == "evaluation" and e["cycle"] == cycle.number for e in loop.history(1000))
