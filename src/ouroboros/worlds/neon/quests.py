"""Quests per player: accept, progress, complete, reward.

Per-player state lives in ``state["quests"][name][quest_id] = {"state": "active"|"done"|
"withdrawn", "progress": [count per objective]}`` (``withdrawn``: the job left the content while
it was active, see ``migrate``; it may be taken again should it come back). Kill and deliver
objectives count events; visit is done on arrival; collect is met while the player carries
enough of the item, which completion takes. A quest completes by itself the moment every objective is met.
"""

from __future__ import annotations

from typing import Any

from ouroboros.engine import World
from ouroboros.worlds.neon import economy
from ouroboros.worlds.neon.city import (
    item_id,
    items_held,
    player_name,
    remove,
    slots,
    spawn_item,
    state,
    tell,
)
from ouroboros.worlds.neon.tables import QUEST_LEVEL_MARGIN, Tables, player_level, tables
from ouroboros.worlds.neon.words import credits as credits_text

WITHDRAWN = "withdrawn"


def journal(world: World, player: int) -> dict[str, dict[str, Any]]:
    j: dict[str, dict[str, Any]] = state(world)["quests"].setdefault(player_name(world, player), {})
    return j


def status(world: World, player: int, quest_id: str) -> str | None:
    entry = journal(world, player).get(quest_id)
    return None if entry is None else str(entry["state"])


def can_accept(world: World, player: int, quest_id: str, t: Tables) -> str | None:
    """Why ``player`` may not accept the quest now, or None."""
    if status(world, player, quest_id) == "active":
        return "you are already on that job"
    if status(world, player, quest_id) == "done":
        return "you have done that job already"
    missing = [q for q in t.quests[quest_id].get("prerequisites", ()) if status(world, player, q) != "done"]
    if missing:
        names = ", ".join(t.quests[q]["name"] if q in t.quests else q for q in missing)
        return f"first finish: {names}"
    level, yours = quest_level(quest_id, t), player_level(int(world.get(player, "Player")["xp"]))
    if level > yours + QUEST_LEVEL_MARGIN:
        return f"it is a level {level} job and you are level {yours}"
    return None


def quest_level(quest_id: str, t: Tables) -> int:
    """How dangerous a job is: its strongest kill target's level (1 for one with no fight)."""
    levels = [
        int(t.npcs[o["target"]].get("level", 1))
        for o in t.quests[quest_id]["objectives"]
        if o["kind"] == "kill" and o["target"] in t.npcs
    ]
    return max(levels, default=1)


def accept(world: World, player: int, quest_id: str) -> None:
    quest = tables(world).quests[quest_id]
    journal(world, player)[quest_id] = {"state": "active", "progress": [0] * len(quest["objectives"])}
    tell(world, player, f"Job accepted: {quest['name']}.", "quest")
    describe_progress(world, player, quest_id)
    check(world, player)
    gmcp_quests(world, player)


def abandon(world: World, player: int, quest_id: str) -> None:
    journal(world, player).pop(quest_id, None)
    gmcp_quests(world, player)


def active_jobs(world: World, player: int, t: Tables | None = None) -> list[str]:
    """The player's active jobs that the content still has: what ``quest``, ``score`` and the
    ``Char.Quests`` GMCP package all show."""
    t = t or tables(world)
    return [q for q, e in journal(world, player).items() if e["state"] == "active" and q in t.quests]


def gmcp_quests(world: World, player: int) -> None:
    """``Char.Quests``: the player's active jobs, by id and name."""
    from ouroboros.worlds.neon.actions import gmcp

    t = tables(world)
    active = [{"id": q, "name": t.quests[q]["name"]} for q in active_jobs(world, player, t)]
    gmcp(world, player, "Char.Quests", {"active": active})


def _carried(world: World, player: int, item: str) -> list[int]:
    return [i for i in items_held(world, player) if item_id(world, i) == item]


def objective_text(world: World, player: int, quest_id: str, t: Tables) -> list[str]:
    entry = journal(world, player)[quest_id]
    out = []
    for obj, done in zip(t.quests[quest_id]["objectives"], entry["progress"], strict=False):
        count = obj.get("count", 1)
        target = obj["target"]
        if obj["kind"] == "kill":
            what = f"take down {t.npcs[target]['name'] if target in t.npcs else target}"
        elif obj["kind"] == "visit":
            what = f"go to {t.rooms[target]['name'] if target in t.rooms else target}"
        else:
            item = t.items[target]["name"] if target in t.items else target
            if obj["kind"] == "collect":
                done = min(count, len(_carried(world, player, target)))
                what = f"bring {item}"
            else:
                to = t.npcs[obj["to"]]["name"] if obj["to"] in t.npcs else obj["to"]
                what = f"give {item} to {to}"
        out.append(f"  [{'x' if done >= count else ' '}] {what} ({min(done, count)}/{count})")
    return out


def describe_progress(world: World, player: int, quest_id: str) -> None:
    t = tables(world)
    lines = objective_text(world, player, quest_id, t)
    tell(world, player, "\n".join([t.quests[quest_id]["name"], *lines]), "quest")


def on_event(world: World, player: int, kind: str, target: str, to: str | None = None) -> bool:
    """Count a kill, a delivery or a visit for the player's active quests; True if one counted."""
    t = tables(world)
    counted = False
    for quest_id, entry in journal(world, player).items():
        if entry["state"] != "active" or quest_id not in t.quests:
            continue
        for i, obj in enumerate(t.quests[quest_id]["objectives"]):
            if obj["kind"] != kind or obj["target"] != target or (to is not None and obj.get("to") != to):
                continue
            if entry["progress"][i] < obj.get("count", 1):
                entry["progress"][i] += 1
                counted = True
                break
    if counted:
        check(world, player)
    return counted


def wants_delivery(world: World, player: int, item: str, to: str) -> bool:
    t = tables(world)
    for quest_id, entry in journal(world, player).items():
        if entry["state"] != "active" or quest_id not in t.quests:
            continue
        for i, obj in enumerate(t.quests[quest_id]["objectives"]):
            is_it = obj["kind"] == "deliver" and obj["target"] == item and obj["to"] == to
            if is_it and entry["progress"][i] < obj.get("count", 1):
                return True
    return False


def check(world: World, player: int) -> None:
    """Complete every active quest whose objectives are all met."""
    t = tables(world)
    for quest_id, entry in list(journal(world, player).items()):
        if entry["state"] != "active" or quest_id not in t.quests:
            continue
        quest = t.quests[quest_id]
        met = True
        for obj, done in zip(quest["objectives"], entry["progress"], strict=False):
            count = obj.get("count", 1)
            if obj["kind"] == "collect":
                done = len(_carried(world, player, obj["target"]))
            if done < count:
                met = False
                break
        if met:
            _complete(world, player, quest_id, quest, t)


def _complete(world: World, player: int, quest_id: str, quest: dict[str, Any], t: Tables) -> None:
    for obj in quest["objectives"]:
        if obj["kind"] == "collect":
            remove(world, _carried(world, player, obj["target"])[: obj.get("count", 1)])
    rewards = quest.get("rewards", {})
    credits = rewards.get("credits", 0) * t.multiplier("*", "reward") // 1000
    journal(world, player)[quest_id]["state"] = "done"
    tell(world, player, f"Job done: {quest['name']}!", "quest")
    gmcp_quests(world, player)
    if credits:
        verdict = economy.transact(world, player, "reward", credits, bound=credits)
        if verdict.ok:
            tell(world, player, f"You are paid {credits_text(credits)}.", "loot")
        else:
            tell(world, player, f"Your pay of {credits_text(credits)} is held: {verdict.reason}.", "system")
    xp = rewards.get("xp", 0)
    if xp:
        p = world.get(player, "Player")
        world.set(player, "Player", xp=p["xp"] + xp)
        tell(world, player, f"You gain {xp} xp.", "loot")
    for reward_item in rewards.get("items", ()):
        if reward_item in t.items:
            spawn_item(world, slots(world).slot("item", reward_item), holder=player)
            tell(world, player, f"You receive {t.items[reward_item]['name']}.", "loot")
