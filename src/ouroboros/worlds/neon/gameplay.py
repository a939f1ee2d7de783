"""What the governance layer and the operator see of neon: which content it takes, how a version's
effective content lands in the city, its KPIs and the integers shadow runs compare.

The base world is patch zero: a version's effective content is laid over it, object by object
(same id: the version's object wins). Landing a version migrates live state (``migrate``): nobody
stays in a room that left, a job that left is withdrawn, an item a player holds keeps its
definition (``retired_items``) or is converted as the patch's hint says. Npcs new to the content
appear at their spawn rooms; npcs dropped from it leave the city, with a line in their room; new
ground is announced to everyone online. (``retired_rooms`` is only read, for cities saved before
rooms migrated.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ouroboros.content.overlay import overlay
from ouroboros.engine import World
from ouroboros.worlds.neon import actions, economy, experience, procgen
from ouroboros.worlds.neon import tables as tb
from ouroboros.worlds.neon.city import emit, npc_id, online_names, remove, room_of, state, tell_room
from ouroboros.worlds.neon.migrate import migrate
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
    """The city's base content with ``content`` laid over it (``content.overlay``), every domain."""
    laid = overlay(tb.base_content(), {d: content.get(d) or [] for d in tb.DOMAINS})
    return {domain: laid.get(domain, []) for domain in tb.DOMAINS}


def apply_content(
    world: World, content: Mapping[str, Any], migration: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Make the city follow ``content`` (the whole effective content of a version) and migrate
    what referred to objects that left (``migrate``); returns the migration report.
    ``migration``: the change's hints (``items``: old id → new id), ``announcement`` (the words
    players see) and ``kind`` (``rollback`` or ``change``)."""
    hints = migration or {}
    old = tb.tables(world)
    new_content = effective(content)
    new = tb.build_tables(new_content)
    tb.follow(world, new_content, new)
    report = migrate(world, old, new, hints)
    neon = state(world)
    gone = []
    present = set()
    for chunk in world.query("Npc"):
        for npc in chunk.ids.tolist():
            nid = npc_id(world, npc)
            if nid in new.npcs:
                present.add(nid)
            else:
                gone.append(npc)
    for npc in gone:
        name = old.npcs.get(npc_id(world, npc), {}).get("name", "Someone")
        tell_room(world, room_of(world, npc), f"{name} leaves the city.")
        report.removed.append({"npc": npc_id(world, npc)})
    remove(world, gone)
    for nid in sorted(set(new.npcs) - present - set(neon["respawn"])):
        actions.spawn_npc(world, nid)  # says "X appears." in its room
    for nid in [n for n in neon["respawn"] if n not in new.npcs]:
        del neon["respawn"][nid]
    if hints.get("kind") == "rollback":
        words = hints.get("announcement")
        _broadcast(world, f"The city rolls back to an earlier version{f': {words}' if words else '.'}")
    elif report.opened:
        _announce_opening(world, new, report.opened, hints)
    return report.as_dict()


def _broadcast(world: World, text: str) -> None:
    event = {"type": "text", "style": "system", "text": text}  # shared: events are read, never changed
    for name in online_names(world):
        emit(world, name, event)


def _announce_opening(world: World, new: tb.Tables, opened: list[str], hints: Mapping[str, Any]) -> None:
    """One line to every online player: the patch's announcement, else the new places' names."""
    text = hints.get("announcement")
    if not isinstance(text, str) or not text:
        shown = [new.rooms[r]["name"] for r in opened[:3]]
        more = f" and {len(opened) - 3} more" if len(opened) > 3 else ""
        text = f"New ground opens in the city: {', '.join(shown)}{more}."
    _broadcast(world, text)


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
