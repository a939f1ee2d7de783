"""NPC and ITEM generators: deterministic, valid neon content, numbers from rules, reachable items,
and a real pipeline run to ``active``."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ouroboros.ai.generators import GENERATOR_TYPES, MAX_SEED, generate
from ouroboros.ai.generators._words import BRANDS
from ouroboros.ai.generators._world import WorldView
from ouroboros.ai.generators.item import PRICE_PER_POINT
from ouroboros.ai.generators.npc import LEVELS, stats_for
from ouroboros.ai.guardrails import Guardrails, item_power
from ouroboros.ai.proposals import ProposalType
from ouroboros.errors import BadInputError, GuardrailError
from ouroboros.patches import Governor, State
from tests.ai.generators.conftest import assert_sound, submit

SEEDS = st.integers(min_value=0, max_value=MAX_SEED)
BASE = WorldView("neon", None)


def test_npc_and_item_are_generator_types() -> None:
    assert {ProposalType.NPC, ProposalType.ITEM} <= set(GENERATOR_TYPES)


@settings(max_examples=40, deadline=None)
@given(SEEDS)
def test_an_npc_is_sound_and_its_numbers_follow_the_rules(seed: int) -> None:
    proposal = generate(ProposalType.NPC, seed)
    assert_sound(proposal)
    [npc] = proposal.payload["npcs"]
    room = BASE.get("rooms", npc["spawn_room"])
    assert room is not None
    archetype = proposal.tags[1]
    if archetype in ("ganger", "enforcer", "drone"):
        low, high = LEVELS[BASE.tier_of(room)]
        assert low <= npc["level"] <= high
    expected = stats_for(archetype, npc["level"])
    assert {k: npc[k] for k in expected} == expected
    assert npc["behavior"] in BASE.behaviour_ids()
    assert npc["faction"] in BASE.factions
    assert proposal.budget["credits_drop"] == npc.get("extensions", {}).get("neon.credits", 0)
    assert proposal.budget["credits_drop"] <= Guardrails().max_money_drop


@settings(max_examples=40, deadline=None)
@given(SEEDS)
def test_an_item_spends_its_rarity_budget_and_is_priced_from_its_points(seed: int) -> None:
    proposal = generate(ProposalType.ITEM, seed)
    assert_sound(proposal)
    item = proposal.payload["items"][0]
    spent = item_power(item)
    allowed = Guardrails().rarity_budget_points[item["rarity"]]
    assert proposal.budget == {"power_spent": spent, "power_allowed": allowed, "price_credits": item["price"]}
    assert allowed - 3 <= spent <= allowed
    assert item["price"] == spent * PRICE_PER_POINT[item["rarity"]]
    # reachable: a vendor stocks it or an npc drops it
    carriers = proposal.payload.get("npcs", [])
    assert len(carriers) == 1
    carried = carriers[0].get("stock", []) + [d["item"] for d in carriers[0].get("drops", [])]
    assert item["id"] in carried
    old = BASE.get("npcs", carriers[0]["id"])
    assert old is not None
    assert {k: v for k, v in carriers[0].items() if k not in ("version", "stock", "drops")} == {
        k: v for k, v in old.items() if k not in ("version", "stock", "drops")
    }


def test_the_same_seed_gives_other_ids_once_its_content_exists() -> None:
    first = generate("ITEM", 11)
    grown = {"items": first.payload["items"], "npcs": first.payload["npcs"]}
    second = generate("ITEM", 11, content=grown)
    assert second.payload["items"][0]["id"] != first.payload["items"][0]["id"]
    assert_sound(second, grown)


@settings(max_examples=60, deadline=None)
@given(
    SEEDS,
    st.lists(st.integers(min_value=0, max_value=200), min_size=5, max_size=5).map(sorted),
    st.sampled_from(["weapon", "armour", "implant", "consumable"]),
    st.sampled_from(["common", "uncommon", "rare", "epic", "legendary"]),
)
def test_any_valid_budget_gives_valid_content_or_a_refusal_with_numbers(
    seed: int, points: list[int], kind: str, rarity: str
) -> None:
    budgets = dict(zip(["common", "uncommon", "rare", "epic", "legendary"], points, strict=True))
    rules = Guardrails(rarity_budget_points=budgets)
    try:
        proposal = generate("ITEM", seed, guardrails=rules, context={"kind": kind, "rarity": rarity})
    except GuardrailError as refused:  # e.g. a budget that buys more damage than the damage cap
        assert all(v.code == "over_budget" and int(v.value) > int(v.limit) for v in refused.violations)
        return
    item = proposal.payload["items"][0]
    assert item_power(item) <= budgets[rarity]
    assert proposal.budget["power_allowed"] == budgets[rarity]


def test_a_retired_id_is_never_reused() -> None:
    first = generate("ITEM", 11)
    gone = first.payload["items"][0]["id"]
    stored = {"objects": {}, "retired": {"items": {gone: "1.0.0"}}}
    assert generate("ITEM", 11, content=stored).payload["items"][0]["id"] != gone


def test_rarer_items_are_drawn_less_often() -> None:
    rarities = [generate("ITEM", s).payload["items"][0]["rarity"] for s in range(300)]
    assert rarities.count("common") > rarities.count("rare") > rarities.count("epic")
    assert rarities.count("legendary") <= 6


def test_a_legendary_weapon_over_a_lowered_damage_cap_is_refused_with_its_numbers() -> None:
    ok = generate("ITEM", 3, context={"rarity": "legendary", "kind": "weapon"})
    damage = ok.payload["items"][0]["stats"]["damage"]
    with pytest.raises(GuardrailError) as caught:
        generate("ITEM", 3, context={"rarity": "legendary", "kind": "weapon"},
                 guardrails=Guardrails(max_weapon_damage=20))  # fmt: skip
    violation = caught.value.violations[0]
    assert (violation.code, violation.path, violation.value, violation.limit) == (
        "over_budget", "/items/0/stats/damage", damage, 20,
    )  # fmt: skip
    assert caught.value.code == "over_budget"


def test_a_banned_word_in_a_generated_name_refuses_the_item() -> None:
    with pytest.raises(GuardrailError) as caught:
        generate("ITEM", 4, guardrails=Guardrails(banned_words=tuple(BRANDS)))
    assert caught.value.violations[0].code == "banned_word"
    assert caught.value.violations[0].path == "/items/0/name"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"type": "DRAGON"}, "bad_type"),
        ({"seed": -1}, "bad_seed"),
        ({"seed": 2**53}, "bad_seed"),
        ({"context": {"archetype": "dragon"}}, "bad_context"),
        ({"context": {"room": "neon.room.nowhere"}}, "bad_context"),
        ({"context": {"faction": "neon.faction.nobody"}}, "bad_context"),
        ({"world": "petri"}, "bad_input"),
    ],
)
def test_bad_input_is_one_clear_error(kwargs: dict[str, object], code: str) -> None:
    args = {"type": "NPC", "seed": 1, **kwargs}
    with pytest.raises(BadInputError) as caught:
        generate(args.pop("type"), args.pop("seed"), **args)  # type: ignore[arg-type]
    assert caught.value.code == code


def test_a_generated_npc_and_item_go_active(neon_gov: Governor) -> None:
    for kind, seed in (("NPC", 1), ("ITEM", 2)):
        proposal = generate(kind, seed, content=neon_gov.active_content())
        verdict = submit(neon_gov, proposal)
        assert verdict.state == State.ACTIVE, [r.as_dict() for r in verdict.reasons]
    world = neon_gov.reference_world()
    ids = {n["id"] for n in world.meta["neon_content"]["npcs"]}
    assert any(i.startswith("neon.gen.npc.") for i in ids)
