"""Stages 4-6 as units: a nondeterministic patch, missing metrics, an inconclusive shadow run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ouroboros.engine import World
from ouroboros.patches import stages
from ouroboros.patches.governor import Governor
from ouroboros.patches.states import State
from ouroboros.worlds import ACTIVATE_INPUT, build_world
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


def test_tick_budget_and_state_growth_are_enforced() -> None:
    world = build_world("petri", 1, {"entities": 40})
    tight = stages.Budgets(determinism_ticks=3, tick_budget_ms=0.0, state_growth_max_permille=1)
    codes = [r.code for r in stages.determinism(world, "p-x", {}, tight)[0]]
    assert codes == ["tick_budget", "memory_budget"]


def test_missing_or_non_integer_metrics_fail_never_pass() -> None:
    budgets = stages.Budgets()
    result = stages.compare_metrics("shadow", {"population": 10}, {"population": 10, "faults": "0"}, budgets)
    assert {r.code for r in result.reasons} == {"metric_missing"}
    assert len(result.reasons) == 2  # faults missing on one side, not an integer on the other
    assert stages.compare_metrics("shadow", {}, {}, budgets).reasons


def test_drift_and_faults_over_threshold_fail() -> None:
    budgets = stages.Budgets()
    drift = stages.compare_metrics(
        "shadow", {"population": 100, "faults": 0}, {"population": 20, "faults": 0}, budgets
    )
    assert [r.code for r in drift.reasons] == ["population_drift"]
    faults = stages.compare_metrics(
        "shadow", {"population": 100, "faults": 0}, {"population": 100, "faults": 3}, budgets
    )
    assert [r.code for r in faults.reasons] == ["faults"]


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
