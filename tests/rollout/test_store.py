"""Rollouts recorded in a real ledger: stage changes, window verdicts with their numbers,
automatic rollbacks with the check that fired, version metadata, and the fail-safe checks."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ouroboros.errors import BadInputError, PatchError
from ouroboros.patches.governor import Governor
from ouroboros.patches.states import State
from ouroboros.rollout.controller import Phase
from ouroboros.rollout.plan import parse_plan
from ouroboros.rollout.service import RolloutService
from ouroboros.rollout.store import ROLLOUT_FILE, RolloutStore
from tests.rollout.kpis import ScriptedKpis, TickClock, healthy, inflating

W = 50
PLAN = parse_plan("1,10,50,100", window_ticks=W, min_exposures=10, threshold=2)


def kinds(gov: Governor, patch_id: str) -> list[str]:
    return [e.kind for e in gov.ledger.entries(patch_id=patch_id) if e.kind.startswith("rollout_")]


def test_a_rollout_starts_at_its_first_stage_recorded_with_its_version_metadata(
    gov: Governor, validated: Callable[..., str]
) -> None:
    patch = validated()
    svc = RolloutService(gov)
    state = svc.start(patch, PLAN, "alice", "try it on 1 %")
    assert state.phase is Phase.RUNNING and state.pct_bp == 100 and state.rollback_target_id is None
    assert kinds(gov, patch) == ["rollout_start", "rollout_stage"]
    meta = svc.store.version_meta(patch)
    assert meta.activation_scope == "cohort" and meta.rollout_id == state.rollout_id
    assert meta.rollback_target_id is None and meta.activated_at is not None
    assert svc.store.consistent(state) and (gov.data / ROLLOUT_FILE).exists()
    start = gov.ledger.entries(patch_id=patch, kind="rollout_start")[0]
    assert start.evidence["version"] == {
        "activation_scope": "cohort",
        "rollout_id": state.rollout_id,
        "rollback_target_id": None,
    }
    assert meta.activated_at == start.at
    assert gov.ledger.state_of(patch) == State.VALIDATED and gov.active() is None
    assert gov.ledger.verify() > 0
    status = svc.status()
    assert status["rollout"]["rollout_id"] == state.rollout_id and status["hold"] is None
    assert [h["kind"] for h in status["history"]] == ["rollout_start", "rollout_stage"]


def test_bad_starts_change_nothing(gov: Governor, validated: Callable[..., str]) -> None:
    svc = RolloutService(gov)
    patch = validated()
    head = gov.ledger.head()
    with pytest.raises(BadInputError, match="unknown patch") as unknown:
        svc.start("p-nope", PLAN, "alice", "x")
    assert unknown.value.code == "unknown_patch"
    gov.reject(patch, "alice", "no")
    head = gov.ledger.head()
    with pytest.raises(BadInputError, match="only a validated patch") as rejected:
        svc.start(patch, PLAN, "alice", "x")
    assert rejected.value.code == "patch_not_validated"
    other = validated(31)
    gov.killswitch.set(True, "alice", "stop")
    head = gov.ledger.head()
    with pytest.raises(PatchError, match="kill-switch"):
        svc.start(other, PLAN, "alice", "x")
    assert gov.ledger.head() == head
    gov.killswitch.set(False, "alice", "go")
    third = validated(32)  # made before: while a rollout is live the governor ingests nothing
    svc.start(other, PLAN, "alice", "x")
    head = gov.ledger.head()
    with pytest.raises(PatchError, match="one at a time"):
        svc.start(third, PLAN, "alice", "x")
    assert gov.ledger.head() == head


def test_a_healthy_rollout_completes_and_the_patch_becomes_active_for_everyone(
    gov: Governor, validated: Callable[..., str]
) -> None:
    patch = validated()
    svc = RolloutService(gov)
    svc.start(patch, PLAN, "alice", "stage it")
    clock, kpis = TickClock(500), ScriptedKpis([])
    ctl = svc.controller(kpis, clock)
    ctl.poll()  # anchors the first window at tick 500
    clock.advance(3 * W)
    assert ctl.poll().phase is Phase.COMPLETE
    assert gov.active() == patch and gov.ledger.state_of(patch) == State.ACTIVE
    assert kinds(gov, patch) == ["rollout_start", "rollout_stage"] + ["rollout_window", "rollout_stage"] * 3
    windows = gov.ledger.entries(patch_id=patch, kind="rollout_window")
    assert [w.evidence["start_tick"] for w in windows] == [500, 550, 600]
    assert all(w.after == "pass" and len(w.evidence["checks"]) == 5 for w in windows)
    meta = svc.store.version_meta(patch)
    assert (meta.activation_scope, meta.rollout_id) == ("global", ctl.state.rollout_id)
    assert svc.store.live() is None and gov.ledger.verify() > 0


def test_a_breach_rolls_the_patch_back_and_records_the_check_that_fired(
    gov: Governor, validated: Callable[..., str]
) -> None:
    patch = validated()
    svc = RolloutService(gov)
    svc.start(patch, PLAN, "alice", "stage it")
    clock = TickClock(0)
    ctl = svc.controller(ScriptedKpis([(inflating(), healthy())] * 2), clock)
    ctl.poll()
    clock.advance(2 * W)
    assert ctl.poll().phase is Phase.ROLLED_BACK
    assert gov.ledger.state_of(patch) == State.ROLLED_BACK and gov.active() is None
    rollback = gov.ledger.entries(patch_id=patch, kind="rollout_rollback")[-1]
    assert rollback.evidence["fired"] == ["money_supply_growth_permille"] and rollback.actor == "rollout"
    window = gov.ledger.entries(patch_id=patch, kind="rollout_window")[-1]
    money = next(c for c in window.evidence["checks"] if c["metric"] == "money_supply_growth_permille")
    assert (money["treatment"], money["control"], money["passed"]) == (80, 5, False)
    meta = svc.store.version_meta(patch)
    assert meta.activation_scope is None and meta.activated_at is None
    # the queue's view: rolled back is terminal
    with pytest.raises(PatchError):
        gov.approve(patch, "alice", "anyway")


def test_a_mirror_that_disagrees_denies_promotion(gov: Governor, validated: Callable[..., str]) -> None:
    patch = validated()
    svc = RolloutService(gov)
    svc.start(patch, PLAN, "alice", "stage it")
    clock = TickClock(0)
    ctl = svc.controller(ScriptedKpis([]), clock)
    ctl.poll()
    mirror = gov.data / ROLLOUT_FILE
    mirror.write_text(mirror.read_text().replace('"stage":0', '"stage":2'))
    assert "fails its checksum" in (svc.store.disagreement(ctl.state) or "")
    with pytest.raises(PatchError) as refused:
        svc.promote("admin", "force it", force=True)
    assert refused.value.code == "rollout_inconsistent"
    clock.advance(W)
    assert ctl.poll().stage == 0 and "disagrees" in ctl.state.reason  # held, not promoted
    # recording that window rewrote the mirror from the ledger (the truth): the next one promotes
    assert svc.store.consistent(ctl.state)
    clock.advance(W)
    assert ctl.poll().stage == 1
    mirror.unlink()
    assert "disagrees" in (svc.store.disagreement(ctl.state) or "")


def test_an_active_version_that_moved_denies_promotion(gov: Governor, validated: Callable[..., str]) -> None:
    first = validated(29)
    assert gov.approve(first, "bob", "before").state == State.ACTIVE
    staged = validated(30)
    svc = RolloutService(gov)
    svc.start(staged, PLAN, "alice", "stage it")
    # the governor refuses any other activation now; a rollback (known-good) still moves the pointer
    gov.rollback("bob", "meanwhile")
    live = svc.store.live()
    assert live is not None and f"moved away from {first}" in (svc.store.disagreement(live) or "")
    assert "disagrees" in svc.status()["hold"]
    with pytest.raises(PatchError) as refused:
        svc.promote("root", "force it", force=True)
    assert refused.value.code == "rollout_inconsistent"


def test_abort_leaves_the_patch_validated_and_a_new_rollout_gets_a_new_salt(
    gov: Governor, validated: Callable[..., str]
) -> None:
    patch = validated()
    svc = RolloutService(gov)
    first = svc.start(patch, PLAN, "alice", "stage it")
    assert svc.pause("alice", "look").phase is Phase.PAUSED
    assert svc.abort("alice", "not now").phase is Phase.ABORTED
    assert gov.ledger.state_of(patch) == State.VALIDATED
    second = svc.start(patch, PLAN, "alice", "again")
    assert second.rollout_id != first.rollout_id
    assert [r.phase for r in RolloutStore(gov.data, gov.ledger).rollouts()] == [Phase.ABORTED, Phase.RUNNING]
    with pytest.raises(PatchError, match="not a pass"):
        svc.promote("alice", "early")
    assert svc.promote("root", "forced", force=True).stage == 1
    phases = [e.after for e in gov.ledger.entries(patch_id=patch, kind="rollout_phase")]
    assert phases == ["paused", "aborted"]
