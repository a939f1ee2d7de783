"""The neon plugin: one ``build(world)`` registers components, inputs, systems and the start state
of the city (every npc at its spawn room, loot on the floors).

Inputs, all applied at the tick boundary and recorded in the input log:

- ``neon.enter {"name"}``: a character comes online (created at the spawn room on first entry);
- ``neon.leave {"name"}``: it goes offline, keeping its place, items, money and jobs;
- ``neon.command {"name", "line"}``: one command line of an online character;
- ``neon.operator_move {"name", "room", "actor", "reason"}``: an operator moves a character
  (``operator``).
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Mapping
from typing import Any

from ouroboros.engine import World
from ouroboros.errors import WorldError
from ouroboros.worlds.neon import actions, commands, economy, experience, operator, procgen
from ouroboros.worlds.neon import systems as s
from ouroboros.worlds.neon import tables as tb
from ouroboros.worlds.neon.city import player_name, room_of, slots, spawn_item, state, tell, tell_room
from ouroboros.worlds.neon.components import ALL, PLAYER

NAME = re.compile(r"^[A-Z][a-z]{2,19}$")
MAX_LINE_CHARS = 1024
ENTER, LEAVE, COMMAND = "neon.enter", "neon.leave", "neon.command"


def _check(keys: set[str]) -> Any:
    def check(payload: Any) -> dict[str, Any]:
        if not isinstance(payload, Mapping) or set(payload) != keys:
            raise WorldError(f"takes an object with exactly {sorted(keys)}")
        name = payload["name"]
        if not isinstance(name, str) or not NAME.match(name):
            raise WorldError("name must be 3-20 letters, capitalised")
        if "line" in keys:
            line = payload["line"]
            if not isinstance(line, str) or len(line) > MAX_LINE_CHARS:
                raise WorldError(f"line must be a string of at most {MAX_LINE_CHARS} characters")
        return dict(payload)

    return check


_PLAYER_INDEX: weakref.WeakKeyDictionary[World, tuple[list[str], int, dict[str, int]]] = (
    weakref.WeakKeyDictionary()
)


def find_player(world: World, name: str) -> int | None:
    """The entity of the character ``name``. Derived from the ``Player`` columns (characters are
    never despawned), so the digest need not carry a second copy of it."""
    names: list[str] = state(world)["player_names"]
    hit = _PLAYER_INDEX.get(world)
    if hit is None or hit[0] is not names or hit[1] != len(names):
        index = {
            names[h]: e
            for c in world.query("Player")
            for e, h in zip(c.ids.tolist(), c["Player.handle"].tolist(), strict=True)
        }
        hit = _PLAYER_INDEX[world] = (names, len(names), index)
    entity = hit[2].get(name)
    return entity if entity is not None and world.is_alive(entity) else None


def _enter(world: World, payload: dict[str, Any]) -> None:
    name = payload["name"]
    player = find_player(world, name)
    t = tb.tables(world)
    if player is None:
        neon = state(world)
        neon["player_names"].append(name)
        p = t.params
        (player,) = world.spawn_batch(PLAYER, 1, {
            "Place.room": slots(world).slot("room", t.spawn_room),
            "Actor.hp": p["player_hp"], "Actor.max_hp": p["player_hp"], "Actor.damage": p["player_damage"],
            "Actor.armour": 0, "Actor.accuracy": p["player_accuracy"], "Actor.target": 0, "Actor.attacker": 0,
            "Player.handle": len(neon["player_names"]) - 1, "Player.online": 1, "Player.xp": 0,
            "Player.credits": p["start_credits"], "Player.deaths": 0, "Player.revive_at": 0,
        })  # fmt: skip
        player = int(player)
        neon["economy"]["sources"] += p["start_credits"]
        tell(world, player, "You blink awake in the rebirth booth. Type 'help' for commands.", "system")
    elif world.get(player, "Player")["online"]:
        return
    else:
        world.set(player, "Player", online=1)
        tell(world, player, f"Welcome back, {name}.", "system")
    experience.session_started(world, player)
    tell_room(world, room_of(world, player), f"{name} steps out of the rain.", exclude=(player,))
    actions.describe_room(world, player)
    actions.vitals(world, player)


def _leave(world: World, payload: dict[str, Any]) -> None:
    player = find_player(world, payload["name"])
    if player is None or not world.get(player, "Player")["online"]:
        return
    tell_room(world, room_of(world, player), f"{payload['name']} jacks out.", exclude=(player,))
    experience.session_ended(world, player)
    world.set(player, "Player", online=0)
    world.set(player, "Actor", target=0)


def _command(world: World, payload: dict[str, Any]) -> None:
    player = find_player(world, payload["name"])
    if player is None or not world.get(player, "Player")["online"]:
        return
    commands.run(world, player, payload["line"])


def new_state() -> dict[str, Any]:
    return {
        "room_ids": [], "item_ids": [], "npc_ids": [], "player_names": [],
        "respawn": {}, "quests": {}, "talk": {}, "guard": {}, "held": [],
        "economy": economy.new_economy(), "retired_items": {}, "retired_rooms": {},
    }  # fmt: skip


class NeonPlugin:
    """The neon city on ``content`` (default: the base world, patch zero)."""

    name = "neon"

    def __init__(self, content: Mapping[str, Any] | None = None) -> None:
        self.content = dict(content) if content is not None else tb.base_content()
        tb.build_tables(self.content)  # refuse content the city cannot run, now

    def build(self, world: World) -> None:
        for comp in ALL:
            world.register_component(comp)
        world.meta.update({"world": "neon", "config": {}, "neon_content": self.content})
        world.resources["neon"] = new_state()
        world.register_input(ENTER, _enter, _check({"name"}))
        world.register_input(LEAVE, _leave, _check({"name"}))
        world.register_input(COMMAND, _command, _check({"name", "line"}))
        operator.register(world)
        every = s.ALL_COMPONENTS
        world.add_system("populate", populate, phase="startup", reads=every, writes=every)
        # combat first: the npcs react to what it did (attacked, low_hp, target_lost) this tick
        world.add_system("combat", s.combat, reads=every, writes=every)
        world.add_system("npc_ai", s.npc_ai, reads=every, writes=every, after=["combat"])
        world.add_system("regen", s.regen, reads=every, writes=["Actor"], after=["npc_ai"])
        world.add_system("respawn", s.respawn, phase="post_tick", reads=every, writes=every)
        world.add_system(
            "economy_report", s.economy_report, phase="post_tick", reads=every, after=["respawn"]
        )
        world.add_system(
            "procgen", procgen.spawns, phase="post_tick", reads=every, writes=every, after=["respawn"]
        )


def populate(world: World) -> None:
    """Every npc at its spawn room; the floor loot of every room."""
    t = tb.tables(world)
    for nid in sorted(t.npcs):
        actions.spawn_npc(world, nid)
    for rid in sorted(t.rooms):
        for iid in t.rooms[rid].get("extensions", {}).get(tb.FLOOR_ITEMS, ()):
            if iid in t.items:
                spawn_item(world, slots(world).slot("item", iid), room=slots(world).slot("room", rid))


__all__ = ["COMMAND", "ENTER", "LEAVE", "NeonPlugin", "find_player", "player_name"]
