"""The pipeline end to end on a real petri data folder: what gets in, what is refused and why,
and what the ledger and the world show afterwards."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from ouroboros.errors import PatchError
from ouroboros.patches.bundle import compute_patch_id, sign_bundle
from ouroboros.patches.governor import Governor
from ouroboros.patches.keys import SigningKey
from ouroboros.patches.states import State
from tests.patches.conftest import make_bundle, params_content


def _params_of_active(gov: Governor) -> dict[str, int]:
    return gov.reference_world().resources["params"]


def test_a_signed_patch_becomes_active_and_the_world_follows(gov: Governor, op: SigningKey) -> None:
    doc = make_bundle(gov, params_content(31), op)
    verdict = gov.submit(doc)
    assert verdict.state == State.ACTIVE, verdict.reasons
    assert gov.active() == doc["patch_id"]
    assert _params_of_active(gov)["temperature"] == 31
    assert {"determinism", "shadow", "canary", "integrity"} <= set(verdict.evidence)
    states = [e.after for e in gov.ledger.entries(patch_id=doc["patch_id"], kind="transition")]
    assert states == ["draft", "validated", "canary", "approved", "active"]


def _tampered(gov: Governor, op: SigningKey, stranger: SigningKey, kind: str) -> dict[str, Any]:
    doc = make_bundle(gov, params_content(30), op)
    if kind == "flipped_byte":
        doc["content"]["world_params"][0]["params"]["temperature"] = 31
    elif kind == "removed_field":  # the attacker even fixes the id; the signature still fails
        del doc["expires_at"]
        doc["patch_id"] = compute_patch_id(doc)
    elif kind == "wrong_key":
        doc = make_bundle(gov, params_content(30), stranger)
    elif kind == "unsigned":
        doc["signatures"] = []
    elif kind == "expired":
        from datetime import timedelta

        doc = make_bundle(gov, params_content(30), op, ttl=timedelta(seconds=-1))
    elif kind == "inflated_sequence":
        doc = make_bundle(gov, params_content(30), op, sequence=gov.ledger.sequence_of(gov.active()) + 5)
    elif kind == "unknown_parent":
        doc = make_bundle(gov, params_content(30), op, parent_patch_id="p-" + "e" * 32)
    return doc


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("flipped_byte", "hash_mismatch"),
        ("removed_field", "bad_signature"),
        ("wrong_key", "unknown_key"),
        ("unsigned", "unsigned"),
        ("expired", "expired"),
        ("inflated_sequence", "sequence_inflated"),
        ("unknown_parent", "unknown_parent"),
    ],
)
def test_each_tampering_is_refused_with_its_own_code_and_the_ledger_is_unchanged(
    gov: Governor, op: SigningKey, kind: str, code: str
) -> None:
    assert gov.submit(make_bundle(gov, params_content(25), op)).state == State.ACTIVE
    before = gov.ledger.pointer()
    verdict = gov.submit(_tampered(gov, op, SigningKey.generate("stranger"), kind))
    assert verdict.state == State.REJECTED
    assert code in [r.code for r in verdict.reasons], verdict.reasons
    assert all(r.stage == "integrity" for r in verdict.reasons)
    assert gov.ledger.pointer() == before


def test_replay_rollback_and_stale_lineage_are_refused(gov: Governor, op: SigningKey) -> None:
    first = make_bundle(gov, params_content(25), op)
    assert gov.submit(first).state == State.ACTIVE
    built_on_first = make_bundle(gov, params_content(26, "1.1.0"), op)
    assert gov.submit(make_bundle(gov, params_content(27, "1.2.0"), op)).state == State.ACTIVE
    # the old patch again (a rollback attack)
    assert [r.code for r in gov.submit(first).reasons] == ["replayed"]
    # a patch whose parent was active once but is not now (a fork of the lineage)
    assert [r.code for r in gov.submit(built_on_first).reasons] == ["stale_parent"]


def test_key_not_allowed_for_a_domain_and_below_threshold(gov: Governor, op: SigningKey) -> None:
    gen = gov.new_key("gen", ["world_params", "economy_tuning"])
    writer = gov.new_key("writer", ["dialogue"])
    verdict = gov.submit(make_bundle(gov, params_content(30), writer))
    assert [r.code for r in verdict.reasons] == ["key_not_allowed"]
    tuning = {
        "economy_tuning": [
            {
                "id": "econ.base",
                "version": "1.0.0",
                "scope": "*",
                "multipliers": {"price": 1000, "reward": 1000, "drop_rate": 1000, "sink": 1000},
            }
        ]
    }
    alone = gov.submit(make_bundle(gov, tuning, gen))
    assert [r.code for r in alone.reasons] == ["below_threshold"]
    both = gov.submit(make_bundle(gov, tuning, gen, op))
    assert "below_threshold" not in [r.code for r in both.reasons]  # refused later: petri has no economy


def test_schema_and_static_reasons_are_recorded_for_an_authentic_patch(gov: Governor, op: SigningKey) -> None:
    bad = make_bundle(gov, params_content(500), op)  # out of petri's bounds
    verdict = gov.submit(bad)
    assert verdict.state == State.REJECTED
    assert [(r.stage, r.code) for r in verdict.reasons] == [("static", "param_out_of_bounds")]
    assert verdict.reasons[0].path == "/content/world_params/0/params/temperature"
    assert gov.ledger.state_of(bad["patch_id"]) == State.REJECTED
    evidence = gov.ledger.entries(patch_id=bad["patch_id"])[-1].evidence
    assert evidence["reasons"][0]["code"] == "param_out_of_bounds"
    wrong_engine = gov.submit(make_bundle(gov, params_content(30), op, engine_compat=">=9.0"))
    assert [r.code for r in wrong_engine.reasons] == ["engine_incompatible"]


def test_dry_run_validates_and_records_nothing(gov: Governor, op: SigningKey) -> None:
    head = gov.ledger.pointer()
    verdict = gov.submit(make_bundle(gov, params_content(28), op), dry_run=True)
    assert verdict.state == State.VALIDATED and verdict.dry_run
    assert gov.ledger.pointer() == head and gov.ledger.patches() == []


def test_human_approval_and_rejection(op: SigningKey, gov: Governor) -> None:
    gov.budgets = replace(gov.budgets, human_domains=frozenset({"world_params"}))
    doc = make_bundle(gov, params_content(33), op)
    verdict = gov.submit(doc)
    assert verdict.state == State.VALIDATED and "awaiting human approval" in verdict.evidence["awaiting"]
    assert gov.active() is None
    gov.reject(doc["patch_id"], "alice", "not this one")
    assert gov.ledger.state_of(doc["patch_id"]) == State.REJECTED
    with pytest.raises(PatchError):
        gov.approve(doc["patch_id"], "alice", "too late")  # rejected is terminal
    other = make_bundle(gov, params_content(34, "1.0.1"), op)
    assert gov.submit(other).state == State.VALIDATED
    assert gov.approve(other["patch_id"], "alice", "looks fine").state == State.ACTIVE
    assert gov.active() == other["patch_id"]
    approval = next(e for e in gov.ledger.entries(patch_id=other["patch_id"]) if e.after == "active")
    assert approval.actor == "alice" and approval.reason == "canary passed"


def test_rollback_goes_back_one_step_or_to_a_named_version(gov: Governor, op: SigningKey) -> None:
    ids = []
    for i, version in enumerate(["1.0.0", "1.1.0", "1.2.0"]):
        doc = make_bundle(gov, params_content(21 + i, version), op)
        assert gov.submit(doc).state == State.ACTIVE
        ids.append(doc["patch_id"])
    result = gov.rollback("alice", "bad numbers")
    assert result == {"from": ids[2], "to": ids[1], "undone": [ids[2]]}
    assert gov.active() == ids[1] and _params_of_active(gov)["temperature"] == 22
    assert gov.ledger.state_of(ids[2]) == State.ROLLED_BACK
    audit = gov.ledger.entries(kind="rollback")[-1]
    assert (audit.actor, audit.reason, audit.before, audit.after) == ("alice", "bad numbers", ids[2], ids[1])
    with pytest.raises(PatchError):
        gov.rollback("alice", "x", to=ids[2])  # rolled back is not known-good
    gov.rollback("alice", "all of it", to_base=True)
    assert gov.active() is None and _params_of_active(gov)["temperature"] == 20
    # new patches now build on the base again
    assert gov.submit(make_bundle(gov, params_content(29, "2.0.0"), op)).state == State.ACTIVE


def test_a_canary_is_not_durable(gov: Governor, op: SigningKey, tmp_path) -> None:
    first = make_bundle(gov, params_content(25), op)
    gov.submit(first)
    second = make_bundle(gov, params_content(26, "1.1.0"), op)
    with gov.ledger.transaction("op", "simulate a crash mid-canary") as tx:
        tx.add_bundle(second["patch_id"], 1, first["patch_id"], "h", second)
        tx.transition(second["patch_id"], State.VALIDATED)
        tx.transition(second["patch_id"], State.CANARY)
        tx.set_pointer(second["patch_id"], first["patch_id"], True)
    gov.close()
    again = Governor(gov.data, environ={})
    assert again.active() == first["patch_id"] and not again.ledger.pointer().canary
    assert again.ledger.state_of(second["patch_id"]) == State.ROLLED_BACK
    again.close()


def test_kill_switch_refuses_submit_and_keeps_the_running_version(gov: Governor, op: SigningKey) -> None:
    first = make_bundle(gov, params_content(25), op)
    gov.submit(first)
    gov.killswitch.set(True, "alice", "incident")
    head = gov.ledger.pointer()
    with pytest.raises(PatchError) as info:
        gov.submit(make_bundle(gov, params_content(26, "1.1.0"), op))
    assert info.value.code == "killswitch_engaged"
    assert gov.ledger.pointer() == head and gov.active() == first["patch_id"]
    assert (
        gov.submit(make_bundle(gov, params_content(26, "1.1.0"), op), dry_run=True).state == State.VALIDATED
    )
    gov.rollback("alice", "rollback still works while engaged")
    (gov.data / "control.json").write_text("{corrupt")
    with pytest.raises(PatchError):
        gov.submit(make_bundle(gov, params_content(27, "1.2.0"), op))


def test_kill_switch_forced_by_environment(gov: Governor, op: SigningKey) -> None:
    forced = Governor(gov.data, environ={"OUROBOROS_KILLSWITCH": "1"})
    with pytest.raises(PatchError):
        forced.submit(make_bundle(forced, params_content(25), op))
    forced.close()


def test_a_rotated_keyring_is_walked_from_version_1(gov: Governor, op: SigningKey) -> None:
    gov.new_key("gen", ["world_params"])
    assert gov.keyring().version == 2
    (gov.data / "keyrings" / "1.json").write_text((gov.data / "keyrings" / "2.json").read_text())
    verdict = gov.submit(make_bundle(gov, params_content(25), op))
    assert verdict.reasons[0].code in ("keyring_threshold", "keyring_version", "keyring")


def test_resigning_does_not_change_identity(gov: Governor, op: SigningKey) -> None:
    doc = make_bundle(gov, params_content(25), op)
    again = sign_bundle(copy.deepcopy(doc), op)
    assert again["patch_id"] == doc["patch_id"] and len(again["signatures"]) == 1


def test_a_running_world_follows_activation_and_rollback_within_one_tick(
    gov: Governor, op: SigningKey
) -> None:
    from ouroboros.patches.activation import PointerFollower
    from ouroboros.worlds import build_world

    world = build_world("petri", 7, {"entities": 60})
    world.run(3)
    follower = PointerFollower(gov.data)
    assert follower.sync(world, force=True) is False  # both on the base version
    first = make_bundle(gov, params_content(31), op)
    gov.submit(first)
    second = make_bundle(gov, params_content(35, "1.1.0"), op)
    gov.submit(second)
    in_flight = world.tick
    assert follower.sync(world) == second["patch_id"]
    assert world.resources["params"]["temperature"] == 20  # nothing changes mid-way
    world.step()
    assert world.tick == in_flight + 1
    assert world.resources["gameplay_version"] == second["patch_id"]
    assert world.resources["params"]["temperature"] == 35
    gov.rollback("alice", "too hot")
    assert follower.sync(world) == first["patch_id"]
    world.step()
    assert world.resources["params"]["temperature"] == 31
    assert follower.sync(world) is False
    follower.close()
