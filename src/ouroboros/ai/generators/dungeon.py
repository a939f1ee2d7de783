"""Dungeons: what the director asks for when a district's quests are all done (a ``WORLD_EXPANSION``
whose context has ``kind: "dungeon"`` or the tag ``"dungeon"``).

A dungeon is an underground branch at level -1: either a manhole opened in a street of the
district (a new shaft room under the street, entered by ``d``), or a breach in the wall of a sewer
tunnel that runs under the district. From there a tunnel of two to four chambers runs on through
free ground, growing more dangerous as it goes; hostile npcs hold it (the deepest chamber has its
strongest), a new item lies on the floor of the deepest chamber, and a peaceful npc of the
district (a fixer first) gives a quest over it: reach the deepest chamber, kill its holder, bring
back the item.

It keeps every map invariant of a road (``expansion.MAP_INVARIANTS``: no exit or room lost, new
rooms on free ground with two-way exits, all reachable from the spawn); ``generate`` refuses a
draft that breaks one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ouroboros.ai.generators import _words as words
from ouroboros.ai.generators._draft import Draft, text_arg
from ouroboros.ai.generators._world import COMPASS, OPPOSITE, WorldView
from ouroboros.ai.generators.expansion import (
    DIRECTION_NAMES,
    GROWTH_INVARIANTS,
    cell_of,
    enforce_map,
    link,
    new_room,
    with_exit,
)
from ouroboros.ai.generators.item import make_item
from ouroboros.ai.generators.npc import make_npc
from ouroboros.ai.generators.quest import PEACEFUL_KINDS, make_quest
from ouroboros.ai.proposals import Proposal, ProposalType, SeededDraws
from ouroboros.content import LIMITS
from ouroboros.content.rules import RARITY_ORDER, Guardrails
from ouroboros.errors import BadInputError

__all__ = ["DUNGEON_DISTRICT", "DUNGEON_INVARIANTS", "dungeon_entrances", "generate_dungeon"]

DUNGEON_DISTRICT = "neon.district.undercity"
DUNGEON_ZONE = "neon.zone.sewers"
#: what a dungeon keeps besides the map invariants (``guardrails.check`` verifies them too)
DUNGEON_INVARIANTS = [*GROWTH_INVARIANTS, "slot_fits_name", "item_reachable", "quest_inside"]
#: how often a dungeon breaks into a sewer tunnel rather than opening a manhole (when both can be)
SEWER_BREACH_PERMILLE = 400
LOOT_KINDS = ("weapon", "armour", "implant")
TUNNEL_NAMES = ("Collapsed Culvert", "Forgotten Service Tunnel", "Flooded Vault", "Rat Warren", "Old Cistern")
DEEPEST_NAMES = ("Nest", "Hoard Chamber", "Den", "Sump Throne", "Dead Pump Hall")


def _free_sides(cell: tuple[int, int, int], occupied: set[tuple[int, int, int]]) -> list[str]:
    x, y, level = cell
    limit = LIMITS.max_abs_coord_units
    return [
        d
        for d, (dx, dy) in COMPASS.items()
        if (x + dx, y + dy, level) not in occupied and abs(x + dx) <= limit and abs(y + dy) <= limit
    ]


def _street_above(view: WorldView, cell: tuple[int, int, int]) -> dict[str, Any] | None:
    return next((r for r in view.street_rooms() if cell_of(r) == (cell[0], cell[1], 0)), None)


def dungeon_entrances(view: WorldView, district: str | None = None) -> list[str]:
    """Rooms a dungeon may open from: streets (of ``district``) with no way down and free ground
    under them, and sewer rooms (under ``district``'s streets) with a free side; sorted ids."""
    occupied = view.occupied()
    found = []
    for room in view.street_rooms(district):
        x, y, _ = cell_of(room)
        under = (x, y, -1)
        if "d" not in room.get("exits", {}) and under not in occupied and _free_sides(under, occupied):
            found.append(room["id"])
    for room in view.rooms():
        cell = cell_of(room)
        if cell[2] != -1 or room["district"] != DUNGEON_DISTRICT:
            continue
        above = _street_above(view, cell)
        if district is not None and (above is None or above["district"] != district):
            continue
        if [d for d in _free_sides(cell, occupied) if d not in room.get("exits", {})]:
            found.append(room["id"])
    return sorted(found)


def _entrance(view: WorldView, draws: SeededDraws, context: Mapping[str, Any]) -> dict[str, Any]:
    district = text_arg(context, "district")
    if district is not None and not any(r["district"] == district for r in view.rooms()):
        raise BadInputError(f"no district {district!r}", code="bad_context", path="district")
    wanted = text_arg(context, "growth_point")
    if wanted is not None:
        if wanted not in dungeon_entrances(view):
            raise BadInputError(
                f"{wanted} is no street or sewer room a dungeon can open from",
                code="bad_context",
                path="growth_point",
            )
        return dict(view.by_id["rooms"][wanted])
    entrances = dungeon_entrances(view, district)
    if not entrances:
        where = f" in {district}" if district else ""
        raise BadInputError(f"no ground left{where} to dig a dungeon in", code="bad_context")
    streets = [e for e in entrances if cell_of(view.by_id["rooms"][e])[2] == 0]
    sewers = [e for e in entrances if e not in streets]
    # few sewers, many streets: pick the kind of entrance first, so breaches happen too
    pool = sewers if sewers and (not streets or draws.permille() < SEWER_BREACH_PERMILLE) else streets
    return dict(view.by_id["rooms"][draws.choice(pool)])


def _giver(view: WorldView, draws: SeededDraws, district: str | None) -> dict[str, Any]:
    peaceful = view.npcs_of_kind(*PEACEFUL_KINDS)
    local = [n for n in peaceful if view.by_id["rooms"].get(n["spawn_room"], {}).get("district") == district]
    pool = [n for n in local if n["kind"] == "fixer"] or local or view.npcs_of_kind("fixer") or peaceful
    if not pool:
        raise BadInputError("the content has no peaceful npc to give the dungeon's quest", code="bad_context")
    return dict(draws.choice(pool))


def generate_dungeon(
    view: WorldView, seed: int, guardrails: Guardrails, context: Mapping[str, Any]
) -> Proposal:
    draws = SeededDraws(seed, f"{view.world}:dungeon")
    entrance = _entrance(view, draws, context)
    above = entrance if cell_of(entrance)[2] == 0 else _street_above(view, cell_of(entrance))
    district = text_arg(context, "district") or (above or entrance)["district"]
    occupied = view.occupied()
    draft = Draft(ProposalType.WORLD_EXPANSION, view, seed, "dungeon@1")
    name = draws.choice(TUNNEL_NAMES)
    under = (above or entrance)["name"]
    threat = min(LIMITS.max_threat_level, int(entrance.get("threat_level", 0)) + 2)
    base = {"zone": DUNGEON_ZONE, "district": DUNGEON_DISTRICT}
    budget = guardrails.max_rooms_per_expansion
    rooms: list[dict[str, Any]] = []
    if cell_of(entrance)[2] == 0:  # a manhole: a shaft under the street, entered by "d"
        x, y, _ = cell_of(entrance)
        shaft = new_room(
            draft, base, (x, y, -1), f"Manhole Shaft under {under}",
            f"Rusted rungs lead up to {under}. {words.room_detail(draws)}", threat=threat,
        )  # fmt: skip
        occupied.add((x, y, -1))
        shaft["exits"]["u"] = entrance["id"]
        rooms.append(shaft)
        way_in, anchor = "d", shaft
    else:  # a breach in a sewer wall
        sides = [d for d in _free_sides(cell_of(entrance), occupied) if d not in entrance.get("exits", {})]
        way_in, anchor = draws.choice(sides), entrance
    direction = way_in if way_in != "d" else draws.choice(_free_sides(cell_of(anchor), occupied))
    x, y, level = cell_of(anchor)
    dx, dy = COMPASS[direction]
    for step in range(1, 1 + draws.between(2, 4)):
        cell = (x + dx * step, y + dy * step, level)
        if (
            len(rooms) >= budget
            or cell in occupied
            or max(abs(cell[0]), abs(cell[1])) > LIMITS.max_abs_coord_units
        ):
            break
        occupied.add(cell)
        threat = min(LIMITS.max_threat_level, threat + draws.between(0, 1))
        chamber = new_room(
            draft, base, cell, f"{name}, Chamber {len(rooms) + (1 if way_in != 'd' else 0)}",
            f"A tunnel no map shows, under {under}. {words.room_detail(draws)}", threat=threat,
        )  # fmt: skip
        if rooms:
            link(rooms[-1], direction, chamber)
        rooms.append(chamber)
    if way_in == "d":
        with_exit(draft, entrance, "d", rooms[0]["id"], "A manhole cover lies pried open here.")
    else:
        rooms[0]["exits"][OPPOSITE[way_in]] = entrance["id"]
        with_exit(draft, entrance, way_in, rooms[0]["id"], "A fresh breach in the wall opens on a tunnel.")
    deepest = rooms[-1]
    deepest["name"] = f"{name}, {draws.choice(DEEPEST_NAMES)}"
    draft.word("rooms", draft.payload["rooms"].index(deepest), "name")
    # who holds it: the strongest in the deepest chamber, more on the way
    holders = [
        make_npc(draft, draws, guardrails, draws.choice(["ganger", "drone"]), room)
        for room in rooms[1:-1]
        if draws.permille() < 700
    ]
    tier = view.tier_of(deepest)
    leader = make_npc(draft, draws, guardrails, "ganger", deepest, level=min(16, 6 + 3 * tier))
    holders.append(leader)
    # the loot: a new item on the floor of the deepest chamber
    rarity = RARITY_ORDER[min(2, tier - 1)]
    loot, _spent, _allowed = make_item(draft, draws, guardrails, draws.choice(list(LOOT_KINDS)), rarity)
    deepest["extensions"] = {"neon.items": [loot["id"]]}
    # difficulty points as ``quest._node`` counts them
    visit_points = 3 * int(deepest["threat_level"]) + 5
    collect_points = 5 * (RARITY_ORDER.index(rarity) + 1)
    objectives = [
        ({"kind": "visit", "target": deepest["id"], "count": 1}, visit_points, deepest["name"]),
        ({"kind": "kill", "target": leader["id"], "count": 1}, int(leader["level"]), leader["name"]),
        ({"kind": "collect", "target": loot["id"], "count": 1}, collect_points, loot["name"]),
    ]
    giver = _giver(view, draws, district)
    quest = make_quest(draft, draws, giver, "dungeon", objectives=objectives)
    proposal = draft.finish(
        tags=["world_expansion", "dungeon"],
        invariants=list(DUNGEON_INVARIANTS),
        budget={
            "rooms": len(rooms),
            "rooms_allowed": guardrails.max_rooms_per_expansion,
            "npcs": len(holders),
            "credits": quest["rewards"]["credits"],
            "credits_allowed": guardrails.max_money_drop,
        },
        summary=f"dungeon {name}: {len(rooms)} rooms {DIRECTION_NAMES[direction]} under {under}, "
        f"{len(holders)} hostile npcs, loot {loot['name']!r}, quest {quest['name']!r} from {giver['name']}",
    )
    return enforce_map(view, proposal)
