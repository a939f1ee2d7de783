"""The evolution loop submits an evolved trait with the TRAIT plan when the operator's guardrails
turn staging on: held at validated, a rollout 1 → 10 → 50 → 100 judged on faults and tick time, the
world swapped only once its last stage made it active; without the setting it is swapped at once
(``test_loop``); under the kill-switch nothing is submitted."""

from __future__ import annotations

from pathlib import Path

from ouroboros.ai.evolution import CascadeConfig, EvolutionConfig, EvolutionLoop
from ouroboros.ai.guardrails import GuardrailsFile
from ouroboros.patches import Governor, PointerFollower, State
from ouroboros.rollout import Phase
from ouroboros.rollout.policy import TICK_CHECKS
from ouroboros.rollout.service import RolloutService
from ouroboros.worlds import build_world
from tests.patches.conftest import SMALL_WORLD
from tests.rollout.kpis import ScriptedKpis, TickClock

FAST = EvolutionConfig(generations=2, cascade=CascadeConfig(replay_ticks=3, shadow_ticks=40))


def test_an_evolved_trait_is_staged_with_the_trait_plan(tmp_path: Path) -> None:
    gov = Governor(tmp_path / "data", world_defaults=SMALL_WORLD, environ={})
    try:
        gov.new_key("op", ["*"])  # an operator's key; the loop makes its own on first use
        GuardrailsFile(gov.data / "guardrails.json").write({"rollout_plans": {}})
        world = build_world("petri", 7, {"entities": 60})
        world.run(10)
        loop = EvolutionLoop(world, governor=gov, config=FAST)
        outcome = loop.trigger("test", actor="alice")
        assert outcome["type"] == "staged", outcome
        assert outcome["plan"] == "1,10,50,100" and outcome["trait_id"] == "evo.trait.1"
        staging = next(e for e in loop.history(1000) if e["type"] == "staging")
        assert staging["plan"] == "staged 1,10,50,100"
        patch = outcome["patch_id"]
        assert gov.ledger.state_of(patch) == State.VALIDATED and gov.active() is None
        svc = RolloutService(gov)
        live = svc.store.live()
        assert live is not None and live.rollout_id == outcome["rollout_id"] and live.patch_id == patch
        assert live.plan.checks == TICK_CHECKS and live.plan.stages_bp == (100, 1000, 5000, 10_000)
        (start,) = gov.ledger.entries(patch_id=patch, kind="rollout_start")
        assert start.actor == "evolution" and "staged 1,10,50,100" in start.reason
        # the world's follower has nothing to take in until the last stage approves the patch
        follower = PointerFollower(gov.data)
        assert follower.sync(world) is False
        # a second cycle while the rollout is live is refused, and the world runs on
        second = loop.trigger("again")
        assert second["type"] == "rejected" and second.get("code") == "rollout_live", second
        clock = TickClock(0)
        ctl = svc.controller(ScriptedKpis([]), clock)
        ctl.poll()
        clock.advance(3 * live.plan.window_ticks)
        assert ctl.poll().phase is Phase.COMPLETE and gov.active() == patch
        assert follower.sync(world) == patch
        world.step()
        assert [e["id"] for e in world.resources["scripted_traits"]] == ["evo.trait.1"]
        follower.close()
        # under the kill-switch the staged path submits nothing either
        gov.killswitch.set(True, "alice", "stop")
        refused = loop.trigger("stopped")
        assert refused["type"] == "rejected" and refused["code"] == "killswitch_engaged"
        loop.close()
    finally:
        gov.close()
