"""NPCs from archetypes: the numbers come from level curves fitted to the neon base world, the level
from the tier of the district the npc is placed in; behaviours, factions, stock and drops are
picked from what the content already has.

``make_npc`` is shared with the building and event generators (a guard, a rival, a merchant).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ouroboros.ai.generators import _words as words
from ouroboros.ai.generators._draft import Draft, level_arg, text_arg
from ouroboros.ai.generators._world import WorldView
from ouroboros.ai.proposals import Proposal, ProposalType, SeededDraws
from ouroboros.content.rules import RARITY_ORDER, Guardrails
from ouroboros.errors import BadInputError

__all__ = ["ARCHETYPES", "Archetype", "generate_npc", "make_npc", "pick_room"]

GENERATOR = "npc@1"


@dataclass(frozen=True)
class Archetype:
    kind: str  # the content's NpcKind
    behaviours: tuple[str, ...]  # first one present in the content is used, else drawn
    factions: tuple[str, ...]
    hostile: bool
    credits_per_level: int  # money dropped on death, per level
    respawn_ticks: int
    weight: int  # how often it is drawn when the context names none
    min_threat: int  # the calmest room it is placed in
    max_threat: int


def _a(
    kind: str, behaviours: tuple[str, ...], factions: tuple[str, ...], hostile: bool, *rest: int
) -> Archetype:
    return Archetype(kind, behaviours, factions, hostile, *rest)


B, F = "neon.behavior.", "neon.faction."
#          kind, behaviours, factions, hostile, credits/level, respawn ticks, weight, threat range
ARCHETYPES: dict[str, Archetype] = {
    "ganger": _a("ganger", (B + "ganger",), (F + "chrome_jackals",), True, 6, 1500, 30, 2, 10),
    "enforcer": _a(
        "corp_security",
        (B + "security_patrol", B + "security_post"),
        (F + "corp_security", F + "city_police"),
        True, 4, 3000, 15, 0, 8,
    ),
    "drone": _a("drone", (B + "drone",), (F + "rogue_drones",), True, 0, 1500, 15, 1, 10),
    "fixer": _a("fixer", (B + "bystander",), (F + "fixers",), False, 0, 30000, 8, 0, 6),
    "vendor": _a("vendor", (B + "vendor",), (F + "vendors_guild",), False, 0, 30000, 12, 0, 6),
    "civilian": _a("civilian", (B + "civilian", B + "bystander"), (F + "citizens",), False, 2, 3000, 15, 0,
                   6),
    "boss": _a("boss", (B + "boss",), (F + "chrome_jackals",), True, 25, 15000, 5, 6, 10),
}  # fmt: skip
#: the rarest item an npc of each tier stocks or drops (bosses one step rarer)
TIER_RARITY = {1: "common", 2: "uncommon", 3: "rare", 4: "epic"}
LEVELS = {1: (1, 4), 2: (4, 8), 3: (7, 12), 4: (10, 16)}
VENDOR_TRADES = (("weapon", "armour"), ("consumable", "implant"), ("consumable", "junk", "armour"))


def stats_for(archetype: str, level: int) -> dict[str, int]:
    """hp, damage, armour and accuracy of an npc of ``level`` (curves fitted to the base npcs)."""
    if archetype == "boss":
        return {"hp": 40 * level + 80, "damage": 3 * level // 2 + 3, "armour": level, "accuracy": 80}
    fighter = ARCHETYPES[archetype].hostile
    return {
        "hp": 30 + 10 * level,
        "damage": level + 2 if fighter else (level + 1) // 2 + 1,
        "armour": level // 2,
        "accuracy": min(95, 40 + 2 * level),
    }


def pick_room(
    view: WorldView,
    draws: SeededDraws,
    *,
    min_threat: int,
    max_threat: int,
    district: str | None,
    street: bool,
) -> dict[str, Any]:
    """A room to place something in, within the threat range (widened when none fits)."""
    pool = (
        view.street_rooms(district)
        if street
        else [r for r in view.rooms() if district in (None, r["district"])]
    )
    if not pool:
        raise BadInputError(f"no room in district {district!r} to place anything in", code="bad_context")
    fitting = [r for r in pool if min_threat <= int(r.get("threat_level", 0)) <= max_threat]
    return dict(draws.choice(fitting or pool))


def _items_up_to(view: WorldView, rarity: str, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    top = RARITY_ORDER.index(rarity)
    return [i for i in view.objects("items") if i["kind"] in kinds and RARITY_ORDER.index(i["rarity"]) <= top]


def make_npc(
    draft: Draft,
    draws: SeededDraws,
    guardrails: Guardrails,
    archetype: str,
    room: Mapping[str, Any],
    *,
    faction: str | None = None,
    level: int | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """Add one npc of ``archetype`` at ``room`` to ``draft`` and return it."""
    view = draft.view
    kind = ARCHETYPES[archetype]
    tier = view.tier_of(room)
    if level is None:
        if archetype == "boss":
            level = 12 + 3 * tier + draws.between(0, 3)
        elif kind.hostile:
            level = draws.between(*LEVELS[tier])
        else:
            level = draws.between(4, 15)
    behaviours = [b for b in kind.behaviours if b in view.behaviour_ids()] or sorted(view.behaviour_ids())
    if not behaviours:
        raise BadInputError("the content has no npc behaviours to give an npc", code="bad_context")
    if faction is not None and faction not in view.factions:
        raise BadInputError(f"unknown faction {faction!r}", code="bad_context", path="faction")
    if faction is None:
        factions = list(kind.factions)
        if archetype in ("ganger", "boss") and "undercity" in room["district"]:
            factions = ["neon.faction.drain_rats"]
        faction = draws.choice([f for f in factions if f in view.factions] or sorted(view.factions))
    npc_id = view.new_id("npc", draft.seed, f"{archetype}:{len(draft.payload.get('npcs', ()))}")
    npc: dict[str, Any] = {
        "id": npc_id,
        "version": "1.0.0",
        "name": name or words.npc_name(draws, archetype),
        "kind": kind.kind,
        "faction": faction,
        "level": level,
        **stats_for(archetype, level),
        "behavior": draws.choice(behaviours),
        "stock": [],
        "drops": [],
        "spawn_room": room["id"],
        "respawn_ticks": kind.respawn_ticks,
    }
    top = TIER_RARITY[min(4, tier + (1 if archetype == "boss" else 0))]
    if archetype == "vendor":
        trades = draws.choice(VENDOR_TRADES)
        goods = _items_up_to(view, "rare", trades)
        count = min(len(goods), draws.between(3, 6))
        for _ in range(count):
            pick = draws.choice([g["id"] for g in goods if g["id"] not in npc["stock"]])
            npc["stock"].append(pick)
    if kind.hostile:
        loot = _items_up_to(view, "common", ("junk", "consumable"))
        gear = _items_up_to(view, top, ("weapon", "armour", "implant"))
        picks = [draws.choice(loot)["id"]] if loot else []
        if gear and draws.permille() < 600:
            picks.append(draws.choice(gear)["id"])
        for item in dict.fromkeys(picks):
            npc["drops"].append({"item": item, "chance_permille": draws.between(50, 400)})
        credits = kind.credits_per_level * level + draws.between(0, 2 * level)
        if credits:
            npc["extensions"] = {"neon.credits": credits}
    draft.add("npcs", npc, words=("name",))
    return npc


def generate_npc(view: WorldView, seed: int, guardrails: Guardrails, context: Mapping[str, Any]) -> Proposal:
    draws = SeededDraws(seed, f"{view.world}:npc")
    archetype = text_arg(context, "archetype")
    if archetype is None:
        names = sorted(ARCHETYPES)
        weights = [ARCHETYPES[n].weight for n in names]
        roll = draws.below(sum(weights))
        for candidate, weight in zip(names, weights, strict=True):
            if roll < weight:
                archetype = candidate
                break
            roll -= weight
    if archetype not in ARCHETYPES:
        raise BadInputError(
            f"unknown archetype {archetype!r} (known: {', '.join(sorted(ARCHETYPES))})", code="bad_context"
        )
    kind = ARCHETYPES[archetype]
    room_id = text_arg(context, "room")
    if room_id is not None:
        room = view.get("rooms", room_id)
        if room is None:
            raise BadInputError(f"no room {room_id!r} to place the npc in", code="bad_context", path="room")
    else:
        room = pick_room(
            view,
            draws,
            min_threat=kind.min_threat,
            max_threat=kind.max_threat,
            district=text_arg(context, "district"),
            street=kind.hostile,
        )
    draft = Draft(ProposalType.NPC, view, seed, GENERATOR)
    level = level_arg(context, "level")  # the difficulty adjuster: a match for a cruising runner
    faction = text_arg(context, "faction")
    npc = make_npc(draft, draws, guardrails, archetype, room, faction=faction, level=level)
    credits = int(npc.get("extensions", {}).get("neon.credits", 0))
    return draft.finish(
        tags=["npc", archetype],
        invariants=["within_budget", "refs_resolve"],
        budget={
            "level": npc["level"],
            "tier": view.tier_of(room),
            "credits_drop": credits,
            "credits_allowed": guardrails.max_money_drop,
        },
        summary=f"{archetype} {npc['name']!r} (level {npc['level']}) at {room['name']}",
    )
