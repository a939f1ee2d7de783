"""The council submits with a plan: on a governed neon folder, with the real generators and the real
pipeline, a world expansion becomes a staged rollout 1 → 10 → 50 → 100 in the ledger (its last
stage makes it active, and the queue follows), a typo fix goes active at once, the decision log
says which and why; the kill-switch stops a staged submission and freezes a council's rollout;
while a rollout is live the governor takes no other patch."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from ouroboros.ai.council import Council
from ouroboros.ai.guardrails import GuardrailsFile
from ouroboros.ai.proposals import Proposal, ProposalType
from ouroboros.errors import BadInputError, PatchError
from ouroboros.patches import Governor, State, effective_objects
from ouroboros.rollout import Phase
from ouroboros.rollout.service import RolloutService
from tests.ai.test_queue import NEON, item_generator
from tests.rollout.kpis import ScriptedKpis, TickClock, healthy, inflating

EDGE = {"growth_point": "neon.room.st_00_00", "tags": []}
WINDOW = 600  # the default plan's window, in ticks


@pytest.fixture
def gov(tmp_path: Path) -> Iterator[Governor]:
    governor = Governor(tmp_path / "data", world_defaults=NEON, environ={})
    governor.new_key("op", ["*"])
    yield governor
    governor.close()


def staging_on(gov: Governor, plans: Mapping[str, str] | None = None) -> None:
    """The operator's guardrails file turns staging on (the policy's map, ``plans`` over it)."""
    GuardrailsFile(gov.data / "guardrails.json").write({"rollout_plans": dict(plans or {})})


def council_for(gov: Governor, **kwargs: Any) -> Council:
    council = Council(gov.data, gov, world="neon", **kwargs)
    council.director.set("chaos", 0, "test")
    council.director.set("human_in_the_loop", False, "test")
    return council


def rollout_decisions(council: Council) -> list[dict[str, Any]]:
    return [d for d in council.director.decisions(50) if d["rule"] == "rollout"]


def a_base_npc(gov: Governor) -> dict[str, Any]:
    npcs = effective_objects(gov.world_name, gov.active_content())["npcs"]
    return copy.deepcopy(npcs[sorted(npcs)[0]])


def rewording(gov: Governor, **changes: Any) -> Any:
    """A generator whose NPC proposal changes an existing npc: its words only, unless ``changes``
    says otherwise."""
    npc = a_base_npc(gov)
    major, minor, patch = (int(p) for p in npc["version"].split("."))
    npc.update(version=f"{major}.{minor}.{patch + 1}", name=npc["name"] + " (typo fixed)")
    npc.update(changes)

    def generate(type: Any, seed: int, **kwargs: Any) -> Proposal:
        return Proposal(
            type=ProposalType.NPC, world="neon", seed=seed, generator="typo@1", payload={"npcs": [npc]}
        )

    return generate


def test_a_world_expansion_is_staged_1_10_50_100_and_its_last_stage_makes_it_active(gov: Governor) -> None:
    staging_on(gov)
    with council_for(gov) as council:
        record = council.propose(ProposalType.WORLD_EXPANSION, 11, EDGE)
        assert record["state"] == "staging", record["reason"]
        patch = record["patch_id"]
        # validated and staged, not active: the world still runs the base version
        assert gov.active() is None and gov.ledger.state_of(patch) == State.VALIDATED
        svc = RolloutService(gov)
        live = svc.store.live()
        assert live is not None and live.patch_id == patch and live.phase is Phase.RUNNING
        assert live.plan.stages_bp == (100, 1000, 5000, 10_000) and live.stage == 0
        assert record["verdict"]["rollout"] == {"plan": "1,10,50,100", "rollout_id": live.rollout_id}
        assert "staged 1,10,50,100" in record["reason"]
        (start,) = gov.ledger.entries(patch_id=patch, kind="rollout_start")
        assert start.actor == "director" and "staged 1,10,50,100" in start.reason
        assert start.evidence["state"]["plan"]["percents"] == [1, 10, 50, 100]
        (decision,) = rollout_decisions(council)
        assert decision["outcome"] == "staged" and decision["why"]["plan"] == "staged 1,10,50,100"
        assert decision["job_type"] == "WORLD_EXPANSION"
        # an expansion in staging is still under way: the director starts no second one
        assert council.director.open_expansions() == 1
        # the rollout runs on healthy windows; its last stage approves the patch
        clock = TickClock(0)
        ctl = svc.controller(ScriptedKpis([]), clock)
        ctl.poll()
        clock.advance(3 * WINDOW)
        assert ctl.poll().phase is Phase.COMPLETE
        assert gov.active() == patch and gov.ledger.state_of(patch) == State.ACTIVE
        after = council.queue.get(record["proposal_id"])
        assert after["state"] == "active" and after["verdict"]["rollout"]["plan"] == "1,10,50,100"
        assert council.director.open_expansions() == 0


def test_a_typo_fix_goes_active_at_once_and_the_log_says_why(gov: Governor) -> None:
    staging_on(gov)
    with council_for(gov, generate=rewording(gov)) as council:
        record = council.propose(ProposalType.NPC, 3)
        assert record["state"] == "active", record["reason"]
        assert gov.active() == record["patch_id"]
        assert RolloutService(gov).store.rollouts() == []
        (decision,) = rollout_decisions(council)
        assert (decision["outcome"], decision["why"]["plan"]) == ("global", "global: text only")


def test_a_changed_number_in_the_same_npc_is_staged_with_the_npc_plan(gov: Governor) -> None:
    staging_on(gov)
    npc = a_base_npc(gov)
    with council_for(gov, generate=rewording(gov, level=int(npc.get("level", 1)) + 1)) as council:
        record = council.propose(ProposalType.NPC, 3)
        assert record["state"] == "staging", record["reason"]
        live = RolloutService(gov).store.live()
        assert live is not None and live.plan.stages_bp == (1000, 10_000)
        assert rollout_decisions(council)[0]["why"]["plan"] == "staged 10,100"


def test_the_operator_changes_the_map_and_a_bad_map_is_one_clear_error(gov: Governor) -> None:
    file = GuardrailsFile(gov.data / "guardrails.json")
    for bad, words in [
        ({"WORLD_EXPANSION": "1,10,50"}, "ends at 100"),
        ({"WORLD_EXPANSION": "10,1,100"}, "must increase"),
        ({"WORLD_EXPANSION": "one,100"}, "not a percentage"),
        ({"SPELL": "10,100"}, "not a proposal type"),
        ({"ITEM": 10}, "rollout_plans"),
    ]:
        with pytest.raises(BadInputError, match=words) as refused:
            file.write({"rollout_plans": bad})
        assert refused.value.code == "bad_guardrails" and "rollout_plans" in refused.value.message
    assert not file.path.exists()  # nothing written
    staging_on(gov, {"WORLD_EXPANSION": "global", "ITEM": "5,100"})
    with council_for(gov, generate=item_generator) as council:
        expansion = council.propose(ProposalType.WORLD_EXPANSION, 4, EDGE)
        assert expansion["state"] == "active"
        assert rollout_decisions(council)[0]["why"]["plan"] == "global: WORLD_EXPANSION is not staged"
        item = council.propose(ProposalType.ITEM, 5)
        assert item["state"] == "staging" and item["verdict"]["rollout"]["plan"] == "5,100"


def test_without_the_setting_nothing_is_staged(gov: Governor) -> None:
    with council_for(gov) as council:
        record = council.propose(ProposalType.WORLD_EXPANSION, 11, EDGE)
        assert record["state"] == "active" and rollout_decisions(council) == []


def test_the_kill_switch_stops_a_staged_submission_and_freezes_the_councils_rollout(gov: Governor) -> None:
    staging_on(gov)
    gov.killswitch.set(True, "ops", "incident")
    with council_for(gov) as council:
        refused = council.propose(ProposalType.WORLD_EXPANSION, 11, EDGE)
        assert refused["state"] == "refused" and "kill-switch" in refused["reason"]
        assert (
            RolloutService(gov).store.rollouts() == []
            and gov.ledger.state_of(refused["patch_id"] or "-") is None
        )
        gov.killswitch.set(False, "ops", "over")
        retried = council.queue.approve(refused["proposal_id"], "ops", "retry")
        assert retried["proposal_state"] == "staging", retried
        svc = RolloutService(gov)
        clock = TickClock(0)
        ctl = svc.controller(ScriptedKpis([]), clock)
        ctl.poll()
        gov.killswitch.set(True, "ops", "second incident")
        for _ in range(3):  # passing windows, yet nothing promotes
            clock.advance(WINDOW)
            assert ctl.poll().stage == 0 and ctl.state.phase is Phase.RUNNING
        assert "kill-switch" in (svc.status()["hold"] or "")
        with pytest.raises(PatchError):
            svc.promote("root", "force it", force=True)
        assert gov.active() is None
        # frozen, a breach still rolls back, and the queue follows
        ctl.kpis = ScriptedKpis([(inflating(), healthy())] * 2)
        clock.advance(2 * WINDOW)
        assert ctl.poll().phase is Phase.ROLLED_BACK
        assert gov.ledger.state_of(retried["patch_id"]) == State.ROLLED_BACK
        assert council.queue.get(refused["proposal_id"])["state"] == "rolled_back"


def test_an_aborted_rollout_leaves_the_proposal_awaiting_and_approval_starts_a_new_one(
    gov: Governor,
) -> None:
    staging_on(gov)
    with council_for(gov) as council:
        first = council.propose(ProposalType.WORLD_EXPANSION, 11, EDGE)
        svc = RolloutService(gov)
        svc.abort("ops", "not today")
        aborted = council.queue.get(first["proposal_id"])
        assert aborted["state"] == "awaiting" and "aborted" in aborted["reason"]
        assert gov.ledger.state_of(first["patch_id"]) == State.VALIDATED
        approved = council.queue.approve(first["proposal_id"], "ops", "try again")
        assert approved["proposal_state"] == "staging" and approved["state"] == "staging"
        live = svc.store.live()
        assert live is not None and live.patch_id == first["patch_id"] and live.plan.stages_bp[0] == 100


def test_while_a_rollout_is_live_the_council_and_the_governor_take_no_other_patch(gov: Governor) -> None:
    staging_on(gov)
    with council_for(gov) as council:
        staged = council.propose(ProposalType.WORLD_EXPANSION, 11, EDGE)
        assert staged["state"] == "staging"
    with council_for(gov, generate=item_generator) as council:
        head = gov.ledger.head()
        other = council.propose(ProposalType.ITEM, 5)
        assert other["state"] == "refused" and "rollout" in other["reason"] and "under way" in other["reason"]
        assert gov.ledger.head() == head  # refused before anything was written
        # the rollout's own patch is not approved around it either
        with pytest.raises(PatchError, match="its last stage approves") as own:
            gov.approve(staged["patch_id"], "ops", "skip the stages")
        assert own.value.code == "rollout_live" and gov.ledger.head() == head
        assert gov.ledger.state_of(staged["patch_id"]) == State.VALIDATED
        # once the rollout is over (aborted here), the refused proposal goes through again
        RolloutService(gov).abort("ops", "stop it")
        assert council.queue.approve(other["proposal_id"], "ops", "now")["proposal_state"] == "staging"
        assert json.loads((gov.data / "guardrails.json").read_text())["rollout_plans"] == {}


def test_a_change_held_for_a_person_is_staged_when_the_person_approves(tmp_path: Path) -> None:
    held_npcs = {**NEON, "budgets": {**NEON["budgets"], "human_domains": ["npcs"]}}
    with Governor(tmp_path / "data", world_defaults=held_npcs, environ={}) as gov:
        gov.new_key("op", ["*"])
        staging_on(gov)
        npc = a_base_npc(gov)
        with council_for(gov, generate=rewording(gov, level=int(npc["level"]) + 1)) as council:
            record = council.propose(ProposalType.NPC, 3)
            # the pipeline holds it for a person: no rollout starts on the machine's word
            assert record["state"] == "awaiting" and "awaiting human approval for npcs" in record["reason"]
            assert "approving it starts the rollout (10,100)" in record["reason"]
            assert RolloutService(gov).store.rollouts() == []
            approved = council.queue.approve(record["proposal_id"], "ops", "stage it")
            assert approved["proposal_state"] == "staging"
            live = RolloutService(gov).store.live()
            assert (
                live is not None
                and live.patch_id == record["patch_id"]
                and live.plan.stages_bp == (1000, 10_000)
            )
            (start,) = gov.ledger.entries(patch_id=record["patch_id"], kind="rollout_start")
            assert start.actor == "ops"


def test_a_world_run_as_shards_stages_by_the_default_plans_unless_the_operator_says_otherwise(
    gov: Governor,
) -> None:
    with council_for(gov) as council:
        council.staged_by_default = True  # what the runtime sets for a world run as shards
        record = council.propose(ProposalType.WORLD_EXPANSION, 11, EDGE)
        assert record["state"] == "staging", record["reason"]
        assert record["verdict"]["rollout"]["plan"] == "1,10,50,100"
    GuardrailsFile(gov.data / "guardrails.json").write({"rollout_plans": {"WORLD_EXPANSION": "global"}})
    with council_for(gov) as council:
        council.staged_by_default = True
        policy = council.staging_policy()
        assert policy is not None and policy.staged["WORLD_EXPANSION"] == "global"
