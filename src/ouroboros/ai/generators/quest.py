"""Quests from blueprints: a chain of nodes (kill, collect, deliver, visit) over content that
exists, an optional condition (a quest to finish first), and rewards from the difficulty of the
nodes: credits and experience in fixed ranges per difficulty point.

Targets are chosen so a player can meet them: kill targets are hostile npcs, collected and
delivered items are ones some npc stocks or drops or that lie on a floor, deliveries go to a
peaceful npc. ``make_quest`` is shared with the event generator, whose quests name the npcs the
same proposal adds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ouroboros.ai.generators import _words as words
from ouroboros.ai.generators._draft import Draft, level_arg, text_arg
from ouroboros.ai.generators._world import WorldView
from ouroboros.ai.proposals import Proposal, ProposalType, SeededDraws
from ouroboros.content.rules import RARITY_ORDER, Guardrails
from ouroboros.errors import BadInputError

__all__ = [
    "BLUEPRINTS",
    "CREDITS_PER_POINT",
    "XP_PER_POINT",
    "generate_quest",
    "make_quest",
    "reachable_items",
]

GENERATOR = "quest@1"
#: blueprint -> the node kinds it chains, in order
BLUEPRINTS: dict[str, tuple[str, ...]] = {
    "bounty": ("kill",),
    "salvage": ("collect",),
    "courier": ("deliver",),
    "scout": ("visit",),
    "raid": ("visit", "kill"),
    "heist": ("visit", "collect", "deliver"),
    "cleanup": ("kill", "collect"),
}
#: reward ranges per difficulty point (inclusive)
CREDITS_PER_POINT = (8, 12)
XP_PER_POINT = (5, 8)
HOSTILE_KINDS = ("ganger", "drone", "boss")
PEACEFUL_KINDS = ("fixer", "vendor", "civilian")


def reachable_items(view: WorldView) -> list[str]:
    """Items a player can get: stocked, dropped, or lying on a floor (sorted ids)."""
    found: set[str] = set()
    for npc in view.objects("npcs"):
        found.update(npc.get("stock", ()))
        found.update(d["item"] for d in npc.get("drops", ()))
    for room in view.rooms():
        floor = room.get("extensions", {}).get("neon.items", ())
        found.update(i for i in floor if isinstance(i, str))
    return sorted(i for i in found if view.get("items", i) is not None)


def _in_district(view: WorldView, npc: Mapping[str, Any], district: str | None) -> bool:
    room = view.get("rooms", str(npc.get("spawn_room", "")))
    return district is None or (room is not None and room["district"] == district)


def _prefer(found: list[dict[str, Any]], keep: list[bool]) -> list[dict[str, Any]]:
    """The ones marked ``keep``, or all of them when none is."""
    return [f for f, k in zip(found, keep, strict=True) if k] or found


def _node(
    view: WorldView,
    draws: SeededDraws,
    kind: str,
    giver: str,
    used: set[str],
    district: str | None = None,
    max_level: int | None = None,
) -> tuple[dict[str, Any], int, str] | None:
    """One objective of ``kind``: (objective, difficulty points, the target's name), or None.
    With ``district``, targets there are preferred (anywhere when the district has none); with
    ``max_level``, no kill target is above it."""
    if kind == "kill":
        targets = [
            n for n in view.npcs_of_kind(*HOSTILE_KINDS)
            if n["id"] not in used and (max_level is None or int(n["level"]) <= max_level)
        ]  # fmt: skip
        targets = _prefer(targets, [_in_district(view, n, district) for n in targets])
        if not targets:
            return None
        npc = draws.choice(targets)
        count = 1 if npc["kind"] == "boss" else draws.between(1, 4)
        return {"kind": "kill", "target": npc["id"], "count": count}, int(npc["level"]) * count, npc["name"]
    if kind in ("collect", "deliver"):
        items = [i for i in reachable_items(view) if i not in used]
        if not items:
            return None
        item = view.by_id["items"][draws.choice(items)]
        rank = RARITY_ORDER.index(item["rarity"]) + 1
        if kind == "collect":
            count = draws.between(1, 3) if rank == 1 else 1
            return {"kind": "collect", "target": item["id"], "count": count}, 5 * rank * count, item["name"]
        receivers = [n for n in view.npcs_of_kind(*PEACEFUL_KINDS) if n["id"] != giver]
        if not receivers:
            return None
        to = draws.choice(receivers)
        objective = {"kind": "deliver", "target": item["id"], "count": 1, "to": to["id"]}
        return objective, 5 * rank + 10, f"{item['name']} to {to['name']}"
    rooms = [r for r in view.rooms() if r["id"] not in used and not r.get("extensions", {}).get("neon.spawn")]
    rooms = _prefer(rooms, [district in (None, r["district"]) for r in rooms])
    room = draws.choice(rooms)
    return (
        {"kind": "visit", "target": room["id"], "count": 1},
        3 * int(room.get("threat_level", 0)) + 5,
        room["name"],
    )


def make_quest(
    draft: Draft,
    draws: SeededDraws,
    giver: Mapping[str, Any],
    blueprint: str,
    *,
    objectives: list[tuple[dict[str, Any], int, str]] | None = None,
    prerequisite: str | None = None,
    district: str | None = None,
    max_level: int | None = None,
) -> dict[str, Any]:
    """Add a quest of ``blueprint`` from ``giver`` to ``draft`` (``objectives`` given: use those)."""
    view = draft.view
    if objectives is None:
        objectives = []
        used: set[str] = set()
        for kind in BLUEPRINTS[blueprint]:
            node = _node(view, draws, kind, giver["id"], used, district, max_level)
            if node is not None:
                used.add(node[0]["target"])
                objectives.append(node)
        if not objectives:
            raise BadInputError(
                f"the content has nothing to build a {blueprint} quest on", code="bad_context"
            )
    difficulty = sum(points for _objective, points, _name in objectives)
    rewards: dict[str, Any] = {
        "credits": difficulty * draws.between(*CREDITS_PER_POINT),
        "xp": difficulty * draws.between(*XP_PER_POINT),
        "items": [],
    }
    if draws.permille() < 300:
        goods = [
            i["id"]
            for i in view.objects("items")
            if i["kind"] == "consumable" and i["rarity"] in ("common", "uncommon")
        ]
        if goods:
            rewards["items"] = [draws.choice(goods)]
    quest: dict[str, Any] = {
        "id": view.new_id("quest", draft.seed, f"{blueprint}:{len(draft.payload.get('quests', ()))}"),
        "version": "1.0.0",
        "name": words.quest_name(draws),
        "description": words.quest_description(draws, [(o["kind"], name) for o, _p, name in objectives]),
        "giver": giver["id"],
        "objectives": [o for o, _p, _n in objectives],
        "rewards": rewards,
        "prerequisites": [prerequisite] if prerequisite else [],
        "extensions": {"neon.difficulty": difficulty},
    }
    draft.add("quests", quest)
    return quest


def generate_quest(
    view: WorldView, seed: int, guardrails: Guardrails, context: Mapping[str, Any]
) -> Proposal:
    draws = SeededDraws(seed, f"{view.world}:quest")
    max_level = level_arg(context, "max_level")  # the difficulty adjuster: a job a struggling runner can do
    giver_id = text_arg(context, "giver")
    district = text_arg(context, "district")
    if district is not None and not any(r["district"] == district for r in view.rooms()):
        raise BadInputError(f"no district {district!r}", code="bad_context", path="district")
    if giver_id is not None:
        giver = view.get("npcs", giver_id)
        if giver is None:
            raise BadInputError(f"no npc {giver_id!r} to give the quest", code="bad_context", path="giver")
        if not _in_district(view, giver, district):
            raise BadInputError(f"{giver_id} does not live in {district}", code="bad_context", path="giver")
    else:
        local = [n for n in view.npcs_of_kind(*PEACEFUL_KINDS) if _in_district(view, n, district)]
        givers = [n for n in local if n["kind"] == "fixer"] or local
        if not givers:
            where = f" in {district}" if district else ""
            raise BadInputError(
                f"the content has no peaceful npc{where} to give a quest", code="bad_context", path="district"
            )
        giver = draws.choice(givers)
    blueprint = text_arg(context, "blueprint") or draws.choice(sorted(BLUEPRINTS))
    if blueprint not in BLUEPRINTS:
        raise BadInputError(
            f"unknown blueprint {blueprint!r} (known: {', '.join(sorted(BLUEPRINTS))})",
            code="bad_context",
            path="blueprint",
        )
    prerequisite = None
    quests = view.objects("quests")
    if quests and draws.permille() < 400:
        own = [q["id"] for q in quests if q["giver"] == giver["id"]]
        prerequisite = draws.choice(own or [q["id"] for q in quests])
    draft = Draft(ProposalType.QUEST, view, seed, GENERATOR)
    quest = make_quest(
        draft, draws, giver, blueprint, prerequisite=prerequisite, district=district, max_level=max_level
    )
    difficulty = quest["extensions"]["neon.difficulty"]
    return draft.finish(
        tags=["quest", blueprint] + ([district] if district else []),
        invariants=["within_budget", "refs_resolve"],
        budget={
            "difficulty": difficulty,
            "credits": quest["rewards"]["credits"],
            "credits_allowed": guardrails.max_money_drop,
            "xp": quest["rewards"]["xp"],
            "xp_allowed": guardrails.max_quest_xp,
        },
        summary=f"{blueprint} quest {quest['name']!r} from {giver['name']}: "
        f"{len(quest['objectives'])} nodes, {quest['rewards']['credits']} credits",
    )
