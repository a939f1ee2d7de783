"""Context: each type accepts its own keys (and the shared ``tags`` and ``sliders``), refuses any
other key with ``bad_context`` naming the key and the accepted ones, and every context the director
sends is accepted. QUEST honours ``district``; BUILDING honours ``sector``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ouroboros.ai.director import Director, Job
from ouroboros.ai.generators import CONTEXT_KEYS, GENERATOR_TYPES, generate
from ouroboros.ai.generators._world import WorldView
from ouroboros.ai.generators.quest import HOSTILE_KINDS
from ouroboros.ai.proposals import ProposalType
from ouroboros.ai.store import AiStore
from ouroboros.errors import BadInputError

BASE = WorldView("neon", None)
ALL_KEYS = sorted({k for keys in CONTEXT_KEYS.values() for k in keys})


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(GENERATOR_TYPES),
    st.text(min_size=1, max_size=12).filter(lambda k: k not in ALL_KEYS) | st.sampled_from(ALL_KEYS),
)
def test_an_unknown_context_key_is_refused_naming_it(kind: ProposalType, key: str) -> None:
    if key in CONTEXT_KEYS[kind]:
        return  # accepted keys are covered below
    with pytest.raises(BadInputError) as err:
        generate(kind, 1, context={key: "x"})
    assert err.value.code == "bad_context" and err.value.path == key
    assert repr(key) in str(err.value) and ", ".join(CONTEXT_KEYS[kind]) in str(err.value)


def test_the_audited_unknown_key_is_refused() -> None:
    with pytest.raises(BadInputError) as err:
        generate("NPC", 1, context={"x": 1})
    assert "'x'" in str(err.value) and "archetype" in str(err.value)


@pytest.mark.parametrize(
    "context",
    [
        {"tags": "dungeon"},
        {"tags": [1]},
        {"sliders": {"chaos": 101}},
        {"sliders": [1]},
        {"sliders": {"x": True}},
    ],
)
def test_bad_shared_values_are_refused(context: dict[str, Any]) -> None:
    with pytest.raises(BadInputError) as err:
        generate("ITEM", 1, context=context)
    assert err.value.code == "bad_context" and err.value.path == next(iter(context))


def test_every_context_the_director_sends_is_accepted(tmp_path: Path) -> None:
    events: list[dict[str, Any]] = [
        {"kind": "player_at_edge", "player": "a", "growth_point": "neon.room.st_00_00", "tags": []},
        {"kind": "boss_killed", "boss": "neon.npc.boss_drain_king", "faction": "neon.faction.drain_rats",
         "room": "neon.room.sewer_lair"},
        {"kind": "crowded_sector", "sector": "neon.zone.night_market", "district": "neon.district.kabuki",
         "players": 9},
        {"kind": "faction_without_hq", "faction": "neon.faction.chrome_jackals", "members": 4},
    ]  # fmt: skip
    quests: dict[str, Any] = {
        "kind": "quests_exhausted",
        "district": "neon.district.kabuki",
        "done": 3,
        "total": 3,
    }
    jobs: list[Job] = []
    # one fresh director per trigger, so no throttle or open expansion hides a rule
    runs: list[tuple[int, list[dict[str, Any]], dict[str, Any]]] = [
        *((100, [e], {}) for e in [*events, quests]),
        (10, [quests], {}),  # expansion low: a quest instead of a dungeon
        (100, [], {"inflation_permille": 90}),
    ]
    for n, (expansion, batch, kpis) in enumerate(runs):
        store = AiStore(tmp_path / f"ai{n}.sqlite3")
        try:
            d = Director(store, world_seed=11, tick_hz=50)
            d.set("chaos", 100 if n == 0 else 0, "test")
            d.set("aggression", 90, "test")
            d.set("expansion", expansion, "test")
            jobs += d.observe(None, batch, kpis, 10)
            if n == 0:
                down = {"bosses_down": ["neon.npc.boss_drain_king"], "money_supply": 100}
                for tick in range(11, 400):  # chaos events (a premise holds: the boss is down)
                    jobs += d.observe(None, [], down, tick)
        finally:
            store.close()
    rules = {j.rule for j in jobs}
    assert {"edge", "boss", "crowded", "hq", "quests", "inflation", "chaos"} <= rules
    assert {j.type for j in jobs if j.rule == "quests"} == {ProposalType.WORLD_EXPANSION, ProposalType.QUEST}
    for job in jobs:
        proposal = generate(job.type, job.seed, context=job.context)
        assert proposal.type == job.type


@pytest.mark.parametrize(
    "district", ["neon.district.kabuki", "neon.district.harbor", "neon.district.rustbelt"]
)
def test_a_quest_for_a_district_is_given_and_played_there(district: str) -> None:
    for seed in range(12):
        proposal = generate("QUEST", seed, context={"district": district, "blueprint": "bounty"})
        [quest] = proposal.payload["quests"]
        giver = BASE.by_id["npcs"][quest["giver"]]
        assert BASE.by_id["rooms"][giver["spawn_room"]]["district"] == district
        [kill] = quest["objectives"]
        target = BASE.by_id["npcs"][kill["target"]]
        local = [
            n
            for n in BASE.npcs_of_kind(*HOSTILE_KINDS)
            if BASE.by_id["rooms"][n["spawn_room"]]["district"] == district
        ]
        if local:
            assert target in local


def test_a_quest_district_must_exist_and_hold_a_giver() -> None:
    with pytest.raises(BadInputError) as err:
        generate("QUEST", 1, context={"district": "neon.district.atlantis"})
    assert err.value.path == "district"
    with pytest.raises(BadInputError):
        generate("QUEST", 1, context={"district": "neon.district.undercity"})  # nobody peaceful lives there
    with pytest.raises(BadInputError):  # a giver from elsewhere
        generate(
            "QUEST", 1, context={"district": "neon.district.kabuki", "giver": "neon.npc.boss_drain_king"}
        )


def test_a_building_for_a_crowded_sector_stands_in_it() -> None:
    for seed in range(10):
        proposal = generate(
            "BUILDING", seed, context={"purpose": "residential", "sector": "neon.zone.night_market"}
        )
        [street] = [r for r in proposal.payload["rooms"] if BASE.get("rooms", r["id"]) is not None]
        assert street["zone"] == "neon.zone.night_market"
