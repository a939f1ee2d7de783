"""The city's systems, in tick order: npc behaviour, combat rounds, regeneration, respawns and the
economy report. Each declares the components it touches (they all touch most of the city)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ouroboros.engine import World
from ouroboros.worlds.neon import actions, economy, maps, scripting
from ouroboros.worlds.neon import tables as tb
from ouroboros.worlds.neon.city import (
    display_name,
    npc_data,
    players_in,
    roll,
    room_data,
    slots,
    state,
    tell_room,
)

ALL_COMPONENTS = ["Place", "Actor", "Npc", "Player", "Item"]


def npc_ai(world: World) -> None:
    """Each npc follows its behaviour: transitions on the events of this tick and on timers, then
    the action of its state (wander, patrol, fight, flee, stand and sell)."""
    t = tb.tables(world)
    p = t.params
    events = world.scratch.get(actions.EVENTS, {})
    peopled = _rooms_with_players(world)
    ids: list[int] = []
    for chunk in world.query("Npc", "Actor", "Place"):
        # only npcs with something to do: an event, a due move or timer, a fight, players near
        busy = (
            (chunk["Npc.next_move"] <= world.tick)
            | (world.tick - chunk["Npc.since"] >= p["state_timer_ticks"])
            | (chunk["Actor.target"] != 0)
            | np.isin(chunk["Place.room"], peopled)
        )
        ids.extend(int(i) for i in chunk.ids[busy])
    ids.extend(n for n in events if n not in ids)
    for npc in sorted(ids):
        if not world.is_alive(npc):
            continue
        data = npc_data(world, npc, t)
        behavior = t.behaviors.get(data["behavior"])
        if behavior is None:
            continue
        n = world.get(npc, "Npc")
        current = n["state"] if n["state"] < len(behavior.states) else 0
        happened = list(events.get(npc, ()))
        if world.tick - n["since"] >= p["state_timer_ticks"]:
            happened.append("timer")
        a = world.get(npc, "Actor")
        if a["target"] == 0 and "attacked" in happened and a["attacker"] and world.is_alive(a["attacker"]):
            world.set(npc, "Actor", target=a["attacker"])
        for event in happened:
            nxt = behavior.transitions[current].get(event)
            if nxt is not None and nxt in behavior.states:
                current = behavior.index(nxt)
                world.set(npc, "Npc", state=current, since=world.tick)
                break
        else:
            if "timer" in happened:  # no transition on the timer here: it starts over
                world.set(npc, "Npc", since=world.tick)
        script = behavior.scripts[current]
        if behavior.actions[current] == "script" and script is not None and happened:
            scripting.run(world, npc, script, happened, t)
        else:
            _act(world, npc, behavior.actions[current], data, t)


def _rooms_with_players(world: World) -> np.ndarray:
    rooms = [c["Place.room"][c["Player.online"] == 1] for c in world.query("Player", "Place")]
    return np.unique(np.concatenate(rooms)) if rooms else np.empty(0, dtype=np.int32)


def _act(world: World, npc: int, action: str, data: dict[str, Any], t: tb.Tables) -> None:
    n = world.get(npc, "Npc")
    a = world.get(npc, "Actor")
    room = world.get(npc, "Place")["room"]
    if action == "aggressive" and a["target"] == 0 and actions.hostile_to_players(data):
        victims = [v for v in players_in(world, room) if _fair_game(world, v, room, data, t)]
        if victims:
            victim = victims[roll(world, "neon:aggro", npc, 0, len(victims))]
            tell_room(world, room, f"{data['name']} goes for {display_name(world, victim)}!", "combat")
            actions.start_fight(world, npc, victim)
            return
    if action == "flee" and a["target"] != 0:
        exits = actions.exits_of(world, room)
        if exits:
            world.set(npc, "Actor", target=0)
            actions.move(world, npc, exits[roll(world, "neon:flee", npc, 0, len(exits))])
        return
    if action in ("idle", "vendor", "script") or a["target"] != 0 or world.tick < n["next_move"]:
        return
    every = t.params["wander_every_ticks"]
    world.set(npc, "Npc", next_move=world.tick + every + roll(world, "neon:pace", npc, 0, every))
    exits = [d for d in actions.exits_of(world, room) if d not in ("in", "out", "u", "d")]
    if actions.hostile_to_players(data):  # the starter district is kept clear of roaming hostiles
        here = room_data(world, room, t)["exits"]
        exits = [d for d in exits if not maps.is_safe(world, here[d])]
    if action == "patrol":  # stay in the home zone
        s = slots(world)
        home_zone = t.rooms.get(s.id_of("room", n["home"]), {}).get("zone")
        here = room_data(world, room, t)
        exits = [d for d in exits if t.rooms[here["exits"][d]].get("zone") == home_zone]
    if exits and action in ("wander", "patrol", "aggressive"):
        actions.move(world, npc, exits[roll(world, "neon:wander", npc, 0, len(exits))])


def _fair_game(world: World, player: int, room: int, data: dict[str, Any], t: tb.Tables) -> bool:
    """A hostile npc goes for a runner unless the runner is in the starter district and weaker."""
    if not maps.is_safe(world, slots(world).id_of("room", room)):
        return True
    return tb.player_level(int(world.get(player, "Player")["xp"])) >= int(data.get("level", 1))


def combat(world: World) -> None:
    """Every ``combat_round_ticks``, everyone with a target swings once (in entity order)."""
    if world.tick % tb.tables(world).params["combat_round_ticks"]:
        return
    fighters = [int(i) for chunk in world.query("Actor") for i in chunk.ids[chunk["Actor.target"] != 0]]
    for fighter in sorted(fighters):
        if not world.is_alive(fighter):
            continue
        actor = world.get(fighter, "Actor")  # an earlier swing this round may have ended its fight
        if actor["hp"] > 0 and actor["target"] != 0:
            actions.hit(world, fighter, world.tick)


def regen(world: World) -> None:
    """Out of a fight, actors heal a tenth of their hp every ``regen_every_ticks``."""
    if world.tick % tb.tables(world).params["regen_every_ticks"]:
        return
    for chunk in world.query("Actor"):
        hp, max_hp, target = chunk["Actor.hp"], chunk["Actor.max_hp"], chunk["Actor.target"]
        heal = (target == 0) & (hp < max_hp) & (hp > 0)
        hp[heal] = (hp[heal] + (max_hp[heal] + 9) // 10).clip(max=max_hp[heal])


def respawn(world: World) -> None:
    """Npcs whose respawn time has come appear again at their spawn room."""
    due = state(world)["respawn"]
    t = tb.tables(world)
    for nid in sorted(n for n, tick in due.items() if tick <= world.tick):
        del due[nid]
        if nid in t.npcs:
            actions.spawn_npc(world, nid)


def economy_report(world: World) -> None:
    if world.tick % tb.tables(world).params["economy_report_ticks"] == 0:
        economy.report(world)
