"""The evolution loop end to end: through a real Governor to ``active`` and hot-swapped into the
live world; the famine experiment (evolution on vs off); the ``ouroboros evolve`` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ouroboros.ai.evolution import (
    CascadeConfig,
    EvolutionConfig,
    EvolutionLoop,
    famine_experiment,
    famine_world,
)
from ouroboros.cli import app
from ouroboros.errors import BadInputError
from ouroboros.patches.governor import Governor
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
        assert governed["state"].endswith("active") and gov.active() == governed["patch_id"]
        assert not world.resources.get("scripted_traits")  # not yet: at the next tick boundary
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
        world.step()
        assert [e["version"] for e in world.resources["scripted_traits"]] == ["1.1.0"]
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
        loop.run(100)
        loop.trigger("determinism")
        loop.run(60)
        return world.digest().hex, [{k: v for k, v in e.items()} for e in loop.history(10_000)]

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

    calls: list[list[dict]] = []

    def hook(plan: object, feedback: list[dict]) -> str:
        calls.append(feedback)
        return "function act(ctx) os.exit(1) end\n"

    world = famine_world(1, 80)
    world.run(20)
    loop = EvolutionLoop(world, coder=LlmCoder(hook, OfflineCoder(population=2)), config=FAST)
    loop.trigger("llm")
    assert len(calls) == 2 and calls[0] == []  # one call per generation
    assert any(f["stage"] == "static" and "forbidden_name" in f["codes"] for f in calls[1])
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
    world.step()
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
