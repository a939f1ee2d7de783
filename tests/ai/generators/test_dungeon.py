"""Dungeons: when a district's quests are done the director asks for a WORLD_EXPANSION tagged
``dungeon``, and gets an underground branch (off a street through a manhole, or off a sewer
tunnel) held by hostile npcs, with loot on the floor of its deepest chamber and a quest over it
from a peaceful npc of that district; it keeps every map invariant and passes the real pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ouroboros.ai.director import Director
from ouroboros.ai.generators import MAX_SEED, generate
from ouroboros.ai.generators._world import WorldView, reachable
from ouroboros.ai.generators.dungeon import DUNGEON_INVARIANTS, dungeon_entrances
from ouroboros.ai.generators.expansion import map_problems
from ouroboros.ai.guardrails import Guardrails, check
from ouroboros.ai.proposals import ProposalType
from ouroboros.ai.store import AiStore
from ouroboros.errors import BadInputError
from ouroboros.patches import Governor, State
from tests.ai.generators.conftest import assert_sound, submit

BASE = WorldView("neon", None)
SEEDS = st.integers(min_value=0, max_value=MAX_SEED)
DISTRICTS = ["neon.district.kabuki", "neon.district.harbor", "neon.district.rustbelt", "neon.district.spire"]
HOSTILE = {"ganger", "drone", "corp_security", "boss"}


def _district_of_entrance(room: dict[str, Any]) -> str:
    """The district a dungeon entrance serves: its own, or (a sewer) the street's above it."""
    if room["coords"].get("level", 0) == 0:
        return str(room["district"])
    x, y = room["coords"]["x"], room["coords"]["y"]
    above = next(r for r in BASE.street_rooms() if (r["coords"]["x"], r["coords"]["y"]) == (x, y))
    return str(above["district"])


def _assert_dungeon(proposal: Any, district: str | None) -> None:
    payload = proposal.payload
    assert proposal.type == ProposalType.WORLD_EXPANSION
    assert "dungeon" in proposal.tags and proposal.invariants == DUNGEON_INVARIANTS
    assert map_problems(BASE, proposal) == []
    assert check(proposal, Guardrails(), content={}) == []  # every named invariant, the map ones too
    new_rooms = [r for r in payload["rooms"] if BASE.get("rooms", r["id"]) is None]
    [entrance] = [r for r in payload["rooms"] if BASE.get("rooms", r["id"]) is not None]
    old_entrance = BASE.by_id["rooms"][entrance["id"]]
    assert all(entrance["exits"].get(d) == t for d, t in old_entrance["exits"].items())  # kept
    assert all(r["coords"]["level"] == -1 for r in new_rooms)  # underground
    if district is not None:
        assert _district_of_entrance(old_entrance) == district
    # every new room can be walked to from the spawn
    after = {**BASE.by_id["rooms"], **{r["id"]: r for r in payload["rooms"]}}
    spawn = BASE.spawn_room()
    assert spawn is not None
    assert {r["id"] for r in new_rooms} <= reachable(after, spawn)
    # held by hostile npcs, loot on the deepest floor, a quest over exactly that
    new_ids = {r["id"] for r in new_rooms}
    hostiles = [n for n in payload["npcs"] if n["kind"] in HOSTILE and n["spawn_room"] in new_ids]
    assert hostiles and len(hostiles) == len(payload["npcs"])
    [loot] = payload["items"]
    [deepest] = [r for r in new_rooms if loot["id"] in r.get("extensions", {}).get("neon.items", ())]
    [quest] = payload["quests"]
    assert [(o["kind"], o["target"]) for o in quest["objectives"]] == [
        ("visit", deepest["id"]),
        ("kill", next(n["id"] for n in hostiles if n["spawn_room"] == deepest["id"])),
        ("collect", loot["id"]),
    ]
    giver = BASE.by_id["npcs"][quest["giver"]]
    assert giver["kind"] in ("fixer", "vendor", "civilian")
    if district is not None:
        assert BASE.by_id["rooms"][giver["spawn_room"]]["district"] == district


@settings(max_examples=30, deadline=None)
@given(
    SEEDS,
    st.sampled_from(
        [
            {"tags": ["dungeon"]},
            {"kind": "dungeon"},
            *({"tags": ["dungeon"], "district": d} for d in DISTRICTS),
            {"kind": "dungeon", "district": "neon.district.kabuki", "tags": ["quests"]},
        ]
    ),
)
def test_a_dungeon_is_an_underground_branch_with_foes_loot_and_a_quest(
    seed: int, context: dict[str, Any]
) -> None:
    proposal = generate("WORLD_EXPANSION", seed, context=context)
    _assert_dungeon(proposal, context.get("district"))
    assert_sound(proposal, None, context)


def test_the_dungeon_tag_changes_what_grows() -> None:
    road = generate("WORLD_EXPANSION", 8)
    dungeon = generate("WORLD_EXPANSION", 8, context={"tags": ["dungeon"]})
    assert "quests" not in road.payload and "dungeon" not in road.tags
    assert dungeon.payload["quests"] and dungeon.payload != road.payload
    # kind wins over the tags, both ways
    assert "dungeon" not in generate("WORLD_EXPANSION", 8, context={"tags": ["dungeon"], "kind": "road"}).tags
    with pytest.raises(BadInputError) as err:
        generate("WORLD_EXPANSION", 8, context={"kind": "castle"})
    assert err.value.code == "bad_context" and err.value.path == "kind"


def test_both_entrances_manhole_and_sewer_breach_occur() -> None:
    kinds = set()
    for seed in range(40):
        proposal = generate("WORLD_EXPANSION", seed, context={"kind": "dungeon"})
        [entrance] = [r for r in proposal.payload["rooms"] if BASE.get("rooms", r["id"]) is not None]
        kinds.add("manhole" if entrance["coords"]["level"] == 0 else "breach")
    assert kinds == {"manhole", "breach"}


def test_a_named_entrance_is_used_and_a_bad_one_refused() -> None:
    street = next(e for e in dungeon_entrances(BASE) if BASE.by_id["rooms"][e]["coords"]["level"] == 0)
    proposal = generate("WORLD_EXPANSION", 2, context={"kind": "dungeon", "growth_point": street})
    [entrance] = [r for r in proposal.payload["rooms"] if r["id"] == street]
    assert entrance["exits"]["d"].startswith("neon.gen.room.")
    assert "neon.room.st_05_05" not in dungeon_entrances(BASE)  # already has a way down
    for bad in ("neon.room.st_05_05", "neon.room.nowhere"):
        with pytest.raises(BadInputError) as err:
            generate("WORLD_EXPANSION", 2, context={"kind": "dungeon", "growth_point": bad})
        assert err.value.path == "growth_point"
    with pytest.raises(BadInputError):
        generate("WORLD_EXPANSION", 2, context={"kind": "dungeon", "district": "neon.district.atlantis"})


def test_a_dungeon_keeps_the_room_throttle() -> None:
    for seed in range(15):
        rules = Guardrails(max_rooms_per_expansion=2)
        proposal = generate("WORLD_EXPANSION", seed, guardrails=rules, context={"kind": "dungeon"})
        assert proposal.budget["rooms"] <= 2 and check(proposal, rules) == []
        assert map_problems(BASE, proposal) == []


def test_the_directors_quests_done_rule_gets_a_dungeon_in_that_district(tmp_path: Path) -> None:
    store = AiStore(tmp_path / "ai.sqlite3")
    try:
        director = Director(store, world_seed=11, tick_hz=50)
        director.set("chaos", 0, "test")
        director.set("expansion", 100, "test")
        event = {"kind": "quests_exhausted", "district": "neon.district.harbor", "done": 3, "total": 3}
        [job] = director.observe(None, [event], {}, 10)
    finally:
        store.close()
    proposal = generate(job.type, job.seed, context=job.context)
    _assert_dungeon(proposal, "neon.district.harbor")


def test_a_dungeon_goes_active_and_the_city_grows_on(neon_gov: Governor) -> None:
    proposal = generate(
        "WORLD_EXPANSION", 4, content=neon_gov.active_content(), context={"tags": ["dungeon"]}
    )
    verdict = submit(neon_gov, proposal)
    assert verdict.state == State.ACTIVE, [r.as_dict() for r in verdict.reasons]
    rooms = {r["id"] for r in neon_gov.reference_world().meta["neon_content"]["rooms"]}
    assert {r["id"] for r in proposal.payload["rooms"]} <= rooms
    # a second dungeon, dug into the city as it now is, keeps the map too
    again = generate("WORLD_EXPANSION", 5, content=neon_gov.active_content(), context={"kind": "dungeon"})
    assert map_problems(WorldView("neon", neon_gov.active_content()), again) == []
    assert submit(neon_gov, again).state == State.ACTIVE


def _grow(
    content: dict[str, list[dict[str, Any]]], payload: dict[str, Any]
) -> dict[str, list[dict[str, Any]]]:
    out = {d: list(v) for d, v in content.items()}
    for domain, objects in payload.items():
        merged = {o["id"]: o for o in out.get(domain, [])}
        merged.update({o["id"]: o for o in objects})
        out[domain] = [merged[k] for k in sorted(merged)]
    return out


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["road", "dungeon"]), SEEDS), min_size=2, max_size=4))
def test_dungeons_and_roads_stack_and_keep_the_map(steps: list[tuple[str, int]]) -> None:
    content: dict[str, list[dict[str, Any]]] = {}
    for kind, seed in steps:
        view = WorldView("neon", content)
        proposal = generate("WORLD_EXPANSION", seed, content=content, context={"kind": kind})
        assert map_problems(view, proposal) == []
        assert check(proposal, Guardrails(), content=content) == []
        assert_sound(proposal, content or None, {"kind": kind})
        content = _grow(content, proposal.payload)
