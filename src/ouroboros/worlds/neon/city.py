"""Reading and telling the city's state: who is where, what they hold, and messages to players.

Messages are events (``ouroboros.server.gateway.game`` shapes) gathered per player name in
``world.scratch["neon.out"]`` while a tick runs; the runtime hands them to the gateways after the
tick. They are outputs, never state: nothing reads them back, and they are not digested.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ouroboros.engine import World
from ouroboros.worlds.neon.tables import Slots, Tables, tables

OUT = "neon.out"


def state(world: World) -> dict[str, Any]:
    neon: dict[str, Any] = world.resources["neon"]
    return neon


def slots(world: World) -> Slots:
    return Slots(state(world))


# -- output --------------------------------------------------------------------------------------
def emit(world: World, name: str, event: dict[str, Any]) -> None:
    world.scratch.setdefault(OUT, {}).setdefault(name, []).append(event)


def player_name(world: World, player: int) -> str:
    return str(state(world)["player_names"][world.get(player, "Player")["handle"]])


def tell(world: World, player: int, text: str, style: str = "info") -> None:
    p = world.get(player, "Player")
    if p["online"]:
        name = str(state(world)["player_names"][p["handle"]])
        emit(world, name, {"type": "text", "style": style, "text": text})


def tell_room(world: World, room: int, text: str, style: str = "info", exclude: tuple[int, ...] = ()) -> None:
    names = state(world)["player_names"]
    event = {"type": "text", "style": style, "text": text}  # shared: events are read, never changed
    for entity, handle in online_in(world, room):
        if entity not in exclude:
            emit(world, names[handle], event)


# -- who and what is where ------------------------------------------------------------------------
def _ids_where(world: World, components: tuple[str, ...], column: str, value: int) -> list[int]:
    out: list[int] = []
    for chunk in world.query(*components):
        out.extend(int(i) for i in chunk.ids[chunk[column] == value])
    return out


def online_in(world: World, room: int) -> list[tuple[int, int]]:
    """(entity, name handle) of every online player in ``room``, in one pass over the columns."""
    out: list[tuple[int, int]] = []
    for chunk in world.query("Player", "Place"):
        mask = (chunk["Place.room"] == room) & (chunk["Player.online"] == 1)
        out.extend(zip(chunk.ids[mask].tolist(), chunk["Player.handle"][mask].tolist(), strict=True))
    return out


def players_in(world: World, room: int, online_only: bool = True) -> list[int]:
    out: list[int] = []
    for chunk in world.query("Player", "Place"):
        mask = chunk["Place.room"] == room
        if online_only:
            mask &= chunk["Player.online"] == 1
        out.extend(int(i) for i in chunk.ids[mask])
    return out


def npcs_in(world: World, room: int) -> list[int]:
    return _ids_where(world, ("Npc", "Place"), "Place.room", room)


def items_in_room(world: World, room: int) -> list[int]:
    return _ids_where(world, ("Item",), "Item.room", room)


def items_held(world: World, holder: int) -> list[int]:
    return _ids_where(world, ("Item",), "Item.holder", holder)


def online_players(world: World) -> list[int]:
    return _ids_where(world, ("Player",), "Player.online", 1)


def online_names(world: World) -> list[str]:
    names = state(world)["player_names"]
    handles = [h for c in world.query("Player") for h in c["Player.handle"][c["Player.online"] == 1].tolist()]
    return [names[h] for h in handles]


def npc_of_proto(world: World, proto: int) -> int | None:
    found = _ids_where(world, ("Npc",), "Npc.proto", proto)
    return found[0] if found else None


def room_of(world: World, entity: int) -> int:
    return int(world.get(entity, "Place")["room"])


# -- names ---------------------------------------------------------------------------------------
def npc_id(world: World, npc: int) -> str:
    return slots(world).id_of("npc", world.get(npc, "Npc")["proto"])


def npc_data(world: World, npc: int, t: Tables | None = None) -> dict[str, Any]:
    return (t or tables(world)).npcs[npc_id(world, npc)]


def item_id(world: World, item: int) -> str:
    return slots(world).id_of("item", world.get(item, "Item")["proto"])


def item_data(world: World, item: int, t: Tables | None = None) -> dict[str, Any]:
    t = t or tables(world)
    iid = item_id(world, item)
    data = t.items.get(iid)
    # an item a player holds outlives its removal from content (state["retired_items"])
    return data if data is not None else state(world)["retired_items"][iid]


def room_data(world: World, room: int, t: Tables | None = None) -> dict[str, Any]:
    t = t or tables(world)
    rid = slots(world).id_of("room", room)
    data = t.rooms.get(rid)
    return data if data is not None else state(world)["retired_rooms"][rid]


def display_name(world: World, entity: int) -> str:
    comps = world.components_of(entity)
    if "Player" in comps:
        return player_name(world, entity)
    if "Npc" in comps:
        return str(npc_data(world, entity)["name"])
    return str(item_data(world, entity)["name"])


def matches(name: str, query: str) -> bool:
    """``query`` names ``name``: each of its words starts a word of the name, in order, any case."""
    wanted = query.lower().replace("-", " ").split()
    if not wanted:
        return False
    words = name.lower().replace("-", " ").split()
    # every word of the query starts a word of the name, in order ("jack run" names "Chrome Jackal Runner")
    at = 0
    for w in wanted:
        while at < len(words) and not words[at].startswith(w):
            at += 1
        if at == len(words):
            return False
        at += 1
    return True


def find(world: World, candidates: list[int], query: str) -> int | None:
    """The first of ``candidates`` whose display name ``query`` names (``2.knife`` for the second)."""
    nth = 1
    head, dot, tail = query.partition(".")
    if dot and head.isdigit():
        nth, query = max(1, int(head)), tail
    for entity in candidates:
        if matches(display_name(world, entity), query):
            nth -= 1
            if nth == 0:
                return entity
    return None


def roll(world: World, stream: str, entity: int, salt: int, bound: int) -> int:
    """A draw in ``[0, bound)`` for ``entity`` from the world's keyed stream ``stream``."""
    raw = world.rng(stream).for_ids(np.array([entity], dtype=np.int64), salt)
    return int(raw[0] % np.uint64(max(bound, 1)))


# -- structural change, inside or outside a tick --------------------------------------------------
def spawn_item(world: World, proto: int, *, holder: int = 0, room: int = -1) -> None:
    values = {"Item.proto": proto, "Item.holder": holder, "Item.room": room, "Item.worn": 0}
    if world.in_tick:
        world.commands.spawn(("Item",), 1, values)
    else:
        world.spawn_batch(("Item",), 1, values)


def remove(world: World, entities: list[int]) -> None:
    if not entities:
        return
    if world.in_tick:
        world.commands.despawn(np.array(entities, dtype=np.int64))
    else:
        world.despawn(entities)
