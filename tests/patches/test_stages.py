"""Stages 4-6 as units: a nondeterministic patch, missing metrics, an inconclusive shadow run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ouroboros.engine import World
from ouroboros.patches import stages
from ouroboros.patches.governor import Governor
from ouroboros.patches.states import State
from ouroboros.worlds import ACTIVATE_INPUT, WORLD_SPECS, build_world
from tests.patches.conftest import make_bundle, params_content


class _Leaky:
    """A world whose activation lets the wall of the machine in (what determinism must catch)."""

    name = "leaky"

    def build(self, world: World) -> None:
        world.resources["noise"] = 0

        def apply(w: World, payload: Any) -> None:
            w.resources["noisy"] = bool(payload["content"].get("noisy"))

        def noise(w: World) -> None:
            if w.resources.get("noisy"):
                w.resources["noise"] = int.from_bytes(os.urandom(4), "little")

        world.register_input(ACTIVATE_INPUT, apply)
        world.add_system("noise", noise)


def test_determinism_catches_a_patch_that_diverges() -> None:
    world = World(1, plugins=[_Leaky()])
    budgets = stages.Budgets(determinism_ticks=3)
    reasons, _ = stages.determinism(world, "p-x", {"noisy": True}, budgets)
    assert [r.code for r in reasons] == ["nondeterministic"]
    assert stages.determinism(world, "p-x", {"noisy": False}, budgets)[0] == []


def test_the_twin_run_the_cascade_shares_compares_at_the_end_and_steps_through_its_hook() -> None:
    noisy = [World(1, plugins=[_Leaky()]) for _ in range(2)]
    for w in noisy:
        w.resources["noisy"] = True
    steps: list[int] = []

    def step(w: World) -> None:
        steps.append(w.tick)
        w.step()

    reasons = stages.twin_run(*noisy, 3, stage="replay", step=step, every_tick=False)
    assert [(r.stage, r.code) for r in reasons] == [("replay", "nondeterministic")]
    assert len(steps) == 6  # both worlds, every tick, through the hook
    calm = [World(1, plugins=[_Leaky()]) for _ in range(2)]
    assert stages.twin_run(*calm, 3) == []


def test_min_gain_asks_the_patched_run_to_beat_its_baseline() -> None:
    limits = {"kpi": {"min_gain": 5}}
    assert stages.compare_metrics("shadow", {"kpi": 100}, {"kpi": 106}, limits).reasons == []
    for patched in (105, 100, 20):
        result = stages.compare_metrics("shadow", {"kpi": 100}, {"kpi": patched}, limits)
        assert [r.code for r in result.reasons] == ["kpi_not_better"]
    assert stages.check_shadow_limits(limits) == limits  # world.json may use it too


def test_tick_budget_and_state_growth_are_enforced() -> None:
    world = build_world("petri", 1, {"entities": 40})
    tight = stages.Budgets(determinism_ticks=3, tick_budget_ms=0.0, state_growth_max_permille=1)
    codes = [r.code for r in stages.determinism(world, "p-x", {}, tight)[0]]
    assert codes == ["tick_budget", "memory_budget"]


PETRI = WORLD_SPECS["petri"].shadow_limits


def test_missing_or_non_integer_metrics_fail_never_pass() -> None:
    result = stages.compare_metrics("shadow", {"population": 10}, {"population": 10, "faults": "0"}, PETRI)
    assert {r.code for r in result.reasons} == {"metric_missing"}
    assert len(result.reasons) == 2  # faults missing on one side, not an integer on the other
    assert stages.compare_metrics("shadow", {}, {}, PETRI).reasons


def test_drift_and_faults_over_threshold_fail() -> None:
    drift = stages.compare_metrics(
        "shadow", {"population": 100, "faults": 0}, {"population": 20, "faults": 0}, PETRI
    )
    assert [r.code for r in drift.reasons] == ["population_drift"]
    faults = stages.compare_metrics(
        "shadow", {"population": 100, "faults": 0}, {"population": 100, "faults": 3}, PETRI
    )
    assert [r.code for r in faults.reasons] == ["faults_increase"]


def test_each_world_declares_the_metrics_its_shadow_runs_report() -> None:
    for name, spec in WORLD_SPECS.items():
        world = build_world(name, 1, {"entities": 20} if name == "petri" else {})
        world.run(2)
        reported = spec.shadow_metrics(world)
        assert set(spec.shadow_limits) <= set(reported), name
        assert stages.check_shadow_limits(spec.shadow_limits) == spec.shadow_limits
        assert stages.compare_metrics("shadow", reported, reported, spec.shadow_limits).reasons == []


def test_neon_limits_refuse_money_drift_new_holds_and_empty_streets() -> None:
    neon = WORLD_SPECS["neon"].shadow_limits
    base = {"npcs": 30, "items": 20, "money_supply": 1000, "held": 0, "quests_done": 4}
    assert stages.compare_metrics("shadow", base, {**base, "money_supply": 1240}, neon).reasons == []
    codes = {
        key: [r.code for r in stages.compare_metrics("shadow", base, {**base, key: value}, neon).reasons]
        for key, value in (("money_supply", 1300), ("held", 4), ("npcs", 23), ("quests_done", 1))
    }
    assert codes == {
        "money_supply": ["money_supply_drift"],
        "held": ["held_increase"],
        "npcs": ["npcs_drop"],
        "quests_done": ["quests_done_drop"],
    }
    # money from nothing (a baseline of 0) is drift too; nothing against nothing is not
    zero = {**base, "money_supply": 0}
    assert [
        r.code for r in stages.compare_metrics("shadow", zero, {**zero, "money_supply": 5}, neon).reasons
    ] == ["money_supply_drift"]
    assert stages.compare_metrics("shadow", zero, zero, neon).reasons == []


def test_an_inconclusive_shadow_run_pauses_for_a_human(tmp_path: Path) -> None:
    empty = {
        "world": "petri",
        "seed": 1,
        "config": {"entities": 0, "params": {"min_population": 0}},
        "budgets": {"warmup_ticks": 1, "determinism_ticks": 2, "shadow_ticks": 2, "canary_ticks": 2},
    }
    gov = Governor(tmp_path / "data", world_defaults=empty, environ={})
    op = gov.new_key("op", ["*"])
    verdict = gov.submit(make_bundle(gov, params_content(30), op))
    assert verdict.state == State.VALIDATED
    assert "inconclusive" in verdict.evidence["awaiting"]
    assert gov.active() is None
    gov.close()


def test_policy_sends_human_domains_to_a_person() -> None:
    budgets = stages.Budgets()
    assert stages.policy(["items", "economy_tuning"], budgets) == ("human", ["economy_tuning"])
    assert stages.policy(["world_params"], budgets) == ("auto", [])
