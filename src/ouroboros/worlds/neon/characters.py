"""Players' characters apart from the city: what a "world only" restore keeps, and what a restore
would cost each player.

``characters(world)`` captures every character by name and by content id (never by slot, since a
snapshot may number rooms and items differently): where they stand, their numbers, what they
carry and wear, their jobs and what they have heard. ``put_characters(world, captured)`` lays that
over a restored world at a tick boundary (a character newer than the snapshot is made again).
Positions are kept; a room the content no longer has is migrated when the world next follows its
active version (``migrate``). ``restore_cost(now, snapshot)`` counts, per player, what restoring
``snapshot`` with everything would take from them.
"""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

from ouroboros.engine import World
from ouroboros.worlds.neon import actions
from ouroboros.worlds.neon.city import items_held, remove, slots, state
from ouroboros.worlds.neon.components import PLAYER

NUMBERS = ("xp", "credits", "deaths")


def characters(world: World) -> dict[str, dict[str, Any]]:
    """Every character of ``world`` by name, by content ids."""
    from ouroboros.worlds.neon.plugin import find_player

    neon = state(world)
    s = slots(world)
    out: dict[str, dict[str, Any]] = {}
    for name in neon["player_names"]:
        entity = find_player(world, name)
        if entity is None:
            continue
        p, a = world.get(entity, "Player"), world.get(entity, "Actor")
        held = [(s.id_of("item", world.get(i, "Item")["proto"]), int(world.get(i, "Item")["worn"]))
                for i in items_held(world, entity)]  # fmt: skip
        out[name] = {
            "room": s.id_of("room", int(world.get(entity, "Place")["room"])),
            "hp": int(a["hp"]),
            "max_hp": int(a["max_hp"]),
            **{k: int(p[k]) for k in NUMBERS},
            "items": sorted(held),
            "retired": {
                i: copy.deepcopy(neon["retired_items"][i]) for i, _ in held if i in neon["retired_items"]
            },
            "quests": copy.deepcopy(neon["quests"].get(name, {})),
            "talk": copy.deepcopy(neon["talk"].get(name, {})),
        }
    return out


def put_characters(world: World, captured: dict[str, dict[str, Any]]) -> None:
    """Lay ``captured`` characters over ``world`` (outside a tick): numbers, belongings, jobs and
    positions; each stays offline until it enters again."""
    from ouroboros.worlds.neon.plugin import find_player

    neon = state(world)
    s = slots(world)
    for name, c in sorted(captured.items()):
        entity = find_player(world, name)
        if entity is None:  # made after the snapshot: made again
            neon["player_names"].append(name)
            (entity,) = world.spawn_batch(PLAYER, 1, {
                "Place.room": 0, "Actor.hp": 1, "Actor.max_hp": 1, "Actor.damage": 0, "Actor.armour": 0,
                "Actor.accuracy": 50, "Actor.target": 0, "Actor.attacker": 0,
                "Player.handle": len(neon["player_names"]) - 1, "Player.online": 0, "Player.xp": 0,
                "Player.credits": 0, "Player.deaths": 0, "Player.revive_at": 0,
            })  # fmt: skip
            entity = int(entity)
        world.set(entity, "Place", room=s.slot("room", c["room"]))
        world.set(entity, "Actor", hp=c["hp"], max_hp=c["max_hp"], target=0, attacker=0)
        world.set(entity, "Player", online=0, revive_at=0, **{k: c[k] for k in NUMBERS})
        remove(world, items_held(world, entity))
        for item_id, worn in c["items"]:
            world.spawn_batch(("Item",), 1, {"Item.proto": s.slot("item", item_id), "Item.holder": entity,
                                             "Item.room": -1, "Item.worn": worn})  # fmt: skip
        neon["retired_items"].update(copy.deepcopy(c["retired"]))
        neon["quests"][name] = copy.deepcopy(c["quests"])
        neon["talk"][name] = copy.deepcopy(c["talk"])
        actions.recompute_gear(world, entity)


def restore_cost(now: dict[str, dict[str, Any]], then: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Per player of ``now``: what going back to ``then`` (characters of a snapshot) takes away."""
    out = []
    for name, c in sorted(now.items()):
        old = then.get(name)
        if old is None:
            out.append({"player": name, "character_lost": True, "xp": c["xp"], "credits": c["credits"],
                        "items": len(c["items"]), "jobs": len(c["quests"])})  # fmt: skip
            continue
        lost_items = Counter(i for i, _ in c["items"]) - Counter(i for i, _ in old["items"])
        out.append({
            "player": name,
            "character_lost": False,
            "xp": max(0, c["xp"] - old["xp"]),
            "credits": max(0, c["credits"] - old["credits"]),
            "items": sum(lost_items.values()),
            "jobs": sum(1 for q, e in c["quests"].items()
                        if old["quests"].get(q, {}).get("state") != e["state"]),
        })  # fmt: skip
    return out


def kept_cost(now: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """What a "world only" restore takes from each player: nothing (positions may migrate)."""
    return [
        {"player": n, "character_lost": False, "xp": 0, "credits": 0, "items": 0, "jobs": 0}
        for n in sorted(now)
    ]


__all__ = ["characters", "kept_cost", "put_characters", "restore_cost"]
