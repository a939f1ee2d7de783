"""The approval queue on a real governed neon folder: approve reaches ``active``; reject, edit and
undo do what they say and nothing else; a kill-switch refusal loses nothing; every human action
is audited. ``item_generator`` is a small generator with the real ``generate`` signature."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ouroboros.ai.council import Council
from ouroboros.ai.guardrails import Guardrails
from ouroboros.ai.proposals import Proposal, ProposalType
from ouroboros.ai.queue import merge3
from ouroboros.errors import BadInputError, PatchError, RejectedError
from ouroboros.patches import Governor
from tests.budgets import SLOW_MACHINE_TICK_MS

REPO = Path(__file__).resolve().parents[2]
BASE = REPO / "src" / "ouroboros" / "worlds" / "neon" / "base"
NEON = {
    "world": "neon",
    "seed": 5,
    "config": {},
    "budgets": {
        "warmup_ticks": 2,
        "determinism_ticks": 3,
        "shadow_ticks": 8,
        "canary_ticks": 4,
        "tick_budget_ms": SLOW_MACHINE_TICK_MS,
    },
}
KATANA = next(
    i for i in json.loads((BASE / "items.json").read_text())["items"] if i["id"] == "neon.item.mono_katana"
)


def item_generator(
    type: ProposalType | str,
    seed: int,
    *,
    world: str = "neon",
    content: Mapping[str, Any] | None = None,
    guardrails: Guardrails | None = None,
    context: Mapping[str, Any] | None = None,
) -> Proposal:
    """One blade per seed: a different id, name and price for each seed, the same for the same."""
    item = copy.deepcopy(KATANA)
    item.update(id=f"neon.item.blade_{seed}", name=f"Blade {seed}", price=1000 + seed % 500)
    return Proposal(
        type=ProposalType(type),
        world=world,
        seed=seed,
        generator="test-blade@1",
        payload={"items": [item]},
        flavour={"/items/0/name": item["name"]},
        summary=f"a blade for seed {seed}",
    ).with_id()


def items_in(gov: Governor) -> set[str]:
    stored = gov.active_content() or {"objects": {}}
    return {i["id"] for i in stored["objects"].get("items", ())}


@pytest.fixture
def gov(tmp_path: Path) -> Iterator[Governor]:
    governor = Governor(tmp_path / "data", world_defaults=NEON, environ={})
    governor.new_key("op", ["*"])
    yield governor
    governor.close()


@pytest.fixture
def council(gov: Governor) -> Iterator[Council]:
    c = Council(gov.data, gov, world="neon", generate=item_generator)
    c.director.set("human_in_the_loop", True, "test")
    yield c
    c.close()


def test_approve_takes_a_queued_proposal_to_active(council: Council, gov: Governor) -> None:
    record = council.propose(ProposalType.ITEM, 7)
    assert record["state"] == "queued" and gov.active() is None
    assert [r["proposal_id"] for r in council.queue.list("queued")] == [record["proposal_id"]]
    verdict = council.queue.approve(record["proposal_id"], "alice", "looks fine")
    assert verdict["state"] == "active" and verdict["proposal_state"] == "active", verdict["reasons"]
    assert gov.active() == verdict["patch_id"] == council.queue.get(record["proposal_id"])["patch_id"]
    assert "neon.item.blade_7" in items_in(gov)
    bundle = gov.ledger.bundle(verdict["patch_id"])
    assert bundle is not None
    assert bundle["author"]["type"] == "generator" and bundle["author"]["run_id"] == record["proposal_id"]
    assert [s["keyid"] for s in bundle["signatures"]] == [gov.local_key("generator").keyid]
    (audit,) = council.store.audit_log(1)
    assert (audit["actor"], audit["action"], audit["reason"]) == ("alice", "queue.approve", "looks fine")
    with pytest.raises(PatchError):
        council.queue.approve(record["proposal_id"], "alice", "again")


def test_reject_closes_a_proposal_without_touching_the_world(council: Council, gov: Governor) -> None:
    pid = council.propose(ProposalType.ITEM, 8)["proposal_id"]
    assert council.queue.reject(pid, "bob", "too shiny")["state"] == "rejected"
    assert gov.active() is None and council.queue.list("queued") == []
    with pytest.raises(PatchError):
        council.queue.approve(pid, "bob", "changed my mind")
    with pytest.raises(BadInputError):
        council.queue.reject("prop-nope", "bob", "unknown")


def test_edit_changes_words_and_numbers_and_shows_the_diff(council: Council, gov: Governor) -> None:
    pid = council.propose(ProposalType.ITEM, 9)["proposal_id"]
    edited = council.queue.edit(
        pid, {"items": {"neon.item.blade_9": {"name": "Widowmaker", "price": 1500}}}, "carol", "better name"
    )
    assert edited["validated"]["payload"]["items"][0]["name"] == "Widowmaker"
    assert edited["validated"]["flavour"]["/items/0/name"] == "Widowmaker"
    diff = council.queue.diff(pid)
    assert diff["generated"]["items"][0]["name"] == "Blade 9"
    assert diff["changes"] == [
        {"path": "/items/0/name", "before": "Blade 9", "after": "Widowmaker"},
        {"path": "/items/0/price", "before": 1009, "after": 1500},
    ]
    assert council.queue.approve(pid, "carol", "ok")["state"] == "active"
    stored = gov.active_content()
    assert stored is not None
    item = next(i for i in stored["objects"]["items"] if i["id"] == "neon.item.blade_9")
    assert (item["name"], item["price"]) == ("Widowmaker", 1500)


@pytest.mark.parametrize(
    ("patch", "error"),
    [
        (
            {"items": {"neon.item.blade_3": {"stats": {"damage": 500}}}},
            RejectedError,
        ),  # over max_weapon_damage
        ({"items": {"0": {"price": -5}}}, RejectedError),  # the schema refuses a negative price
        ({"items": {"0": {"id": "neon.item.other"}}}, BadInputError),  # ids stay
        ({"items": {"0": {"price": "cheap"}}}, BadInputError),  # a number stays a number
        ({"items": {"0": {"name": 5}}}, BadInputError),  # words stay words
        ({"items": {"0": {"colour": "red"}}}, BadInputError),  # no new fields
        ({"items": {"7": {"name": "x"}}}, BadInputError),
        ({}, BadInputError),
    ],
)
def test_a_refused_edit_changes_nothing(
    council: Council, patch: dict[str, Any], error: type[Exception]
) -> None:
    pid = council.propose(ProposalType.ITEM, 3)["proposal_id"]
    before = council.queue.get(pid)
    with pytest.raises(error):
        council.queue.edit(pid, patch, "dave", "try")
    assert council.queue.get(pid) == before
    assert [a["action"] for a in council.store.audit_log(5)] == ["director.set"]


def test_undo_removes_one_proposals_objects_and_keeps_anothers(council: Council, gov: Governor) -> None:
    first = council.propose(ProposalType.ITEM, 11)["proposal_id"]
    second = council.propose(ProposalType.ITEM, 12)["proposal_id"]
    assert council.queue.approve(first, "erin", "ok")["state"] == "active"
    assert council.queue.approve(second, "erin", "ok")["state"] == "active"
    assert {"neon.item.blade_11", "neon.item.blade_12"} <= items_in(gov)
    base_items = items_in(gov) - {"neon.item.blade_11", "neon.item.blade_12"}
    result = council.queue.undo(first, "erin", "the blade broke the economy")
    assert result["state"] == "active" and result["proposal_state"] == "rolled_back", result["reasons"]
    assert result["removed"] == [{"domain": "items", "id": "neon.item.blade_11"}]
    undo_bundle = gov.ledger.bundle(result["patch_id"])
    assert undo_bundle is not None  # players are told, in the proposal's own words
    assert undo_bundle["migration"] == {"announcement": "Taken back: a blade for seed 11"}
    assert items_in(gov) == base_items | {"neon.item.blade_12"}
    assert council.queue.get(second)["state"] == "active"
    with pytest.raises(PatchError):
        council.queue.undo(first, "erin", "twice")


def test_a_rolled_back_proposal_shows_rolled_back_and_no_undo(council: Council, gov: Governor) -> None:
    first = council.propose(ProposalType.ITEM, 21)["proposal_id"]
    second = council.propose(ProposalType.ITEM, 22)["proposal_id"]
    council.queue.approve(first, "erin", "ok")
    council.queue.approve(second, "erin", "ok")
    gov.rollback("erin", "the second blade is bad")
    states = {r["proposal_id"]: r["state"] for r in council.queue.list()}
    assert states == {first: "active", second: "rolled_back"}
    assert "rolled back in the ledger" in council.queue.get(second)["reason"]
    with pytest.raises(PatchError):
        council.queue.undo(second, "erin", "undo what is gone")


def test_an_undone_proposal_comes_back_when_its_undo_is_rolled_back(council: Council, gov: Governor) -> None:
    pid = council.propose(ProposalType.ITEM, 23)["proposal_id"]
    council.queue.approve(pid, "erin", "ok")
    assert council.queue.undo(pid, "erin", "too sharp")["proposal_state"] == "rolled_back"
    assert "neon.item.blade_23" not in items_in(gov)
    gov.rollback("erin", "the undo was a mistake")
    assert "neon.item.blade_23" in items_in(gov)
    assert council.queue.get(pid)["state"] == "active"


def test_the_council_never_queues_content_equal_to_a_queued_or_active_proposal(gov: Governor) -> None:
    def same_blade(type: Any, seed: int, **kwargs: Any) -> Proposal:
        return item_generator(type, 1, **kwargs).model_copy(update={"seed": seed, "proposal_id": None})

    council = Council(gov.data, gov, world="neon", generate=same_blade)
    council.director.set("human_in_the_loop", True, "test")
    try:
        first = council.propose(ProposalType.ITEM, 31)
        again = council.propose(ProposalType.ITEM, 32)  # another seed, the same content
        assert again["proposal_id"] == first["proposal_id"]
        assert [r["proposal_id"] for r in council.queue.list()] == [first["proposal_id"]]
        council.queue.approve(first["proposal_id"], "erin", "ok")
        assert council.propose(ProposalType.ITEM, 33)["proposal_id"] == first["proposal_id"]
        assert len(council.queue.list()) == 1
    finally:
        council.close()


def test_a_kill_switch_refusal_loses_nothing(council: Council, gov: Governor) -> None:
    pid = council.propose(ProposalType.ITEM, 13)["proposal_id"]
    gov.killswitch.set(True, "ops", "incident")
    verdict = council.queue.approve(pid, "frank", "ship it")
    assert verdict["state"] == "refused" and verdict["proposal_state"] == "refused"
    assert verdict["reasons"][0]["code"] == "killswitch_engaged"
    record = council.queue.get(pid)
    assert "kill-switch engaged" in record["reason"] and record["validated"]["payload"]["items"]
    assert gov.active() is None
    gov.killswitch.set(False, "ops", "resolved")
    assert council.queue.approve(pid, "frank", "retry")["state"] == "active"
    assert "neon.item.blade_13" in items_in(gov)


def test_bad_attribution_and_unknown_states_are_bad_input(council: Council) -> None:
    pid = council.propose(ProposalType.ITEM, 14)["proposal_id"]
    with pytest.raises(BadInputError):
        council.queue.approve(pid, "", "why")
    with pytest.raises(BadInputError):
        council.queue.approve(pid, "me", " ")
    with pytest.raises(BadInputError):
        council.queue.list("lost")
    with pytest.raises(BadInputError):
        council.queue.get("prop-unknown")
    assert council.queue.get(pid)["state"] == "queued"


# -- approval re-checks, rebases; edits keep references and words clean ---------------------------
def legendary_generator(type: Any, seed: int, **kwargs: Any) -> Proposal:
    base = item_generator(type, seed, **kwargs)
    payload = copy.deepcopy(base.payload)
    payload["items"][0]["rarity"] = "legendary"
    return base.model_copy(update={"payload": payload, "proposal_id": ""}).with_id()


def test_approve_rechecks_the_guardrails_in_force_with_the_numbers(council: Council, gov: Governor) -> None:
    record = council.propose(ProposalType.ITEM, 13)
    damage = record["validated"]["payload"]["items"][0]["stats"]["damage"]
    council.guardrails_file.write({"max_weapon_damage": damage - 1})  # lowered after it was queued
    verdict = council.queue.approve(record["proposal_id"], "ann", "ok")
    assert verdict["state"] == "refused" and verdict["proposal_state"] == "refused"
    (reason,) = verdict["reasons"]
    assert reason["stage"] == "guardrails" and f"found {damage}, limit {damage - 1}" in reason["message"]
    assert gov.active() is None and "neon.item.blade_13" not in items_in(gov)
    council.guardrails_file.write({"max_weapon_damage": damage})  # raised again: it may go now
    assert council.queue.approve(record["proposal_id"], "ann", "ok")["state"] == "active"


def test_the_legendary_rate_is_rechecked_at_approval(gov: Governor) -> None:
    with Council(gov.data, gov, world="neon", generate=legendary_generator) as council:
        council.director.set("human_in_the_loop", True, "t")
        first = council.propose(ProposalType.ITEM, 21)
        second = council.propose(ProposalType.ITEM, 22)
        assert first["state"] == second["state"] == "queued"  # each alone is within the rate
        assert council.queue.approve(first["proposal_id"], "ann", "ok")["state"] == "active"
        verdict = council.queue.approve(second["proposal_id"], "ann", "ok")
        assert verdict["state"] == "refused"
        assert any("legendary" in r["code"] or "legendary" in r["message"] for r in verdict["reasons"])
        assert "neon.item.blade_22" not in items_in(gov)


def _carrier(record: dict[str, Any]) -> str | None:
    npcs = (record["validated"] or record["generated"])["payload"].get("npcs") or []
    return str(npcs[0]["id"]) if npcs else None


def test_two_queued_proposals_changing_one_vendor_both_reach_active(gov: Governor) -> None:
    with Council(gov.data, gov, world="neon") as council:
        council.director.set("human_in_the_loop", True, "t")
        council.guardrails_file.write({"max_legendary_per_100": 100})
        by_vendor: dict[str, list[dict[str, Any]]] = {}
        for seed in range(1, 60):
            record = council.propose(ProposalType.ITEM, seed)
            vendor = _carrier(record)
            if record["state"] == "queued" and vendor:
                by_vendor.setdefault(vendor, []).append(record)
                if len(by_vendor[vendor]) == 2:
                    break
        vendor, (a, b) = next((v, r) for v, r in by_vendor.items() if len(r) == 2)
        assert council.queue.approve(a["proposal_id"], "ann", "ok")["state"] == "active"
        verdict = council.queue.approve(b["proposal_id"], "ann", "ok")
        assert verdict["state"] == "active", verdict["reasons"]
        stored = gov.active_content()
        assert stored is not None
        (npc,) = [n for n in stored["objects"]["npcs"] if n["id"] == vendor]
        item_a, item_b = (r["validated"]["payload"]["items"][0]["id"] for r in (a, b))
        assert {item_a, item_b} <= set(npc["stock"])  # the second kept the first's addition
        original = next(n for n in b["generated"]["payload"]["npcs"] if n["id"] == vendor)
        assert npc["version"] > original["version"]


@pytest.mark.parametrize(
    ("patch", "code"),
    [
        ({"npcs": {"0": {"spawn_room": "neon.room.nowhere"}}}, "unresolved_reference"),
        ({"npcs": {"0": {"name": "<script>alert(1)</script>"}}}, "markup"),
        ({"npcs": {"0": {"name": "see [this](http://x.example)"}}}, "markup"),
    ],
)
def test_an_edit_to_a_missing_reference_or_markup_is_refused(
    gov: Governor, patch: dict[str, Any], code: str
) -> None:
    with Council(gov.data, gov, world="neon") as council:
        council.director.set("human_in_the_loop", True, "t")
        record = council.propose(ProposalType.NPC, 5)
        assert record["state"] == "queued", record["reason"]
        before = council.queue.get(record["proposal_id"])
        with pytest.raises(RejectedError) as caught:
            council.queue.edit(record["proposal_id"], patch, "dave", "try")
        assert [r.code for r in caught.value.reasons] == [code]
        assert council.queue.get(record["proposal_id"]) == before


def test_the_summary_follows_an_edit(gov: Governor) -> None:
    with Council(gov.data, gov, world="neon") as council:
        council.director.set("human_in_the_loop", True, "t")
        record = council.propose(ProposalType.ITEM, 9)
        item = record["validated"]["payload"]["items"][0]
        assert item["name"] in record["validated"]["summary"]
        council.queue.edit(
            record["proposal_id"],
            {"items": {"0": {"name": "Widowmaker", "price": item["price"] + 1}}},
            "c",
            "r",
        )
        (row,) = council.queue.list()
        assert "Widowmaker" in row["summary"] and item["name"] not in row["summary"]
        assert f"{item['price'] + 1} credits" in row["summary"]


# -- the rebase merge, property-tested ------------------------------------------------------------


_ids = st.lists(st.sampled_from([f"neon.item.i{n}" for n in range(8)]), unique=True, max_size=6)
_objects = st.fixed_dictionaries(
    {"id": st.just("neon.npc.v"), "name": st.sampled_from(["Vee", "Vex", "Vin"]), "stock": _ids}
)


@given(_objects, _objects, _objects)
def test_merge3_keeps_both_sides_changes(
    base: dict[str, Any], mine: dict[str, Any], theirs: dict[str, Any]
) -> None:
    merged = merge3(base, mine, theirs)
    if mine == base:
        assert merged == theirs
    if theirs == base:
        assert merged == mine
    added = [s for s in mine["stock"] if s not in base["stock"]]
    removed = [s for s in base["stock"] if s not in mine["stock"]]
    assert set(added) <= set(merged["stock"])  # what the proposal added is there
    assert not set(removed) & set(merged["stock"])  # what it took away stays away
    assert {s for s in theirs["stock"] if s not in removed} <= set(merged["stock"])  # theirs kept
    assert len(merged["stock"]) == len(set(merged["stock"]))  # no duplicates
    assert merged["name"] == (theirs["name"] if mine["name"] == base["name"] else mine["name"])
