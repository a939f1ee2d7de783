"""Npc behaviour scripts: an npc whose behaviour state has action ``script`` runs that Lua script
(content domain ``scripts``) in the sandbox on the events of its tick.

The script defines ``on_event(e)``; ``e`` holds plain values only: ``event``, ``tick``, ``npc``
(its name), ``hp``, ``max_hp``, ``room`` (its name), ``exits`` and ``players`` (names present).
What it may do is emit intents: ``intent.say(0, text)``, ``intent.emit("move", {dir = "n"})`` and
``intent.give_quest(0, quest_id)`` (the quest is offered to the players present).

Every call runs in a fresh Lua state under the sandbox's budgets, so a handler keeps nothing
between calls and the world's snapshot holds everything a replay needs. A fault is recorded in
``state["script_faults"]`` (script, version, npc, code, budget) and stops that script for that
npc; the tick goes on. (A wall-clock fault depends on the machine: the one budget that can make
a replay differ, which the governance replay stage then reports.)
"""

from __future__ import annotations

from typing import Any

from ouroboros.engine import World
from ouroboros.sandbox import LuaLimits, LuaScript
from ouroboros.worlds.neon import actions
from ouroboros.worlds.neon import tables as tb
from ouroboros.worlds.neon.city import display_name, players_in, room_data, room_of, state, tell_room

ENTRY = "on_event"
MAX_FAULTS_KEPT = 200
MAX_SAY_CHARS = 200
LIMITS = LuaLimits(max_instructions_per_call=200_000, max_memory_bytes=8 << 20)


def run(world: World, npc: int, script_id: str, events: list[str], t: tb.Tables) -> None:
    script = t.scripts.get(script_id)
    if script is None or script.get("language") != "lua":
        return
    neon = state(world)
    banned = neon.setdefault("script_banned", {})
    key = f"{script_id}@{script['version']}"
    if npc in banned.get(key, ()):
        return
    room = room_of(world, npc)
    a = world.get(npc, "Actor")
    event = {
        "event": events[0] if events else "timer",
        "tick": world.tick,
        "npc": display_name(world, npc),
        "hp": a["hp"],
        "max_hp": a["max_hp"],
        "room": room_data(world, room, t)["name"],
        "exits": actions.exits_of(world, room),
        "players": [display_name(world, p) for p in players_in(world, room)],
    }
    lua = LuaScript(script_id, script["version"], script["source"], LIMITS)
    try:
        result, fault = lua.call(ENTRY, event, entity=npc)
    finally:
        lua.close()
    if fault is not None:
        record: dict[str, Any] = {"tick": world.tick, "script": script_id, "version": script["version"],
                                  "npc": npc, "code": str(fault.code), "message": fault.message[:200],
                                  "instructions": fault.budget_used.get("instructions", 0)}  # fmt: skip
        faults = neon.setdefault("script_faults", [])
        faults.append(record)
        del faults[:-MAX_FAULTS_KEPT]
        banned.setdefault(key, []).append(npc)
        return
    assert result is not None
    for intent in result["intents"][:8]:
        _apply(world, npc, intent, t)


def _apply(world: World, npc: int, intent: dict[str, Any], t: tb.Tables) -> None:
    kind = intent.get("kind")
    room = room_of(world, npc)
    name = display_name(world, npc)
    if kind == "say" and isinstance(intent.get("text"), str):
        text = "".join(ch for ch in intent["text"] if ch.isprintable())[:MAX_SAY_CHARS]
        tell_room(world, room, f'{name} says, "{text}"', "say")
    elif kind == "move" and intent.get("dir") in actions.exits_of(world, room):
        actions.move(world, npc, intent["dir"])
    elif kind == "give_quest" and intent.get("quest") in t.quests:
        quest = t.quests[intent["quest"]]
        tell_room(
            world, room, f"{name} offers a job: {quest['name']} ('quest accept {quest['name']}')", "quest"
        )
