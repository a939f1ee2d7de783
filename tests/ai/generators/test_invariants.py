"""Named invariants: every proposal names what it keeps, ``guardrails.check`` verifies each name,
and breaking one (as a queue edit or a bad enrich could) is refused with the invariant's name.
Items are worn where their name says ("Greaves" on the legs, never on the hands)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ouroboros.ai.generators import MAX_SEED, generate
from ouroboros.ai.generators.invariants import INVARIANTS, SLOT_WORDS
from ouroboros.ai.guardrails import Guardrails, check
from ouroboros.ai.proposals import Proposal

SEEDS = st.integers(min_value=0, max_value=MAX_SEED)
RULES = Guardrails()


def _edited(proposal: Proposal, edit: Any) -> Proposal:
    payload = copy.deepcopy(proposal.payload)
    edit(payload)
    return proposal.model_copy(update={"payload": payload})


def _broken(proposal: Proposal, content: Any = None) -> list[tuple[str, str]]:
    return [
        (str(v.value), v.path)
        for v in check(proposal, RULES, content=content)
        if v.code == "invariant_broken"
    ]


@settings(max_examples=40, deadline=None)
@given(SEEDS, st.sampled_from(["NPC", "ITEM", "QUEST", "EVENT", "WORLD_EXPANSION", "BUILDING"]))
def test_every_proposal_names_invariants_that_check_verifies(seed: int, kind: str) -> None:
    proposal = generate(kind, seed)
    assert {"within_budget", "refs_resolve"} <= set(proposal.invariants) <= set(INVARIANTS)
    assert check(proposal, RULES) == [] and check(proposal, RULES, content={}) == []


def test_a_reference_edited_to_nowhere_breaks_refs_resolve() -> None:
    npc = generate("NPC", 3)
    moved = _edited(npc, lambda p: p["npcs"][0].update(spawn_room="neon.room.nowhere"))
    assert _broken(moved) == [("refs_resolve", "/npcs/0/spawn_room")]
    quest = generate("QUEST", 3)
    retargeted = _edited(quest, lambda p: p["quests"][0].update(giver="neon.npc.ghost"))
    assert _broken(retargeted) == [("refs_resolve", "/quests/0/giver")]
    # given the content, an edit to another real room resolves; one to nowhere still does not
    elsewhere = _edited(npc, lambda p: p["npcs"][0].update(spawn_room="neon.room.st_01_01"))
    assert _broken(elsewhere, content={}) == []
    assert _broken(moved, content={}) == [("refs_resolve", "/npcs/0/spawn_room")]
    # with the content, a declared dependency the content lacks is caught too
    ghost = npc.model_copy(update={"dependencies": [*npc.dependencies, "neon.room.gone"]})
    assert _broken(ghost) == []
    assert _broken(ghost, content={}) == [("refs_resolve", "/dependencies")]


def test_an_unknown_invariant_is_not_taken_on_trust() -> None:
    proposal = generate("NPC", 1).model_copy(update={"invariants": ["refs_resolve", "always_fun"]})
    assert _broken(proposal) == [("always_fun", "/invariants")]


@pytest.mark.parametrize("seed", range(0, 400, 7))
def test_armour_and_implants_are_worn_where_their_name_says(seed: int) -> None:
    for kind in ("armour", "implant"):
        proposal = generate("ITEM", seed, context={"kind": kind})
        item = proposal.payload["items"][0]
        named = [SLOT_WORDS[w] for w in item["name"].lower().split() if w in SLOT_WORDS]
        assert named and item["slot"] == named[-1], item
        assert "slot_fits_name" in proposal.invariants


def test_greaves_on_the_hands_are_refused() -> None:
    proposal = next(
        p
        for p in (generate("ITEM", s, context={"kind": "armour"}) for s in range(200))
        if "Greaves" in p.payload["items"][0]["name"]
    )
    assert proposal.payload["items"][0]["slot"] == "legs"
    assert _broken(_edited(proposal, lambda p: p["items"][0].update(slot="hands"))) == [
        ("slot_fits_name", "/items/0/slot")
    ]


def test_a_stocked_item_names_item_reachable_and_an_unstocked_one_breaks_it() -> None:
    proposal = next(p for p in (generate("ITEM", s) for s in range(50)) if "item_reachable" in p.invariants)
    assert len(proposal.payload["npcs"]) == 1
    assert _broken(_edited(proposal, lambda p: p.pop("npcs"))) != []


def test_event_invariants_hold_and_break() -> None:
    vacuum = generate("EVENT", 2, context={"event": "power_vacuum"})
    assert "bounty_on_rivals" in vacuum.invariants
    elsewhere = _edited(
        vacuum, lambda p: p["quests"][0]["objectives"][0].update(target="neon.npc.boss_drain_king")
    )
    assert ("bounty_on_rivals", "/quests/0/objectives/0") in _broken(elsewhere)
    sink = generate("EVENT", 2, context={"event": "money_sink", "inflation_permille": 80})
    assert {"sink_goods_powerless", "item_reachable"} <= set(sink.invariants)
    armed = _edited(sink, lambda p: p["items"][0]["stats"].update(damage=5))
    assert _broken(armed) == [("sink_goods_powerless", "/items/0")]


def test_map_invariants_are_checked_against_the_content_given() -> None:
    road = generate("WORLD_EXPANSION", 4)
    [old] = [r for r in road.payload["rooms"] if r["version"] != "1.0.0"]

    def cut(payload: dict[str, Any]) -> None:
        room = next(r for r in payload["rooms"] if r["id"] == old["id"])
        room["exits"].pop(sorted(room["exits"])[0])

    broken = _edited(road, cut)
    assert "exits_kept" in {name for name, _ in _broken(broken, content={})}
    assert _broken(broken) == []  # without the content the map cannot be judged


def test_a_dungeon_quest_must_stay_inside_the_dungeon() -> None:
    dungeon = generate("WORLD_EXPANSION", 6, context={"kind": "dungeon"})
    assert check(dungeon, RULES, content={}) == []
    outside = _edited(
        dungeon, lambda p: p["quests"][0]["objectives"][1].update(target="neon.npc.boss_drain_king")
    )
    assert ("quest_inside", "/quests/0/objectives/1") in _broken(outside)
