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
        tx.store_version(second["patch_id"], 1, gov.ledger.version_content(first["patch_id"]))
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
    assert verdict.reasons[0].code == "keyring_tampered"  # the ledger pinned another version 1


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


def test_a_rollback_within_one_file_time_tick_is_still_followed(gov: Governor, op: SigningKey) -> None:
    """File times are coarse (a few ms): a rollback written in the same tick as the activation
    before it, to a pointer of the same length, leaves the same time and size. The follower must
    still see it (it missed it once, under ``bench_governance --quick``)."""
    import os

    from ouroboros.patches.activation import PointerFollower
    from ouroboros.patches.ledger import POINTER_FILE
    from ouroboros.worlds import build_world

    world = build_world("petri", 7, {"entities": 60})
    world.run(2)
    follower = PointerFollower(gov.data)
    first = make_bundle(gov, params_content(31), op)
    gov.submit(first)
    second = make_bundle(gov, params_content(35, "1.1.0"), op)
    gov.submit(second)
    assert follower.sync(world) == second["patch_id"]
    world.step()
    pointer = gov.data / POINTER_FILE
    before = os.stat(pointer)
    gov.rollback("alice", "too hot")
    assert os.stat(pointer).st_size == before.st_size
    os.utime(pointer, ns=(before.st_atime_ns, before.st_mtime_ns))  # the same coarse tick
    assert follower.sync(world) == first["patch_id"]
    world.step()
    assert world.resources["params"]["temperature"] == 31
    follower.close()


# -- the audit of the governance layer: each finding and its regression test ---------------------
def _sql(gov: Governor, sql: str) -> None:
    import sqlite3

    db = sqlite3.connect(gov.data / "ledger.sqlite3")
    db.executescript(sql)
    db.commit()
    db.close()


def test_tampered_active_content_never_reaches_a_world(gov: Governor, op: SigningKey) -> None:
    from ouroboros.errors import LedgerError
    from ouroboros.patches.activation import PointerFollower
    from ouroboros.worlds import build_world

    doc = make_bundle(gov, params_content(31), op)
    assert gov.submit(doc).state == State.ACTIVE
    world = build_world("petri", 7, {"entities": 60})
    follower = PointerFollower(gov.data)
    _sql(gov, "UPDATE versions SET content = replace(content, '\"temperature\":31', '\"temperature\":99');")
    with pytest.raises(LedgerError) as info:  # a running governor loads it: refused
        gov.reference_world()
    assert info.value.code == "ledger_tampered"
    assert follower.sync(world, force=True) is False  # a running world stays where it was
    world.step()
    assert world.resources["params"]["temperature"] == 20
    follower.close()
    gov.close()
    with pytest.raises(LedgerError):  # and nothing opens the folder any more: fail safe
        Governor(gov.data, environ={})


def test_an_attackers_own_keyring_is_refused(gov: Governor, op: SigningKey) -> None:
    from ouroboros.patches.canonical import canonical_bytes
    from ouroboros.patches.keys import Keyring

    mallory = SigningKey.generate("mallory")
    ring = Keyring.sign_document(Keyring.unsigned(1, {mallory.keyid: mallory.public_entry(["*"])}), mallory)
    (gov.data / "keyrings" / "1.json").write_bytes(canonical_bytes(ring) + b"\n")
    verdict = gov.submit(make_bundle(gov, params_content(31), mallory))
    assert verdict.state == State.REJECTED
    assert [r.code for r in verdict.reasons] == ["keyring_tampered"]
    assert gov.active() is None and gov.ledger.patches() == []


def test_a_keyring_version_removed_or_added_behind_the_ledger_is_refused(
    gov: Governor, op: SigningKey
) -> None:
    import shutil

    gov.new_key("gen", ["world_params"])
    folder = gov.data / "keyrings"
    shutil.move(folder / "2.json", gov.data / "2.json.bak")  # trust rolled back to version 1
    assert [r.code for r in gov.submit(make_bundle(gov, params_content(31), op)).reasons] == [
        "keyring_missing"
    ]
    shutil.move(gov.data / "2.json.bak", folder / "2.json")
    (folder / "3.json").write_text((folder / "2.json").read_text())  # never made here
    assert [r.code for r in gov.submit(make_bundle(gov, params_content(31), op)).reasons] == [
        "keyring_unpinned"
    ]


def test_the_canary_of_a_first_patch_runs_against_the_base_version(
    gov: Governor, op: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ouroboros.patches import stages

    seen: dict[str, tuple[str | None, int]] = {}
    real_shadow = stages.shadow

    def spy(reference, *args, **kwargs):  # type: ignore[no-untyped-def]
        stage = kwargs.get("stage", "shadow")
        seen[stage] = (reference.resources["gameplay_version"], reference.resources["params"]["temperature"])
        return real_shadow(reference, *args, **kwargs)

    monkeypatch.setattr(stages, "shadow", spy)
    doc = make_bundle(gov, params_content(31), op)
    verdict = gov.submit(doc)
    assert verdict.state == State.ACTIVE
    # not the canary compared with itself: its baseline is the base world (no patch, 20 degrees)
    assert seen == {"shadow": (None, 20), "canary": (None, 20)}
    assert verdict.evidence["canary"]["reference_version"] is None


def _engage_during(gov: Governor, stage: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from ouroboros.patches import stages

    real_shadow = stages.shadow

    def engaging(*args, **kwargs):  # type: ignore[no-untyped-def]
        if kwargs.get("stage", "shadow") == stage:
            gov.killswitch.set(True, "alice", f"incident during the {stage}")
        return real_shadow(*args, **kwargs)

    monkeypatch.setattr(stages, "shadow", engaging)


def test_a_kill_switch_engaged_before_the_canary_stops_it(
    gov: Governor, op: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = make_bundle(gov, params_content(25), op)
    assert gov.submit(first).state == State.ACTIVE
    _engage_during(gov, "shadow", monkeypatch)
    doc = make_bundle(gov, params_content(26, "1.1.0"), op)
    verdict = gov.submit(doc)
    assert verdict.state == State.REJECTED and [r.code for r in verdict.reasons] == ["killswitch_engaged"]
    assert gov.ledger.state_of(doc["patch_id"]) == State.REJECTED
    pointer = gov.ledger.pointer()
    assert (pointer.active, pointer.canary) == (first["patch_id"], False)


def test_a_kill_switch_engaged_during_the_canary_rolls_it_back(
    gov: Governor, op: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = make_bundle(gov, params_content(25), op)
    assert gov.submit(first).state == State.ACTIVE
    _engage_during(gov, "canary", monkeypatch)
    doc = make_bundle(gov, params_content(26, "1.1.0"), op)
    verdict = gov.submit(doc)
    assert verdict.state == State.ROLLED_BACK and [r.code for r in verdict.reasons] == ["killswitch_engaged"]
    assert gov.ledger.state_of(doc["patch_id"]) == State.ROLLED_BACK
    pointer = gov.ledger.pointer()
    assert (pointer.active, pointer.permanent, pointer.canary) == (
        first["patch_id"],
        first["patch_id"],
        False,
    )
    assert gov.ledger.state_of(first["patch_id"]) == State.ACTIVE


def test_an_unexpected_failure_rejects_the_patch_instead_of_leaving_a_draft(
    gov: Governor, op: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ouroboros.patches import stages

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the fork ran out of something")

    monkeypatch.setattr(stages, "determinism", broken)
    doc = make_bundle(gov, params_content(31), op)
    verdict = gov.submit(doc)
    assert verdict.state == State.REJECTED
    assert [(r.stage, r.code) for r in verdict.reasons] == [("determinism", "internal_error")]
    assert "ran out of something" in verdict.reasons[0].message
    assert gov.ledger.state_of(doc["patch_id"]) == State.REJECTED  # decided, not a draft forever
    monkeypatch.undo()
    assert gov.submit(make_bundle(gov, params_content(31, "1.0.1"), op)).state == State.ACTIVE


@pytest.mark.parametrize(
    ("budgets", "words"),
    [
        ({"determinism_ticks": 0, "shadow_ticks": -5}, "determinism_ticks"),
        ({"shadow_ticks": "x"}, "shadow_ticks"),
        ({"shadow_ticks": True}, "shadow_ticks"),
        ({"canary_ticks": 0}, "canary_ticks"),
        ({"tick_budget_ms": -1}, "tick_budget_ms"),
        ({"human_domains": 5}, "human_domains"),
        ({"human_domains": ["economy_tunning"]}, "unknown domains"),
        ({"shadow_limits": {"population": {"max_drift": 5}}}, "unknown limits"),
        ({"shadow_limits": {"population": {"max_drift_permille": -1}}}, "max_drift_permille"),
        ({"no_such_budget": 1}, "unknown budgets"),
        ("fast", "must be an object"),
    ],
)
def test_bad_budgets_in_world_json_are_one_clear_error(tmp_path, budgets: object, words: str) -> None:
    from ouroboros.errors import BadInputError

    world = {"world": "petri", "seed": 1, "config": {"entities": 20}, "budgets": budgets}
    with pytest.raises(BadInputError) as info:
        Governor(tmp_path / "data", world_defaults=world, environ={})
    assert words in info.value.message


def test_budget_overrides_tighten_the_worlds_shadow_limits(tmp_path) -> None:
    world = {
        "world": "petri",
        "seed": 1,
        "config": {"entities": 20},
        "budgets": {"shadow_limits": {"population": {"max_drift_permille": 0}}},
    }
    with Governor(tmp_path / "data", world_defaults=world, environ={}) as tight:
        limits = tight.shadow_limits(tight.reference_world())
    assert limits == {
        "population": {"max_drift_permille": 0, "min_baseline": 5},
        "faults": {"max_increase": 0},
    }


def test_a_bundle_that_lives_longer_than_366_days_is_refused(gov: Governor, op: SigningKey) -> None:
    from datetime import timedelta

    verdict = gov.submit(make_bundle(gov, params_content(31), op, ttl=timedelta(days=400)))
    assert verdict.state == State.REJECTED
    assert [r.code for r in verdict.reasons] == ["lifetime_too_long"]


def test_approval_checks_integrity_again(op: SigningKey, gov: Governor) -> None:
    from datetime import UTC, datetime, timedelta

    gov.budgets = replace(gov.budgets, human_domains=frozenset({"world_params"}))
    doc = make_bundle(gov, params_content(33), op)  # expires in one hour
    assert gov.submit(doc).state == State.VALIDATED
    gov.clock = lambda: datetime.now(UTC) + timedelta(hours=2)  # the person comes back too late
    verdict = gov.approve(doc["patch_id"], "alice", "looks fine")
    assert verdict.state == State.REJECTED and [r.code for r in verdict.reasons] == ["expired"]
    assert gov.ledger.state_of(doc["patch_id"]) == State.REJECTED and gov.active() is None


def test_a_forced_kill_switch_is_recorded_in_the_ledger(gov: Governor, op: SigningKey) -> None:
    forced = Governor(gov.data, environ={"OUROBOROS_KILLSWITCH": "1"})
    for _ in range(2):
        with pytest.raises(PatchError):
            forced.submit(make_bundle(forced, params_content(25), op), actor="bot")
    entries = forced.ledger.entries(kind="killswitch_forced")
    assert [(e.actor, e.evidence["cause"]) for e in entries] == [("bot", "environment")]  # once a process
    forced.close()
    assert gov.killswitch.state().engaged is False  # the record does not disturb the control file
    assert gov.submit(make_bundle(gov, params_content(25), op)).state == State.ACTIVE


def test_a_dry_run_shows_a_hash_and_counts_not_the_whole_content(gov: Governor, op: SigningKey) -> None:
    verdict = gov.submit(make_bundle(gov, params_content(28), op), dry_run=True)
    summary = verdict.as_dict()["evidence"]["effective_content"]
    assert set(summary) == {"sha256", "objects"} and summary["objects"] == {"world_params": 1}
    assert len(summary["sha256"]) == 64
