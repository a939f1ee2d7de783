"""Procedural generation rules (``procgen_rules`` content) driving spawns in the running city.

A rule of kind ``npc_spawn`` keeps copies of its template npcs alive in its zone (every street
and room of the zone, or the whole city without one); ``item_drop`` keeps copies of its template
items lying on the floors there. Both respect the rule's caps: at most ``spawn_count`` copies, and
at most ``area_density_permille`` per mille of the area's rooms. A pass every
``PROCGEN_EVERY_TICKS`` adds at most one copy per rule, so a new rule fills its zone gradually and
a copy that dies or is picked up is replaced at the same pace. Hostile copies never go into the
starter district. ``room_block`` and ``quest_chain`` rules are for generators, which neon has none
of at run time: its content check refuses them.

A copy is an npc of the template's kind whose home is not the template's own spawn room (so it is
counted without extra state, survives a snapshot, and dies without scheduling the template's
respawn).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ouroboros.engine import World
from ouroboros.worlds.neon import actions, maps
from ouroboros.worlds.neon import tables as tb
from ouroboros.worlds.neon.city import roll, slots, spawn_item

PROCGEN_EVERY_TICKS = 250  # five seconds at neon's default pace
RUN_KINDS = ("npc_spawn", "item_drop")


def area(t: tb.Tables, rule: dict[str, Any], hostile: bool = False) -> list[str]:
    """The rooms a rule may fill, sorted (so draws are the same on a replay)."""
    zone = rule.get("zone")
    rooms = sorted(r for r, room in t.rooms.items() if zone is None or room.get("zone") == zone)
    if hostile:
        safe = maps.safe_rooms(t)
        rooms = [r for r in rooms if r not in safe]
    return rooms


def cap(rule: dict[str, Any], rooms: int) -> int:
    return min(int(rule["spawn_count"]), rooms * int(rule.get("area_density_permille", 100)) // 1000)


def is_copy(world: World, npc: int, t: tb.Tables) -> bool:
    """An npc some rule spawned: its home is not its template's spawn room."""
    data = actions.npc_data(world, npc, t)
    home = slots(world).id_of("room", int(world.get(npc, "Npc")["home"]))
    return home != data.get("spawn_room")


def spawns(world: World) -> None:
    """The system: one copy more for each rule under its cap."""
    if world.tick % PROCGEN_EVERY_TICKS:
        return
    t = tb.tables(world)
    for rule_id in sorted(t.procgen_rules):
        rule = t.procgen_rules[rule_id]
        if rule["kind"] == "npc_spawn":
            _npc_rule(world, t, rule_id, rule)
        elif rule["kind"] == "item_drop":
            _item_rule(world, t, rule_id, rule)


def _npc_rule(world: World, t: tb.Tables, rule_id: str, rule: dict[str, Any]) -> None:
    templates = [n for n in rule["templates"] if n in t.npcs]
    if not templates:
        return
    hostile = any(actions.hostile_to_players(t.npcs[n]) for n in templates)
    rooms = set(area(t, rule, hostile))
    s = slots(world)
    protos = {s.slot("npc", n) for n in templates}
    live = 0
    for chunk in world.query("Npc"):
        for npc, proto, home in zip(
            chunk.ids.tolist(), chunk["Npc.proto"].tolist(), chunk["Npc.home"].tolist(), strict=True
        ):
            if proto in protos and s.id_of("room", home) in rooms and is_copy(world, npc, t):
                live += 1
    if live >= cap(rule, len(rooms)):
        return
    template = templates[live % len(templates)]
    choices = sorted(r for r in rooms if r != t.npcs[template]["spawn_room"])
    if choices:
        room = choices[roll(world, f"neon:procgen:{rule_id}", 0, world.tick, len(choices))]
        actions.spawn_npc(world, template, room=room)


def _item_rule(world: World, t: tb.Tables, rule_id: str, rule: dict[str, Any]) -> None:
    templates = [i for i in rule["templates"] if i in t.items]
    if not templates:
        return
    rooms = area(t, rule)
    s = slots(world)
    protos = {s.slot("item", i) for i in templates}
    floors = {s.slot("room", r) for r in rooms}
    lying = 0
    for chunk in world.query("Item"):
        on_floor = (chunk["Item.holder"] == 0) & _isin(chunk["Item.room"], floors)
        lying += int((on_floor & _isin(chunk["Item.proto"], protos)).sum())
    if lying >= cap(rule, len(rooms)) or not rooms:
        return
    room = rooms[roll(world, f"neon:procgen:{rule_id}", 0, world.tick, len(rooms))]
    spawn_item(world, s.slot("item", templates[lying % len(templates)]), room=s.slot("room", room))


def _isin(values: Any, wanted: set[int]) -> Any:
    return np.isin(values, np.fromiter(wanted, dtype=np.int64, count=len(wanted)))
