"""QUEST and EVENT: quests name only content a player can reach (or that the proposal adds), pay
from the difficulty of their nodes, and events answer what happened: a dead boss's rivals with a
bounty, a money-sink merchant whose prices follow inflation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ouroboros.ai.generators import GENERATOR_TYPES, MAX_SEED, generate
from ouroboros.ai.generators._world import WorldView
from ouroboros.ai.generators.quest import BLUEPRINTS, CREDITS_PER_POINT, XP_PER_POINT, reachable_items
from ouroboros.ai.guardrails import Guardrails, item_power
from ouroboros.ai.proposals import ProposalType
from ouroboros.errors import BadInputError, GuardrailError
from ouroboros.patches import Governor, State
from tests.ai.generators.conftest import assert_sound, submit

SEEDS = st.integers(min_value=0, max_value=MAX_SEED)
BASE = WorldView("neon", None)


def test_every_type_but_traits_has_a_generator() -> None:
    assert set(GENERATOR_TYPES) == set(ProposalType) - {ProposalType.TRAIT}


@settings(max_examples=40, deadline=None)
@given(SEEDS, st.sampled_from([None, *sorted(BLUEPRINTS)]))
def test_a_quest_follows_its_blueprint_and_pays_from_its_difficulty(seed: int, blueprint: str | None) -> None:
    context = {"blueprint": blueprint} if blueprint else None
    proposal = generate("QUEST", seed, context=context)
    assert_sound(proposal, None, context)
    [quest] = proposal.payload["quests"]
    kinds = [o["kind"] for o in quest["objectives"]]
    assert tuple(kinds) == BLUEPRINTS[proposal.tags[1]]
    giver = BASE.get("npcs", quest["giver"])
    assert giver is not None and giver["kind"] in ("fixer", "vendor", "civilian")
    items = set(reachable_items(BASE))
    for objective in quest["objectives"]:
        if objective["kind"] == "kill":
            assert BASE.by_id["npcs"][objective["target"]]["kind"] in ("ganger", "drone", "boss")
        elif objective["kind"] in ("collect", "deliver"):
            assert objective["target"] in items
    difficulty = quest["extensions"]["neon.difficulty"]
    credits, xp = quest["rewards"]["credits"], quest["rewards"]["xp"]
    assert difficulty * CREDITS_PER_POINT[0] <= credits <= difficulty * CREDITS_PER_POINT[1]
    assert difficulty * XP_PER_POINT[0] <= xp <= difficulty * XP_PER_POINT[1]
    assert proposal.budget["credits"] == credits <= Guardrails().max_money_drop
    for prerequisite in quest["prerequisites"]:
        assert BASE.get("quests", prerequisite) is not None


def test_a_quest_whose_pay_is_over_the_money_cap_is_refused_not_cut() -> None:
    ok = generate("QUEST", 5)
    credits = ok.payload["quests"][0]["rewards"]["credits"]
    with pytest.raises(GuardrailError) as caught:
        generate("QUEST", 5, guardrails=Guardrails(max_money_drop=credits - 1))
    assert [(v.code, v.value, v.limit) for v in caught.value.violations] == [
        ("over_budget", credits, credits - 1)
    ]


@settings(max_examples=30, deadline=None)
@given(SEEDS)
def test_a_dead_boss_leaves_two_rivals_and_a_bounty_on_them(seed: int) -> None:
    context = {"boss": "neon.npc.boss_drain_king"}
    proposal = generate("EVENT", seed, context=context)
    assert_sound(proposal, None, context)
    assert proposal.tags == ["event", "power_vacuum"]
    rivals = proposal.payload["npcs"]
    assert len(rivals) == 2 and rivals[0]["faction"] != rivals[1]["faction"]
    assert rivals[1]["faction"] in BASE.factions[rivals[0]["faction"]]  # they feud
    boss = BASE.by_id["npcs"]["neon.npc.boss_drain_king"]
    assert all(r["level"] < boss["level"] for r in rivals)
    [quest] = proposal.payload["quests"]
    assert sorted(o["target"] for o in quest["objectives"]) == sorted(r["id"] for r in rivals)
    assert {r["id"] for r in rivals}.isdisjoint(proposal.dependencies)  # added, not depended on


@settings(max_examples=30, deadline=None)
@given(SEEDS, st.integers(min_value=51, max_value=1500))
def test_high_inflation_opens_a_merchant_whose_prices_follow_it(seed: int, inflation: int) -> None:
    calm = generate("EVENT", seed, context={"event": "money_sink"})
    hot = generate("EVENT", seed, context={"inflation_permille": inflation})
    assert hot.tags == ["event", "money_sink"]
    assert_sound(hot, None, {"inflation_permille": inflation})
    [merchant] = hot.payload["npcs"]
    goods = hot.payload["items"]
    assert merchant["kind"] == "vendor" and merchant["stock"] == [g["id"] for g in goods]
    assert all(item_power(g) == 0 for g in goods)  # luxuries: money out, no power in
    for before, after in zip(calm.payload["items"], goods, strict=True):
        assert after["price"] == before["price"] * (1000 + inflation) // 1000
    assert hot.budget["sink_credits"] == sum(g["price"] for g in goods)


def test_bad_event_context_is_refused() -> None:
    for context in ({"event": "meteor"}, {"boss": "neon.npc.nobody"}, {"inflation_permille": "high"}):
        with pytest.raises(BadInputError):
            generate("EVENT", 1, context=context)


def test_a_quest_and_an_event_go_active(neon_gov: Governor) -> None:
    cases: tuple[tuple[str, dict[str, object]], ...] = (
        ("QUEST", {}),
        ("EVENT", {"inflation_permille": 80}),
        ("EVENT", {"boss": "neon.npc.boss_drain_king"}),
    )
    for kind, context in cases:
        proposal = generate(kind, 8, content=neon_gov.active_content(), context=context)
        verdict = submit(neon_gov, proposal)
        assert verdict.state == State.ACTIVE, [r.as_dict() for r in verdict.reasons]
    quests = {q["id"] for q in neon_gov.reference_world().meta["neon_content"]["quests"]}
    assert proposal.payload["quests"][0]["id"] in quests
