"""Lookup tables of the neon city, derived from its effective content (base world + patches).

The effective content (a ``PatchContent`` document as JSON) lives in ``world.meta["neon_content"]``
so that snapshots and forks carry it; gameplay state refers to rooms, items and npcs by *slot*
(``slots``), never by position in these tables. ``tables(world)`` builds the tables once per
content document and caches them per world.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ouroboros.engine import World
from ouroboros.errors import WorldError
from ouroboros.worlds.neon.params import DEFAULT_PARAMS

BASE_DIR = Path(__file__).parent / "base"
#: the domains the city runs on (a base file per domain, but ``scripts``: Lua npc behaviours)
BASE_DOMAINS = (
    "rooms",
    "items",
    "npcs",
    "npc_behaviors",
    "quests",
    "dialogue",
    "economy_tuning",
    "world_params",
)
DOMAINS = (*BASE_DOMAINS, "scripts", "procgen_rules")  # no base file for the last two
DIRECTIONS = ("n", "s", "e", "w", "u", "d", "ne", "nw", "se", "sw", "in", "out")
DIRECTION_NAMES = {
    "n": "north", "s": "south", "e": "east", "w": "west", "u": "up", "d": "down",
    "ne": "northeast", "nw": "northwest", "se": "southeast", "sw": "southwest", "in": "in", "out": "out",
}  # fmt: skip
SPAWN_FLAG = "neon.spawn"
FLOOR_ITEMS = "neon.items"
NPC_CREDITS = "neon.credits"


@cache
def base_content() -> dict[str, Any]:
    """Patch zero: the authored base world, as one content document."""
    content: dict[str, Any] = {}
    for domain in BASE_DOMAINS:
        path = BASE_DIR / f"{domain}.json"
        content[domain] = json.loads(path.read_text(encoding="utf-8"))[domain]
    return content


@cache
def factions() -> dict[str, dict[str, Any]]:
    data = json.loads((BASE_DIR / "factions.json").read_text(encoding="utf-8"))["factions"]
    return {f["id"]: {"name": f["name"], "hostile_to": frozenset(f.get("hostile_to", ()))} for f in data}


@dataclass
class Behavior:
    initial: str
    states: list[str]  # sorted: a state's index is what the Npc component stores
    actions: list[str]
    scripts: list[str | None]  # per state: the script an action "script" runs
    transitions: list[dict[str, str]]  # per state: event → next state name

    def index(self, state: str) -> int:
        return self.states.index(state)


@dataclass
class Tables:
    rooms: dict[str, dict[str, Any]]
    items: dict[str, dict[str, Any]]
    npcs: dict[str, dict[str, Any]]
    behaviors: dict[str, Behavior]
    quests: dict[str, dict[str, Any]]
    dialogue: dict[str, dict[str, Any]]
    scripts: dict[str, dict[str, Any]]
    params: dict[str, int]
    multipliers: dict[str, dict[str, int]]  # item kind or "*" → permille multipliers
    spawn_room: str
    quests_by_giver: dict[str, list[str]] = field(default_factory=dict)
    procgen_rules: dict[str, dict[str, Any]] = field(default_factory=dict)

    def multiplier(self, kind: str, what: str) -> int:
        specific = self.multipliers.get(kind, {}).get(what)
        return specific if specific is not None else self.multipliers.get("*", {}).get(what, 1000)

    def price(self, item_id: str) -> int:
        item = self.items[item_id]
        return item["price"] * self.multiplier(item["kind"], "price") // 1000

    def sell_price(self, item_id: str) -> int:
        return self.price(item_id) * self.params["sell_permille"] // 1000


def build_tables(content: Mapping[str, Any]) -> Tables:
    """Index a content document. Raises ``WorldError`` when it lacks what the city needs."""
    by_id = {d: {o["id"]: o for o in content.get(d, ())} for d in DOMAINS}
    behaviors = {}
    for bid, b in by_id["npc_behaviors"].items():
        names = sorted(b["states"])
        behaviors[bid] = Behavior(
            b["initial"],
            names,
            [b["states"][n]["action"] for n in names],
            [b["states"][n].get("script") for n in names],
            [{t["on"]: t["to"] for t in b["states"][n].get("transitions", ())} for n in names],
        )
    params = dict(DEFAULT_PARAMS)
    for wp in sorted(by_id["world_params"].values(), key=lambda o: o["id"]):
        if wp["world"] == "neon":
            params.update({k: v for k, v in wp["params"].items() if k in DEFAULT_PARAMS})
    multipliers = {e["scope"]: dict(e.get("multipliers", {})) for e in by_id["economy_tuning"].values()}
    spawns = sorted(r for r, room in by_id["rooms"].items() if room.get("extensions", {}).get(SPAWN_FLAG))
    if not spawns:
        raise WorldError("the neon content has no spawn room (a room with extensions.neon.spawn)")
    quests_by_giver: dict[str, list[str]] = {}
    for qid in sorted(by_id["quests"]):
        quests_by_giver.setdefault(by_id["quests"][qid]["giver"], []).append(qid)
    return Tables(
        rooms=by_id["rooms"],
        items=by_id["items"],
        npcs=by_id["npcs"],
        behaviors=behaviors,
        quests=by_id["quests"],
        dialogue=by_id["dialogue"],
        scripts=by_id["scripts"],
        params=params,
        multipliers=multipliers,
        spawn_room=spawns[0],
        quests_by_giver=quests_by_giver,
        procgen_rules=by_id["procgen_rules"],
    )


_CACHE: weakref.WeakKeyDictionary[World, tuple[int, Tables]] = weakref.WeakKeyDictionary()


def tables(world: World) -> Tables:
    """The tables of the content ``world`` follows now."""
    content = world.meta.get("neon_content")
    if content is None:
        raise WorldError("not a neon world")
    hit = _CACHE.get(world)
    if hit is not None and hit[0] == id(content):
        return hit[1]
    built = build_tables(content)
    _CACHE[world] = (id(content), built)
    return built


def follow(world: World, content: dict[str, Any], built: Tables) -> None:
    """Make ``world`` follow ``content``, whose tables ``built`` are already at hand."""
    world.meta["neon_content"] = content
    _CACHE[world] = (id(content), built)


class Slots:
    """Append-only slot numbers of rooms, items and npcs (``resources["neon"]``)."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state

    def slot(self, kind: str, object_id: str) -> int:
        ids: list[str] = self.state[f"{kind}_ids"]
        index = _index(ids)
        slot = index.get(object_id)
        if slot is None:
            ids.append(object_id)
            slot = len(ids) - 1
            index[object_id] = slot
            _INDEXES[id(ids)] = (ids, len(ids), index)
        return slot

    def try_slot(self, kind: str, object_id: str) -> int | None:
        return _index(self.state[f"{kind}_ids"]).get(object_id)

    def id_of(self, kind: str, slot: int) -> str:
        return str(self.state[f"{kind}_ids"][slot])


_INDEXES: dict[int, tuple[list[str], int, dict[str, int]]] = {}


def _index(ids: list[str]) -> dict[str, int]:
    # keyed by the list object itself (held, so its id is not reused); rebuilt if it changed size
    hit = _INDEXES.get(id(ids))
    if hit is not None and hit[0] is ids and hit[1] == len(ids):
        return hit[2]
    index = {v: i for i, v in enumerate(ids)}
    if len(_INDEXES) > 64:
        _INDEXES.clear()
    _INDEXES[id(ids)] = (ids, len(ids), index)
    return index


#: extensions an item may carry (priced by the council's power budget, read by combat)
ITEM_CRIT = "neon.crit_permille"
ITEM_PROCS = "neon.procs"
#: a job is offered to a runner at most this many levels above their own
QUEST_LEVEL_MARGIN = 3
#: xp per level: level 1 at 0 xp, 2 at 100, ... (an npc of level L pays 10 × L xp)
XP_PER_LEVEL = 100
#: the placeholders a dialogue line may use; anything else in braces is refused by the content check.
#: ``{quest.name}`` and ``{credits}`` are the speaker's best job for the player (its pay)
DIALOGUE_PLACEHOLDERS = ("{player.name}", "{player}", "{npc.name}", "{quest.name}", "{credits}")


def player_level(xp: int) -> int:
    return 1 + max(0, int(xp)) // XP_PER_LEVEL
