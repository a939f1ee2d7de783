"""The city grows like a city: a road extended from a growth point, lots along it, and buildings
(an entrance off a street plus floors) for a faction's headquarters or a crowded sector.

A new road's far end is a growth point, and for some seeds (``GLITCH_DOOR_PERMILLE``; always
when the road grew from one) a glitch door: ``extensions["neon.glitch_door"]``, where the
director's ``glitch_doors_only`` toggle still lets the city grow.

The map only ever gains: new rooms come with two-way exits; an existing room that gains an exit
is emitted as a replacing object with every old exit, field and word kept and a greater version.
``map_problems`` checks the invariants a proposal names (``exits_kept``, ``rooms_kept``,
``coords_free``, ``two_way_exits``, ``rooms_reachable``); ``generate`` refuses a draft that breaks
one, so a bug here can never reach the pipeline as a broken map.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ouroboros.ai.generators import _words as words
from ouroboros.ai.generators._draft import Draft, text_arg
from ouroboros.ai.generators._world import (
    COMPASS,
    OPPOSITE,
    WorldView,
    bump_version,
    faction_names,
    reachable,
)
from ouroboros.ai.generators.npc import make_npc
from ouroboros.ai.proposals import Proposal, ProposalType, SeededDraws
from ouroboros.content import LIMITS
from ouroboros.content.rules import Guardrails, Violation
from ouroboros.errors import BadInputError, GuardrailError

__all__ = [
    "DIRECTION_NAMES",
    "GLITCH_DOOR_KEY",
    "GLITCH_DOOR_PERMILLE",
    "GROWTH_INVARIANTS",
    "MAP_INVARIANTS",
    "cell_of",
    "enforce_map",
    "generate_building",
    "generate_expansion",
    "growth_points",
    "link",
    "map_problems",
    "new_room",
    "with_exit",
]

#: a room's ``extensions`` key marking a glitch door (neon's director signals tag such a growth point
#: ``glitch_door``, and the director's ``glitch_doors_only`` toggle grows only there)
GLITCH_DOOR_KEY = "neon.glitch_door"
#: how often a new road ends in a glitch door (always when it grew from one: the glitch spreads)
GLITCH_DOOR_PERMILLE = 400
GLITCH_SENTENCE = "At the road's end the air flickers, like a door that is not quite there."
MAP_INVARIANTS = ["exits_kept", "rooms_kept", "coords_free", "two_way_exits", "rooms_reachable"]
#: what a road or a building keeps (``guardrails.check`` verifies each, the map ones given content)
GROWTH_INVARIANTS = [*MAP_INVARIANTS, "within_budget", "refs_resolve"]
DIRECTION_NAMES = {"n": "north", "s": "south", "e": "east", "w": "west"}
#: the npc archetype that guards a faction's headquarters
FACTION_GUARDS = {
    "neon.faction.chrome_jackals": "ganger",
    "neon.faction.drain_rats": "ganger",
    "neon.faction.corp_security": "enforcer",
    "neon.faction.city_police": "enforcer",
    "neon.faction.rogue_drones": "drone",
    "neon.faction.fixers": "fixer",
    "neon.faction.vendors_guild": "vendor",
    "neon.faction.citizens": "civilian",
}


def cell_of(room: Mapping[str, Any]) -> tuple[int, int, int]:
    c = room["coords"]
    return int(c["x"]), int(c["y"]), int(c.get("level", 0))


def _free_directions(room: Mapping[str, Any], occupied: set[tuple[int, int, int]]) -> list[str]:
    x, y, level = cell_of(room)
    limit = LIMITS.max_abs_coord_units
    return [
        d
        for d, (dx, dy) in COMPASS.items()
        if d not in room.get("exits", {})
        and (x + dx, y + dy, level) not in occupied
        and abs(x + dx) <= limit
        and abs(y + dy) <= limit
    ]


def growth_points(view: WorldView) -> list[str]:
    """Street rooms a road may grow from: flagged growth points and dead ends, with a free side."""
    occupied = view.occupied()
    return [
        r["id"]
        for r in view.street_rooms()
        if (r.get("growth_point") or len(r.get("exits", {})) == 1) and _free_directions(r, occupied)
    ]


def with_exit(draft: Draft, room: Mapping[str, Any], direction: str, target: str, sentence: str) -> None:
    """Emit ``room`` again with one more exit, a greater version and ``sentence`` appended."""
    changed = copy.deepcopy(dict(room))
    changed["exits"] = {**changed.get("exits", {}), direction: target}
    changed["version"] = bump_version(changed["version"])
    description = f"{changed['description']} {sentence}"
    words_changed: tuple[str, ...] = ()
    if len(description) <= LIMITS.max_description_chars:
        changed["description"] = description
        words_changed = ("description",)
    draft.add("rooms", changed, words=words_changed)


def new_room(
    draft: Draft,
    base: Mapping[str, Any],
    cell: tuple[int, int, int],
    name: str,
    description: str,
    *,
    threat: int,
) -> dict[str, Any]:
    room: dict[str, Any] = {
        "id": draft.view.new_id("room", draft.seed, f"{cell}"),
        "version": "1.0.0",
        "name": name,
        "description": description,
        "zone": base["zone"],
        "district": base["district"],
        "threat_level": max(0, min(LIMITS.max_threat_level, threat)),
        "coords": {"x": cell[0], "y": cell[1], "level": cell[2]},
        "exits": {},
        "growth_point": False,
    }
    if base.get("corp"):
        room["corp"] = base["corp"]
    return draft.add("rooms", room)


def link(a: dict[str, Any], direction: str, b: dict[str, Any]) -> None:
    a["exits"][direction] = b["id"]
    b["exits"][OPPOSITE[direction]] = a["id"]


def map_problems(view: WorldView, proposal: Proposal) -> list[str]:
    """The map invariants ``proposal`` breaks against the content it grew from (empty: none)."""
    old = view.by_id["rooms"]
    new = {**old, **{r["id"]: r for r in proposal.payload.get("rooms", ())}}
    problems = []
    for rid, room in old.items():
        for direction, target in room.get("exits", {}).items():
            if new[rid].get("exits", {}).get(direction) != target:
                problems.append(f"exits_kept: {rid} lost its exit {direction} to {target}")
    removed = [r["id"] for r in proposal.payload.get("remove", ()) if r.get("domain") == "rooms"]
    problems += [f"rooms_kept: {rid} is removed" for rid in removed]
    added = [r for r in proposal.payload.get("rooms", ()) if r["id"] not in old]
    cells = {cell_of(r): r["id"] for r in old.values()}
    streets = {cell_of(r) for r in view.street_rooms()}
    for room in added:
        cell = cell_of(room)
        entered_from_street = any(
            new.get(t, {}).get("exits", {}).get(OPPOSITE.get(d, "")) == room["id"] and d == "out"
            for d, t in room.get("exits", {}).items()
        )
        if cell in cells and not (entered_from_street or room.get("coords", {}).get("level", 0) > 0):
            problems.append(f"coords_free: {room['id']} stands on {cells[cell]}")
        if cell in streets and room["coords"].get("level", 0) == 0 and not entered_from_street:
            problems.append(f"coords_free: {room['id']} is built on a street")
        cells.setdefault(cell, room["id"])
    for room in proposal.payload.get("rooms", ()):
        before = old.get(room["id"], {}).get("exits", {})
        for direction, target in room.get("exits", {}).items():
            back = OPPOSITE.get(direction)
            if before.get(direction) == target:
                continue  # an old exit: kept as it was, one-way or not
            if back is not None and new.get(target, {}).get("exits", {}).get(back) != room["id"]:
                problems.append(f"two_way_exits: {room['id']} {direction} -> {target} has no way back")
    spawn = sorted(r for r, room in new.items() if room.get("extensions", {}).get("neon.spawn"))
    if spawn:
        walkable = reachable(new, spawn[0])
        problems += [
            f"rooms_reachable: {r['id']} cannot be walked to" for r in added if r["id"] not in walkable
        ]
    return problems


def enforce_map(view: WorldView, proposal: Proposal) -> Proposal:
    problems = map_problems(view, proposal)
    if problems:
        raise GuardrailError(
            [Violation("invariant_broken", "/rooms", p.split(":")[0], "map invariants", p) for p in problems]
        )
    return proposal


# --- roads ------------------------------------------------------------------------------------------


def generate_expansion(
    view: WorldView, seed: int, guardrails: Guardrails, context: Mapping[str, Any]
) -> Proposal:
    draws = SeededDraws(seed, f"{view.world}:expansion")
    occupied = view.occupied()
    wanted = text_arg(context, "growth_point")
    if wanted is not None:
        start = view.get("rooms", wanted)
        if start is None:
            raise BadInputError(f"no room {wanted!r} to grow from", code="bad_context", path="growth_point")
        if not _free_directions(start, occupied) or start not in view.street_rooms():
            raise BadInputError(
                f"{wanted} is not a street room with a free side to grow from",
                code="bad_context",
                path="growth_point",
            )
    else:
        district = text_arg(context, "district")
        points = [p for p in growth_points(view) if district in (None, view.by_id["rooms"][p]["district"])]
        if not points:
            raise BadInputError("no growth point left to extend the city from", code="bad_context")
        start = view.by_id["rooms"][draws.choice(points)]
    direction = draws.choice(_free_directions(start, occupied))
    dx, dy = COMPASS[direction]
    budget = min(guardrails.max_rooms_per_expansion, draws.between(3, 8))
    road = words.road_name(draws)
    draft = Draft(ProposalType.WORLD_EXPANSION, view, seed, "expansion@1")
    x, y, level = cell_of(start)
    threat = int(start.get("threat_level", 0))
    segments: list[dict[str, Any]] = []
    for step in range(1, min(budget, draws.between(2, 4)) + 1):
        cell = (x + dx * step, y + dy * step, level)
        if cell in occupied or max(abs(cell[0]), abs(cell[1])) > LIMITS.max_abs_coord_units:
            break
        occupied.add(cell)
        threat = min(LIMITS.max_threat_level, threat + draws.between(0, 1))
        segment = new_room(
            draft, start, cell, f"{road}, Block {step}", words.road_description(draws, road), threat=threat
        )
        if segments:
            link(segments[-1], direction, segment)
        segments.append(segment)
    segments[-1]["growth_point"] = True  # the road goes on from its far end
    sides = [d for d in COMPASS if d not in (direction, OPPOSITE[direction])]
    for segment in segments:
        for side in sides:
            if len(draft.payload["rooms"]) >= budget or draws.permille() >= 500:
                continue
            sx, sy = COMPASS[side]
            cell = (segment["coords"]["x"] + sx, segment["coords"]["y"] + sy, level)
            if cell in occupied:
                continue
            occupied.add(cell)
            lot = new_room(
                draft, start, cell, f"Empty Lot off {road}", words.lot_description(draws, road),
                threat=segment["threat_level"],
            )  # fmt: skip
            lot["growth_point"] = True
            link(segment, side, lot)
    end = segments[-1]
    if start.get("extensions", {}).get(GLITCH_DOOR_KEY) or draws.permille() < GLITCH_DOOR_PERMILLE:
        end["extensions"] = {**end.get("extensions", {}), GLITCH_DOOR_KEY: True}
        glitch = f"{end['description']} {GLITCH_SENTENCE}"
        if len(glitch) <= LIMITS.max_description_chars:
            end["description"] = glitch
            draft.word("rooms", draft.payload["rooms"].index(end), "description")
    segments[0]["exits"][OPPOSITE[direction]] = start["id"]
    with_exit(
        draft,
        start,
        direction,
        segments[0]["id"],
        f"A new road, {road}, opens to the {DIRECTION_NAMES[direction]}.",
    )
    new_rooms = len(draft.payload["rooms"]) - 1
    proposal = draft.finish(
        tags=["world_expansion", "road"],
        invariants=list(GROWTH_INVARIANTS),
        budget={"rooms": new_rooms, "rooms_allowed": guardrails.max_rooms_per_expansion},
        summary=f"{road}: {len(segments)} blocks and {new_rooms - len(segments)} lots "
        f"{DIRECTION_NAMES[direction]} of {start['name']}",
    )
    return enforce_map(view, proposal)


# --- buildings --------------------------------------------------------------------------------------


def _building_site(
    view: WorldView, draws: SeededDraws, districts: list[str] | None, sector: str | None = None
) -> dict[str, Any]:
    sites = [
        r
        for r in view.street_rooms()
        if "in" not in r.get("exits", {}) and (districts is None or r["district"] in districts)
    ]
    in_sector = [r for r in sites if r["zone"] == sector]
    sites = in_sector or sites  # a sector without a free street: anywhere in the district
    if not sites:
        raise BadInputError("no street room left to put a building on", code="bad_context")
    return dict(draws.choice(sites))


def generate_building(
    view: WorldView, seed: int, guardrails: Guardrails, context: Mapping[str, Any]
) -> Proposal:
    draws = SeededDraws(seed, f"{view.world}:building")
    faction = text_arg(context, "faction")
    district = text_arg(context, "district")
    purpose = text_arg(context, "purpose") or ("hq" if faction else "residential" if district else None)
    purpose = purpose or draws.choice(["hq", "residential"])
    if purpose not in ("hq", "residential"):
        raise BadInputError(f"unknown building purpose {purpose!r} (hq, residential)", code="bad_context")
    if purpose == "hq" and faction is None:
        faction = draws.choice(sorted(FACTION_GUARDS))
    if faction is not None and faction not in FACTION_GUARDS:
        raise BadInputError(f"no headquarters for faction {faction!r}", code="bad_context", path="faction")
    if district is not None and not view.street_rooms(district):
        raise BadInputError(f"no streets in district {district!r}", code="bad_context", path="district")
    if district is not None:
        districts: list[str] | None = [district]
    elif faction is not None:  # where the faction already has people, if anywhere
        homes = {view.by_id["rooms"].get(n["spawn_room"], {}).get("district") for n in view.objects("npcs")
                 if n["faction"] == faction}  # fmt: skip
        districts = sorted(d for d in homes if d and view.street_rooms(d)) or None
    else:
        districts = None
    street = _building_site(view, draws, districts, text_arg(context, "sector"))
    owner = faction_names(view.world).get(faction or "", "") if purpose == "hq" else words.road_name(draws)
    name = words.building_name(draws, purpose, owner.removeprefix("The "))
    floors = min(guardrails.max_rooms_per_expansion, draws.between(2, 4))
    draft = Draft(ProposalType.BUILDING, view, seed, "building@1")
    x, y, _level = cell_of(street)
    threat = int(street.get("threat_level", 0))
    rooms: list[dict[str, Any]] = []
    for floor in range(floors):
        label = "Entrance" if floor == 0 else ("Top Floor" if floor == floors - 1 else f"Floor {floor}")
        scene = words.room_detail(draws)
        room = new_room(
            draft, street, (x, y, floor), f"{name}, {label}", f"Inside {name}. {scene}", threat=threat
        )
        if rooms:
            link(rooms[-1], "u", room)
        rooms.append(room)
    rooms[0]["exits"]["out"] = street["id"]
    if purpose == "hq" and faction is not None:  # how the director's signals know the faction has one
        rooms[0].setdefault("extensions", {})["neon.hq"] = faction
    with_exit(draft, street, "in", rooms[0]["id"], f"The doors of {name} stand here.")
    npcs = []
    if purpose == "hq" and faction is not None:
        archetype = FACTION_GUARDS[faction]
        npcs.append(make_npc(draft, draws, guardrails, archetype, rooms[0], faction=faction))
        npcs.append(make_npc(draft, draws, guardrails, archetype, rooms[-1], faction=faction))
    else:
        for room in rooms[1:]:
            if draws.permille() < 600:
                npcs.append(make_npc(draft, draws, guardrails, "civilian", room))
    proposal = draft.finish(
        tags=["building", purpose],
        invariants=list(GROWTH_INVARIANTS),
        budget={"rooms": floors, "rooms_allowed": guardrails.max_rooms_per_expansion, "npcs": len(npcs)},
        summary=f"{name}: {floors} floors off {street['name']}, {len(npcs)} npcs",
    )
    return enforce_map(view, proposal)
