"""What actors do, shared by player commands and npc systems: look, move, fight, die, respawn.

Every function works at a tick boundary (a command) and inside a tick (a system) alike: structural
change goes through ``city.spawn_item``/``city.remove`` and npc spawns through ``spawn_npc``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ouroboros.engine import World
from ouroboros.worlds.neon import economy, experience, quests, words
from ouroboros.worlds.neon import tables as tb
from ouroboros.worlds.neon.city import (
    display_name,
    emit,
    item_data,
    items_held,
    items_in_room,
    npc_data,
    npc_id,
    npcs_in,
    online_in,
    player_name,
    remove,
    roll,
    room_data,
    room_of,
    slots,
    spawn_item,
    state,
    tell,
    tell_room,
)
from ouroboros.worlds.neon.components import NPC

EVENTS = "neon.events"


def is_player(world: World, entity: int) -> bool:
    return "Player" in world.components_of(entity)


def npc_event(world: World, npc: int, event: str) -> None:
    """Note an event for the npc's behaviour (read by the ``npc_ai`` system this tick)."""
    world.scratch.setdefault(EVENTS, {}).setdefault(npc, []).append(event)


# -- seeing ------------------------------------------------------------------------------------------
def describe_room(world: World, player: int) -> None:
    describe_room_to(world, room_of(world, player), [(player, player_name(world, player))])


def describe_room_to(world: World, room: int, viewers: list[tuple[int, str]]) -> None:
    """The look of ``room`` for each online (entity, name) of ``viewers``: what they share is built
    once (a version change may put a crowd in one room at once)."""
    t = tb.tables(world)
    data = room_data(world, room, t)
    exits = [d for d in tb.DIRECTIONS if data.get("exits", {}).get(d) in t.rooms]  # usable ones only
    names = state(world)["player_names"]
    here = online_in(world, room)
    # an npc whose definition a version change just dropped is leaving: it is not shown
    npcs = [display_name(world, n) for n in npcs_in(world, room) if npc_id(world, n) in t.npcs]
    things = [display_name(world, i) for i in items_in_room(world, room)]
    shared = [
        {"type": "text", "style": "room_title", "text": data["name"]},
        {"type": "text", "style": "room", "text": data["description"]},
        {"type": "text", "style": "exits",
         "text": "Exits: " + (", ".join(tb.DIRECTION_NAMES[d] for d in exits) or "none")},
    ]  # fmt: skip
    ground = {"type": "text", "style": "things", "text": "On the ground: " + _listing(things) + "."}
    info = {
        "num": room,
        "id": slots(world).id_of("room", room),
        "name": data["name"],
        "area": data.get("district", ""),
        "zone": data.get("zone", ""),
        "threat": data.get("threat_level", 0),
        # every exit to a room that exists, loaded or not: Mudlet's mapper needs the whole graph
        "exits": {d: slots(world).slot("room", target) for d, target in data.get("exits", {}).items()
                  if target in t.rooms},
        "coords": data.get("coords", {}),
    }  # fmt: skip
    gmcp_event = {"type": "gmcp", "package": "Room.Info", "data": info}
    online = {entity for entity, _ in here}
    for viewer, name in viewers:
        if viewer not in online:
            continue
        events = list(shared)
        others = [names[handle] for p, handle in here if p != viewer]
        if npcs or others:
            events.append(
                {"type": "text", "style": "things", "text": "Here: " + _listing([*npcs, *others]) + "."}
            )
        if things:
            events.append(ground)
        events.append(gmcp_event)
        for event in events:
            emit(world, name, event)


def _listing(names: list[str], most: int = 15) -> str:
    """Names joined; a crowd is cut to the first ``most`` and a count."""
    if len(names) <= most:
        return ", ".join(names)
    return ", ".join(names[:most]) + f" and {len(names) - most} more"


def gmcp(world: World, player: int, package: str, data: dict[str, Any]) -> None:
    if world.get(player, "Player")["online"]:
        emit(world, player_name(world, player), {"type": "gmcp", "package": package, "data": data})


def vitals(world: World, player: int) -> None:
    a = world.get(player, "Actor")
    p = world.get(player, "Player")
    gmcp(world, player, "Char.Vitals", {"hp": a["hp"], "maxhp": a["max_hp"], "credits": p["credits"],
                                         "xp": p["xp"]})  # fmt: skip


# -- moving ------------------------------------------------------------------------------------------
def move(world: World, actor: int, direction: str) -> bool:
    """Walk ``actor`` through an exit; False (and a message to a player) if there is none."""
    t = tb.tables(world)
    here = room_of(world, actor)
    target = room_data(world, here, t).get("exits", {}).get(direction)
    player = is_player(world, actor)
    if target is None or target not in t.rooms:
        if player:
            tell(world, actor, "You can't go that way.", "error")
        return False
    name = display_name(world, actor)
    tell_room(world, here, f"{name} leaves {tb.DIRECTION_NAMES[direction]}.", exclude=(actor,))
    there = slots(world).slot("room", target)
    world.set(actor, "Place", room=there)
    world.set(actor, "Actor", target=0)
    tell_room(world, there, f"{name} arrives.", exclude=(actor,))
    if player:
        describe_room(world, actor)
        quests.on_event(world, actor, "visit", target)
        for npc in npcs_in(world, there):
            npc_event(world, npc, "player_near")
    return True


def exits_of(world: World, room: int) -> list[str]:
    t = tb.tables(world)
    data = room_data(world, room, t)
    return [d for d in tb.DIRECTIONS if data.get("exits", {}).get(d) in t.rooms]


# -- gear --------------------------------------------------------------------------------------------
def recompute_gear(world: World, player: int) -> None:
    """A player's combat numbers: the base ones plus every worn item's stats."""
    p = tb.tables(world).params
    damage, armour, accuracy = p["player_damage"], 0, p["player_accuracy"]
    for item in items_held(world, player):
        if world.get(item, "Item")["worn"]:
            stats = item_data(world, item).get("stats", {})
            damage += stats.get("damage", 0)
            armour += stats.get("armour", 0)
            accuracy += stats.get("accuracy", 0)
    world.set(player, "Actor", damage=damage, armour=armour, accuracy=max(5, min(accuracy, 95)))


# -- fighting ----------------------------------------------------------------------------------------
def start_fight(world: World, attacker: int, target: int) -> None:
    world.set(attacker, "Actor", target=target)
    if world.get(target, "Actor")["target"] == 0:
        world.set(target, "Actor", target=attacker)
    if not is_player(world, target):
        npc_event(world, target, "attacked")


def hit(world: World, attacker: int, salt: int) -> None:
    """One combat round of ``attacker`` against its target (who must stand in the same room)."""
    a = world.get(attacker, "Actor")
    target = int(a["target"])
    room = room_of(world, attacker)
    if (
        not world.is_alive(target)
        or "Actor" not in world.components_of(target)
        or room_of(world, target) != room
    ):
        world.set(attacker, "Actor", target=0)
        if not is_player(world, attacker):
            npc_event(world, attacker, "target_lost")
        return
    if is_player(world, target) and not world.get(target, "Player")["online"]:
        world.set(attacker, "Actor", target=0)
        return
    d = world.get(target, "Actor")
    chance = max(5, min(95, a["accuracy"] - d["armour"] // 2))
    name, victim = display_name(world, attacker), display_name(world, target)
    world.set(target, "Actor", attacker=attacker)
    if not is_player(world, target):
        npc_event(world, target, "attacked")
        if d["target"] == 0:
            world.set(target, "Actor", target=attacker)
    elif d["target"] == 0:
        world.set(target, "Actor", target=attacker)
    if roll(world, "neon:combat", attacker, salt, 100) >= chance:
        tell_room(world, room, f"{name} misses {victim}.", "combat")
        return
    damage = max(
        1, a["damage"] - d["armour"] // 4 + roll(world, "neon:damage", attacker, salt, a["damage"] // 2 + 1)
    )
    crit, procs = weapon_extras(world, attacker) if is_player(world, attacker) else (0, ())
    critical = crit > 0 and roll(world, "neon:crit", attacker, salt, 1000) < crit
    if critical:
        damage *= 2
    extra = []
    for i, proc in enumerate(procs):
        if roll(world, "neon:proc", attacker, salt * 8 + i, 1000) < PROC_CHANCE_PERMILLE:
            bonus = max(1, a["damage"] // 4)
            damage += bonus
            extra.append(f"{PROC_WORDS.get(proc, proc)} (+{bonus})")
    hp = d["hp"] - damage
    world.set(target, "Actor", hp=max(hp, 0))
    how = "critically hits" if critical else "hits"
    tail = f"; {', '.join(extra)}" if extra else ""
    left = f"[{victim}: {max(hp, 0)}/{d['max_hp']} hp]"
    tell_room(world, room, f"{name} {how} {victim} for {damage}{tail} {left}.", "combat")
    if is_player(world, target):
        vitals(world, target)
    elif d["hp"] * 100 >= d["max_hp"] * 30 > hp * 100:
        npc_event(world, target, "low_hp")
    if hp <= 0:
        die(world, target, attacker)


PROC_CHANCE_PERMILLE = 150  # each proc of a wielded weapon fires on this share of hits
PROC_WORDS = {"shock": "a jolt arcs", "burn": "the wound sears", "bleed": "it bleeds",
              "emp": "an EMP pulse crackles", "stagger": "the blow staggers"}  # fmt: skip


def weapon_extras(world: World, player: int) -> tuple[int, tuple[str, ...]]:
    """Crit chance (permille) and procs of what ``player`` wields: what the item's power budget paid for."""
    crit, procs = 0, []
    for item in items_held(world, player):
        if world.get(item, "Item")["worn"]:
            extras = item_data(world, item).get("extensions", {})
            crit = max(crit, int(extras.get(tb.ITEM_CRIT, 0)))
            procs += [p for p in extras.get(tb.ITEM_PROCS, ()) if p not in procs]
    return min(crit, 1000), tuple(procs)


def die(world: World, victim: int, killer: int) -> None:
    t = tb.tables(world)
    room = room_of(world, victim)
    name = display_name(world, victim)
    for chunk in world.query("Actor"):  # whoever fought the victim stops
        ids = chunk.ids[chunk["Actor.target"] == victim]
        for other in ids:
            world.set(int(other), "Actor", target=0)
    if is_player(world, victim):
        _player_dies(world, victim, t)
        return
    tell_room(world, room, f"{name} is flatlined.", "combat")
    nid = npc_id(world, victim)
    data = npc_data(world, victim, t)
    for i, drop in enumerate(data.get("drops", ())):
        chance = (
            drop["chance_permille"]
            * t.multiplier(t.items.get(drop["item"], {}).get("kind", "*"), "drop_rate")
            // 1000
        )
        if drop["item"] in t.items and roll(world, "neon:drops", victim, i, 1000) < chance:
            spawn_item(world, slots(world).slot("item", drop["item"]), room=room)
            tell_room(world, room, f"{name} drops {t.items[drop['item']]['name']}.", "loot")
    if is_player(world, killer):
        credits = data.get("extensions", {}).get(tb.NPC_CREDITS, 0)
        if credits:
            verdict = economy.transact(world, killer, "loot", credits, bound=credits)
            if verdict.ok:
                tell(world, killer, f"You pick {words.credits(credits)} off the body.", "loot")
        xp = data.get("level", 1) * 10
        experience.fought(world, killer, str(data["kind"]))
        p = world.get(killer, "Player")
        world.set(killer, "Player", xp=p["xp"] + xp)
        quests.on_event(world, killer, "kill", nid)
        vitals(world, killer)
    own_home = slots(world).id_of("room", int(world.get(victim, "Npc")["home"])) == data.get("spawn_room")
    if data.get("respawn_ticks", 0) > 0 and own_home:  # a procgen copy is replaced by its rule instead
        state(world)["respawn"][nid] = world.tick + data["respawn_ticks"]
    remove(world, [victim])


def _player_dies(world: World, player: int, t: tb.Tables) -> None:
    room = room_of(world, player)
    name = display_name(world, player)
    tell_room(world, room, f"{name} is flatlined.", "combat", exclude=(player,))
    tell(world, player, "Everything goes black. You wake up in the clinic vat at the plaza.", "combat")
    p = world.get(player, "Player")
    penalty = p["credits"] * t.params["death_penalty_permille"] // 1000
    if penalty:
        economy.transact(world, player, "penalty", -penalty)
        tell(world, player, f"The clinic bills you {words.credits(penalty)}.", "system")
    world.set(
        player, "Player", deaths=p["deaths"] + 1, revive_at=world.tick + t.params["respawn_delay_ticks"]
    )
    experience.died(world, player)
    a = world.get(player, "Actor")
    spawn = slots(world).slot("room", t.spawn_room)
    world.set(player, "Actor", hp=a["max_hp"], target=0, attacker=0)
    world.set(player, "Place", room=spawn)
    tell_room(world, spawn, f"{name} staggers out of the clinic vat.", exclude=(player,))
    describe_room(world, player)
    vitals(world, player)


# -- npcs --------------------------------------------------------------------------------------------
def spawn_npc(world: World, nid: str, room: str | None = None) -> None:
    """``nid`` at its spawn room, or (a procgen rule's copy) at ``room``, which becomes its home."""
    t = tb.tables(world)
    data = t.npcs[nid]
    behavior = t.behaviors.get(data["behavior"])
    s = slots(world)
    home = s.slot("room", room or data["spawn_room"])
    values = {
        "Npc.proto": s.slot("npc", nid),
        "Npc.state": behavior.index(behavior.initial) if behavior else 0,
        "Npc.since": world.tick,
        "Npc.home": home,
        "Npc.next_move": world.tick + t.params["wander_every_ticks"],
        "Place.room": home,
        "Actor.hp": data["hp"],
        "Actor.max_hp": data["hp"],
        "Actor.damage": data.get("damage", 0),
        "Actor.armour": data.get("armour", 0),
        "Actor.accuracy": data.get("accuracy", 50),
        "Actor.target": 0,
        "Actor.attacker": 0,
    }
    if world.in_tick:
        world.commands.spawn(NPC, 1, values)
    else:
        world.spawn_batch(NPC, 1, {k: np.asarray([v]) for k, v in values.items()})
    tell_room(world, home, f"{data['name']} appears.")


def hostile_to_players(data: dict[str, Any]) -> bool:
    faction = tb.factions().get(data.get("faction", ""))
    return faction is not None and "neon.faction.players" in faction["hostile_to"]
