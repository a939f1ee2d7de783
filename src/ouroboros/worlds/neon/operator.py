"""What an operator sees of and may do for the city's players: list them, look one up, move one.

Reading is plain data from the world. A move is the ``neon.operator_move`` world input
(``{"name", "room", "actor", "reason"}``), so it happens at a tick boundary and is part of the
replayable input log like any other; ``check_move`` is what the surfaces call first, so an unknown
player or room is refused (``BadInputError`` / ``NotFoundError``) before anything is queued. The
player is told who moved them, where to, and why, and gets a look at the room.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ouroboros.engine import World
from ouroboros.errors import BadInputError, UnknownPlayerError, UnknownRoomError, WorldError
from ouroboros.worlds.neon import actions, experience, quests
from ouroboros.worlds.neon import tables as tb
from ouroboros.worlds.neon.city import items_held, room_data, slots, state, tell, tell_room

MOVE = "neon.operator_move"
MAX_REASON_CHARS = 200


def _entity(world: World, name: str) -> int:
    from ouroboros.worlds.neon.plugin import find_player

    entity = find_player(world, name) if isinstance(name, str) else None
    if entity is None:
        raise UnknownPlayerError(f"no player {name!r} in the city", path=str(name)[:40])
    return entity


def player_info(world: World, name: str) -> dict[str, Any]:
    """One player as an operator sees them (``UnknownPlayerError`` for a name the city lacks)."""
    entity = _entity(world, name)
    p, a = world.get(entity, "Player"), world.get(entity, "Actor")
    room = int(world.get(entity, "Place")["room"])
    t = tb.tables(world)
    room_id = slots(world).id_of("room", room)
    journal = quests.journal(world, entity)
    return {
        "name": name,
        "online": bool(p["online"]),
        "room": room_id,
        "room_name": room_data(world, room, t)["name"] if room_id in t.rooms else None,
        "exits": [tb.DIRECTION_NAMES[d] for d in actions.exits_of(world, room)] if room_id in t.rooms else [],
        "hp": int(a["hp"]),
        "max_hp": int(a["max_hp"]),
        "xp": int(p["xp"]),
        "credits": int(p["credits"]),
        "deaths": int(p["deaths"]),
        "level": tb.player_level(int(p["xp"])),
        "challenge": experience.challenge(world, entity),
        "items": len(items_held(world, entity)),
        "active_jobs": quests.active_jobs(world, entity, t),
        "jobs_done": sorted(q for q, e in journal.items() if e["state"] == "done"),
    }


def players(world: World) -> list[dict[str, Any]]:
    """Every character of the city, by name."""
    return [player_info(world, name) for name in sorted(state(world)["player_names"])]


def check_move(world: World, name: str, room_id: str) -> dict[str, Any]:
    """The ``neon.operator_move`` payload's player and room, checked now: raises for an unknown
    player or a room the content lacks; returns where the player is and where they will go."""
    entity = _entity(world, name)
    t = tb.tables(world)
    if not isinstance(room_id, str) or room_id not in t.rooms:
        raise UnknownRoomError(f"no room {str(room_id)[:80]!r} in the city", path=str(room_id)[:80])
    here = slots(world).id_of("room", int(world.get(entity, "Place")["room"]))
    return {"name": name, "from": here, "to": room_id, "room_name": t.rooms[room_id]["name"]}


def _check_payload(payload: Any) -> dict[str, Any]:
    keys = {"name", "room", "actor", "reason"}
    if not isinstance(payload, Mapping) or set(payload) != keys:
        raise WorldError(f"{MOVE} takes an object with exactly {sorted(keys)}")
    for key in keys:
        if not isinstance(payload[key], str) or not payload[key] or len(payload[key]) > MAX_REASON_CHARS:
            raise WorldError(f"{MOVE}: {key} must be text of 1 to {MAX_REASON_CHARS} characters")
    return dict(payload)


def _apply_move(world: World, payload: dict[str, Any]) -> None:
    try:
        moved = check_move(world, payload["name"], payload["room"])
    except BadInputError:
        return  # the player or room left between the check and the tick: nothing to do
    entity = _entity(world, payload["name"])
    here = int(world.get(entity, "Place")["room"])
    there = slots(world).slot("room", payload["room"])
    tell_room(world, here, f"{payload['name']} flickers and is gone.", exclude=(entity,))
    world.set(entity, "Place", room=there)
    world.set(entity, "Actor", target=0)
    text = f"An operator ({payload['actor']}) moves you to {moved['room_name']}: {payload['reason']}."
    tell(world, entity, text, "system")
    tell_room(world, there, f"{payload['name']} flickers into view.", exclude=(entity,))
    actions.describe_room(world, entity)


def register(world: World) -> None:
    world.register_input(MOVE, _apply_move, _check_payload)


__all__ = ["MOVE", "check_move", "player_info", "players", "register"]
