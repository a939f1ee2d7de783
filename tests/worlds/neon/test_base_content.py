"""The neon base world (patch zero): it parses and lints clean, keeps the conventions the city code
relies on, and ``tools/author_neon_base.py`` reproduces the committed JSON byte for byte."""

from __future__ import annotations

import itertools
import json
import re
from collections import deque
from pathlib import Path
from typing import Any

import pytest
from tools import author_neon_base as author_base

from ouroboros.content import Catalog, PatchContent, lint_content, parse_content
from ouroboros.worlds.neon.params import DEFAULT_PARAMS

BASE_DIR = author_base.BASE_DIR
DOMAIN_FILES = (
    "dialogue",
    "economy_tuning",
    "items",
    "npc_behaviors",
    "npcs",
    "quests",
    "rooms",
    "world_params",
)
OPPOSITE = {"n": "s", "s": "n", "e": "w", "w": "e", "u": "d", "d": "u", "in": "out", "out": "in"}
GRID_ID = re.compile(r"^neon\.room\.st_(\d\d)_(\d\d)$")
RARITY_ORDER = ("common", "uncommon", "rare", "epic", "legendary")

Json = dict[str, Any]


def _load(name: str) -> list[Json]:
    data = json.loads((BASE_DIR / f"{name}.json").read_text(encoding="utf-8"))
    assert list(data) == [name]
    objects: list[Json] = data[name]
    return objects


@pytest.fixture(scope="module")
def base() -> dict[str, list[Json]]:
    return {name: _load(name) for name in (*DOMAIN_FILES, "factions")}


@pytest.fixture(scope="module")
def content(base: dict[str, list[Json]]) -> PatchContent:
    return parse_content({d: base[d] for d in DOMAIN_FILES})


@pytest.fixture(scope="module")
def rooms(base: dict[str, list[Json]]) -> dict[str, Json]:
    return {r["id"]: r for r in base["rooms"]}


@pytest.fixture(scope="module")
def npcs(base: dict[str, list[Json]]) -> dict[str, Json]:
    return {n["id"]: n for n in base["npcs"]}


@pytest.fixture(scope="module")
def items(base: dict[str, list[Json]]) -> dict[str, Json]:
    return {i["id"]: i for i in base["items"]}


def _grid(rooms: dict[str, Json]) -> dict[tuple[int, int], Json]:
    found = {}
    for room_id, room in rooms.items():
        match = GRID_ID.match(room_id)
        if match:
            found[(int(match[1]), int(match[2]))] = room
    return found


def _reachable(rooms: dict[str, Json], start: str, skip: frozenset[str] = frozenset()) -> dict[str, int]:
    """Room id -> steps from ``start``, walking every exit whose direction is not in ``skip``."""
    seen = {start: 0}
    queue = deque([start])
    while queue:
        here = queue.popleft()
        for direction, there in rooms[here]["exits"].items():
            if direction not in skip and there in rooms and there not in seen:
                seen[there] = seen[here] + 1
                queue.append(there)
    return seen


# --- the files ------------------------------------------------------------------------------------


def test_every_file_holds_one_domain_sorted_by_id_with_version_1(base: dict[str, list[Json]]) -> None:
    assert sorted(p.stem for p in BASE_DIR.glob("*.json")) == sorted(base)
    for name, objects in base.items():
        ids = [o["id"] for o in objects]
        assert ids == sorted(ids) and len(set(ids)) == len(ids), name
        if name != "factions":
            assert {o["version"] for o in objects} == {"1.0.0"}, name


def test_the_base_world_parses_and_lints_clean(content: PatchContent) -> None:
    assert lint_content(content, Catalog.empty()) == []


def test_author_base_reproduces_the_committed_files(tmp_path: Path) -> None:
    author_base.main(tmp_path)
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(p.name for p in BASE_DIR.glob("*.json"))
    for name in written:
        assert (tmp_path / name).read_bytes() == (BASE_DIR / name).read_bytes(), name


# --- rooms ----------------------------------------------------------------------------------------


def test_the_street_grid_is_20_by_20_with_reciprocal_compass_exits(rooms: dict[str, Json]) -> None:
    grid = _grid(rooms)
    assert sorted(grid) == [(x, y) for x in range(20) for y in range(20)]
    steps = {"n": (0, 1), "s": (0, -1), "e": (1, 0), "w": (-1, 0)}
    for (x, y), room in grid.items():
        assert room["coords"] == {"x": x, "y": y, "level": 0}
        compass = {d: t for d, t in room["exits"].items() if d in steps}
        expected = {
            d: f"neon.room.st_{x + dx:02d}_{y + dy:02d}"
            for d, (dx, dy) in steps.items()
            if 0 <= x + dx < 20 and 0 <= y + dy < 20
        }
        assert compass == expected, room["id"]


def test_four_districts_one_per_quadrant(rooms: dict[str, Json]) -> None:
    grid = _grid(rooms)
    quadrants: dict[tuple[bool, bool], set[str]] = {}
    for (x, y), room in grid.items():
        quadrants.setdefault((x < 10, y < 10), set()).add(room["district"])
    assert all(len(d) == 1 for d in quadrants.values())
    assert len(set().union(*quadrants.values())) == 4


def test_every_exit_leads_to_a_room_with_a_way_back(rooms: dict[str, Json]) -> None:
    for room_id, room in rooms.items():
        for direction, target in room["exits"].items():
            assert target in rooms, (room_id, direction)
            assert rooms[target]["exits"].get(OPPOSITE[direction]) == room_id, (room_id, direction)


def test_exactly_one_spawn_room_and_every_room_is_reachable_from_it(rooms: dict[str, Json]) -> None:
    spawns = [r for r, room in rooms.items() if room.get("extensions", {}).get("neon.spawn")]
    assert spawns == ["neon.room.st_10_10"]
    assert set(_reachable(rooms, spawns[0])) == set(rooms)


def test_threat_rises_away_from_the_centre(rooms: dict[str, Json]) -> None:
    grid = _grid(rooms)

    def distance(x: int, y: int) -> int:
        return abs(2 * x - 19) + abs(2 * y - 19)

    for (x, y), room in grid.items():
        for dx, dy in ((0, 1), (0, -1), (1, 0), (-1, 0)):
            other = grid.get((x + dx, y + dy))
            if other and other["district"] == room["district"] and distance(x + dx, y + dy) > distance(x, y):
                assert other["threat_level"] >= room["threat_level"], (room["id"], other["id"])
    assert all(grid[c]["threat_level"] == 0 for c in ((9, 9), (9, 10), (10, 9), (10, 10)))
    assert all(grid[c]["threat_level"] >= 8 for c in ((0, 0), (0, 19), (19, 0), (19, 19)))


def test_growth_points_are_the_edges_and_a_few_open_lots(rooms: dict[str, Json]) -> None:
    grid = _grid(rooms)
    lots = 0
    for (x, y), room in grid.items():
        edge = x in (0, 19) or y in (0, 19)
        if edge:
            assert room.get("growth_point") is True, room["id"]
        if room.get("growth_point"):
            assert "barricade" in room["description"] or "empty lot" in room["description"], room["id"]
            lots += not edge
    assert lots >= 3
    assert not any(r.get("growth_point") for r in rooms.values() if not GRID_ID.match(r["id"]))


def test_room_text_has_no_braces_and_one_to_three_sentences(rooms: dict[str, Json]) -> None:
    for room in rooms.values():
        assert not set("{}") & set(room["name"] + room["description"]), room["id"]
        sentences = re.findall(r"[.!?](?:\s|$)", room["description"])
        assert 1 <= len(sentences) <= 3, room["id"]


def test_buildings_have_one_to_four_rooms_entered_by_in(rooms: dict[str, Json]) -> None:
    entrances = {r: room["exits"]["in"] for r, room in rooms.items() if "in" in room["exits"]}
    assert len(entrances) >= 12
    assert all(GRID_ID.match(street) for street in entrances)
    interiors = {r for r in rooms if not GRID_ID.match(r) and not r.startswith("neon.room.sewer_")}
    claimed: set[str] = set()
    for entrance in entrances.values():
        building = set(_reachable(rooms, entrance, skip=frozenset({"out"})))
        assert 1 <= len(building) <= 4, entrance
        assert building <= interiors and not building & claimed, entrance
        assert all(rooms[r]["coords"]["level"] >= 0 for r in building)
        assert [r for r in building if "out" in rooms[r]["exits"]] == [entrance]
        claimed |= building
    assert claimed == interiors


def test_the_sewer_is_reached_by_manholes_and_hides_the_boss_deep_inside(
    rooms: dict[str, Json], npcs: dict[str, Json]
) -> None:
    sewer = {r for r in rooms if r.startswith("neon.room.sewer_")}
    assert len([r for r in sewer if rooms[r]["coords"]["level"] == -1]) >= 15
    manholes = [r for r, room in rooms.items() if GRID_ID.match(r) and room["exits"].get("d") in sewer]
    assert len(manholes) >= 3
    bosses = [n for n in npcs.values() if n["kind"] == "boss"]
    assert len(bosses) == 1 and bosses[0]["spawn_room"] in sewer
    for manhole in manholes:
        assert _reachable(rooms, manhole)[bosses[0]["spawn_room"]] >= 5


def test_floor_items_exist(rooms: dict[str, Json], items: dict[str, Json]) -> None:
    floor = [i for room in rooms.values() for i in room.get("extensions", {}).get("neon.items", [])]
    assert floor and set(floor) <= set(items)


# --- items ----------------------------------------------------------------------------------------


def test_items_follow_the_slot_and_stat_conventions(items: dict[str, Json]) -> None:
    assert len(items) >= 30
    armour_slots = {"head", "body", "legs", "feet", "hands"}
    for item in items.values():
        stats, slot, kind = item["stats"], item["slot"], item["kind"]
        if kind == "weapon":
            assert slot == "main_hand" and stats["damage"] > 0, item["id"]
        elif kind == "armour":
            assert slot in armour_slots and stats["armour"] > 0, item["id"]
        elif kind == "implant":
            assert slot in {"neural", "optic", "limb"}, item["id"]
            assert stats["accuracy"] > 0 or stats["armour"] > 0 or stats["damage"] > 0, item["id"]
        elif kind == "consumable":
            assert slot is None and stats["heal"] > 0, item["id"]
        else:
            assert slot is None and not any(stats.values()), item["id"]
    assert {i["kind"] for i in items.values()} == {"weapon", "armour", "implant", "consumable", "junk"}
    assert 35 <= max(i["stats"]["damage"] for i in items.values()) <= 40


def test_prices_rise_with_rarity(items: dict[str, Json]) -> None:
    bands = [[i["price"] for i in items.values() if i["rarity"] == r] for r in RARITY_ORDER]
    assert all(bands)
    for cheaper, dearer in itertools.pairwise(bands):
        assert max(cheaper) < min(dearer)


# --- factions, npcs, behaviours -------------------------------------------------------------------


def test_factions_cover_every_npc_and_the_hostile_ones_hate_players(
    base: dict[str, list[Json]], npcs: dict[str, Json]
) -> None:
    factions = {f["id"]: f for f in base["factions"]}
    assert len(factions) >= 5 and "neon.faction.players" in factions
    for faction in factions.values():
        assert faction["name"] and set(faction["hostile_to"]) <= set(factions)
    assert {n["faction"] for n in npcs.values()} <= set(factions)
    for npc in npcs.values():
        if npc["kind"] in ("ganger", "drone", "boss"):
            assert "neon.faction.players" in factions[npc["faction"]]["hostile_to"], npc["id"]


def test_npc_kinds_behaviours_and_loot(base: dict[str, list[Json]], npcs: dict[str, Json]) -> None:
    behaviors = {b["id"]: b for b in base["npc_behaviors"]}
    assert len(npcs) >= 20

    def actions(npc: Json) -> set[str]:
        return {s["action"] for s in behaviors[npc["behavior"]]["states"].values()}

    def initial_action(npc: Json) -> str:
        behavior = behaviors[npc["behavior"]]
        return str(behavior["states"][behavior["initial"]]["action"])

    by_kind: dict[str, list[Json]] = {}
    for npc in npcs.values():
        by_kind.setdefault(npc["kind"], []).append(npc)
        assert npc["respawn_ticks"] >= 0
        credits = npc.get("extensions", {}).get("neon.credits", 1)
        assert isinstance(credits, int) and credits > 0
    assert set(by_kind) == {"vendor", "fixer", "ganger", "corp_security", "drone", "boss", "civilian"}
    assert len(by_kind["vendor"]) >= 4 and len(by_kind["fixer"]) >= 3
    assert all(n["stock"] and initial_action(n) == "vendor" for n in by_kind["vendor"])
    assert all(initial_action(n) == "aggressive" and "flee" in actions(n) for n in by_kind["ganger"])
    assert all(
        {"patrol", "idle"} & actions(n) and "aggressive" in actions(n) for n in by_kind["corp_security"]
    )
    assert any(initial_action(n) == "patrol" for n in by_kind["corp_security"])
    assert all(initial_action(n) == "wander" for n in by_kind["drone"])
    assert all(n["respawn_ticks"] >= 3000 for n in by_kind["boss"])
    for behavior in behaviors.values():
        assert all(s["action"] != "script" for s in behavior["states"].values())


def test_vendors_and_fixers_talk(base: dict[str, list[Json]], npcs: dict[str, Json]) -> None:
    dialogue = {d["id"]: d for d in base["dialogue"]}
    for npc in npcs.values():
        if npc["kind"] in ("vendor", "fixer"):
            talk = dialogue[npc["dialogue"]]
            assert talk["npc"] == npc["id"] and 2 <= len(talk["lines"]) <= 5, npc["id"]


# --- quests and the rest --------------------------------------------------------------------------


def test_six_starter_quests_from_fixers_that_can_be_done(
    base: dict[str, list[Json]], rooms: dict[str, Json], npcs: dict[str, Json]
) -> None:
    quests = base["quests"]
    assert len(quests) == 6
    assert {o["kind"] for q in quests for o in q["objectives"]} == {"kill", "collect", "deliver", "visit"}
    assert any(q["prerequisites"] for q in quests)
    floor = {i for room in rooms.values() for i in room.get("extensions", {}).get("neon.items", [])}
    dropped = {d["item"] for n in npcs.values() if n["respawn_ticks"] > 0 for d in n["drops"]}
    for quest in quests:
        assert npcs[quest["giver"]]["kind"] == "fixer", quest["id"]
        for objective in quest["objectives"]:
            if objective["kind"] == "kill":
                assert npcs[objective["target"]]["respawn_ticks"] > 0, quest["id"]
            elif objective["kind"] == "collect":
                assert objective["target"] in floor | dropped, quest["id"]
            elif objective["kind"] == "deliver":
                assert objective["to"] in npcs, quest["id"]


def test_economy_and_world_params(base: dict[str, list[Json]]) -> None:
    (economy,) = base["economy_tuning"]
    assert economy["scope"] == "*" and set(economy["multipliers"].values()) == {1000}
    (params,) = base["world_params"]
    assert params["id"] == "neon.params.base" and params["world"] == "neon"
    values = params["params"]
    assert set(values) <= set(DEFAULT_PARAMS)  # the city knows every parameter the base sets
    # durations are in ticks: a combat round is a second and the economy reports once a minute
    assert values["combat_round_ticks"] == values["tick_hz"]
    assert values["economy_report_ticks"] == 60 * values["tick_hz"]
