"""What the governance layer and the operator see of neon: which content it takes, how a version's
effective content lands in the city, its KPIs and the integers shadow runs compare.

The base world is patch zero: a version's effective content is laid over it, object by object
(same id: the version's object wins). Landing a version never deletes what players own: an item a
player holds keeps its definition (``retired_items``) when a version drops it, and a room with a
player in it stays (``retired_rooms``). Npcs new to the content appear at their spawn rooms; npcs
dropped from it leave the city.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ouroboros.engine import World
from ouroboros.worlds.neon import actions, economy, experience, procgen
from ouroboros.worlds.neon import tables as tb
from ouroboros.worlds.neon.city import npc_id, remove, slots, state
from ouroboros.worlds.neon.params import PARAMS, param_problem
from ouroboros.worlds.neon.words import unknown_placeholders

SUPPORTED_DOMAINS = frozenset(tb.DOMAINS)


def check_content(content: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """World-specific refusals as (code, path, message)."""
    problems: list[tuple[str, str, str]] = []
    for domain, objects in content.items():
        if domain != "remove" and objects and domain not in SUPPORTED_DOMAINS:
            problems.append(("unsupported_domain", f"/content/{domain}", f"neon takes no {domain} yet"))
    for i, obj in enumerate(content.get("scripts") or ()):
        if obj.get("language") != "lua":
            problems.append(
                ("unsupported_language", f"/content/scripts/{i}/language", "neon runs Lua scripts")
            )
    for i, obj in enumerate(content.get("world_params") or ()):
        if obj.get("world") != "neon":
            problems.append(
                ("wrong_world", f"/content/world_params/{i}/world", "these params are not for neon")
            )
            continue
        for name, value in (obj.get("params") or {}).items():
            problem = param_problem(name, value)
            if problem is not None:
                code = "unknown_param" if name not in PARAMS else "param_out_of_range"
                problems.append((code, f"/content/world_params/{i}/params/{name}", problem))
    for i, obj in enumerate(content.get("procgen_rules") or ()):
        if obj.get("kind") not in procgen.RUN_KINDS:
            problems.append((
                "unsupported_procgen",
                f"/content/procgen_rules/{i}/kind",
                f"neon runs {' and '.join(procgen.RUN_KINDS)} rules, not {obj.get('kind')}",
            ))  # fmt: skip
    for i, obj in enumerate(content.get("dialogue") or ()):
        for j, line in enumerate(obj.get("lines") or ()):
            unknown = unknown_placeholders(str(line.get("text", "")))
            if unknown:
                problems.append((
                    "unknown_placeholder",
                    f"/content/dialogue/{i}/lines/{j}/text",
                    f"{', '.join(unknown)}: a line may use only {' and '.join(tb.DIALOGUE_PLACEHOLDERS)}",
                ))  # fmt: skip
    if not problems:
        try:
            tb.build_tables(effective(content))
        except Exception as exc:  # the city could not run on it
            problems.append(("unplayable", "/content", str(exc)))
    return problems


def effective(content: Mapping[str, Any]) -> dict[str, Any]:
    base = tb.base_content()
    out: dict[str, Any] = {}
    for domain in tb.DOMAINS:
        merged = {o["id"]: o for o in base.get(domain, ())}
        merged.update({o["id"]: o for o in content.get(domain, ()) or ()})
        out[domain] = [merged[k] for k in sorted(merged)]
    return out


def apply_content(world: World, content: Mapping[str, Any]) -> None:
    """Make the city follow ``content`` (the whole effective content of a version)."""
    old = tb.tables(world)
    new_content = effective(content)
    new = tb.build_tables(new_content)
    neon = state(world)
    s = slots(world)
    for chunk in world.query("Item"):
        for proto in set(chunk["Item.proto"][chunk["Item.holder"] != 0].tolist()):
            iid = s.id_of("item", proto)
            if iid not in new.items and iid in old.items:
                neon["retired_items"][iid] = old.items[iid]
    for chunk in world.query("Player", "Place"):
        for room in set(chunk["Place.room"].tolist()):
            rid = s.id_of("room", room)
            if rid not in new.rooms and rid in old.rooms:
                neon["retired_rooms"][rid] = old.rooms[rid]
    world.meta["neon_content"] = new_content
    gone = []
    present = set()
    for chunk in world.query("Npc"):
        for npc in chunk.ids.tolist():
            nid = npc_id(world, npc)
            if nid in new.npcs:
                present.add(nid)
            else:
                gone.append(npc)
    remove(world, gone)
    for nid in sorted(set(new.npcs) - present - set(neon["respawn"])):
        actions.spawn_npc(world, nid)
    for nid in [n for n in neon["respawn"] if n not in new.npcs]:
        del neon["respawn"][nid]


def kpis(world: World) -> dict[str, Any]:
    neon = state(world)
    reports = neon["economy"]["reports"]
    return {
        "tick": world.tick,
        "players_online": sum(int(c["Player.online"].sum()) for c in world.query("Player")),
        "players": len(neon["player_names"]),
        "npcs": world.count("Npc"),
        "items": world.count("Item"),
        "money_supply": economy.money_supply(world),
        "inflation_permille": reports[-1]["inflation_permille"] if reports else 0,
        "held_transactions": neon["economy"]["held_total"],
        **experience.feedback_kpis(world),
        "quests_done": sum(1 for j in neon["quests"].values() for e in j.values() if e["state"] == "done"),
        "gameplay_version": world.resources.get("gameplay_version"),
    }


def shadow_metrics(world: World) -> dict[str, int]:
    neon = state(world)
    return {
        "npcs": world.count("Npc"),
        "items": world.count("Item"),
        "money_supply": economy.money_supply(world),
        "held": int(neon["economy"]["held_total"]),
        "quests_done": sum(1 for j in neon["quests"].values() for e in j.values() if e["state"] == "done"),
    }
