"""Events: content that answers something that happened in the world.

- ``power_vacuum``: a boss died (``context["boss"]``). Two rivals of feuding factions move in
  near the boss's lair, a little weaker than the boss, and a fixer posts a bounty on both.
- ``money_sink``: inflation is high (``context["inflation_permille"]``). A merchant opens in a
  calm street selling luxuries with no power at all, priced to take money out of circulation:
  the higher the inflation, the higher the prices (and the guardrails' price cap still holds).

Which event: ``context["event"]`` when given, else a boss means a power vacuum, inflation above
``SINK_INFLATION_PERMILLE`` means a money sink, else a seeded draw.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ouroboros.ai.generators import _words as words
from ouroboros.ai.generators._draft import Draft, text_arg
from ouroboros.ai.generators._world import WorldView
from ouroboros.ai.generators.npc import make_npc, pick_room
from ouroboros.ai.generators.quest import PEACEFUL_KINDS, make_quest
from ouroboros.ai.proposals import Proposal, ProposalType, SeededDraws
from ouroboros.content.rules import Guardrails
from ouroboros.errors import BadInputError

__all__ = ["EVENTS", "SINK_INFLATION_PERMILLE", "generate_event"]

EVENTS = ("power_vacuum", "money_sink")
#: inflation as neon's economy report gives it: growth of the price level since the last report,
#: in permille (50 is 5 %); over this a money sink is called for (the director's limit too)
SINK_INFLATION_PERMILLE = 50
#: what a luxury costs before inflation, in credits (inclusive range)
LUXURY_BASE_PRICE = (1500, 6000)
GANG_FACTIONS = ("neon.faction.chrome_jackals", "neon.faction.drain_rats")


def _inflation(context: Mapping[str, Any]) -> int | None:
    value = context.get("inflation_permille")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100_000:
        raise BadInputError(
            "context['inflation_permille'] must be an integer in [0, 100000]", code="bad_context"
        )
    return value


def _near(view: WorldView, start: str, depth: int) -> list[dict[str, Any]]:
    """Rooms within ``depth`` steps of ``start`` (``start`` excluded), nearest first, by id."""
    seen = {start}
    ring = [start]
    found: list[dict[str, Any]] = []
    for _ in range(depth):
        nxt = []
        for rid in ring:
            for target in sorted(view.by_id["rooms"].get(rid, {}).get("exits", {}).values()):
                if target not in seen and target in view.by_id["rooms"]:
                    seen.add(target)
                    nxt.append(target)
        found += [view.by_id["rooms"][r] for r in sorted(nxt)]
        ring = nxt
    return found


def _power_vacuum(
    draft: Draft, draws: SeededDraws, guardrails: Guardrails, context: Mapping[str, Any]
) -> str:
    view = draft.view
    boss_id = text_arg(context, "boss")
    if boss_id is not None:
        boss = view.get("npcs", boss_id)
        if boss is None:
            raise BadInputError(
                f"no npc {boss_id!r} whose death leaves a vacuum", code="bad_context", path="boss"
            )
    else:
        bosses = view.npcs_of_kind("boss")
        if not bosses:
            raise BadInputError("the content has no boss to leave a power vacuum", code="bad_context")
        boss = draws.choice(bosses)
    lair = view.get("rooms", boss["spawn_room"])
    if lair is None:
        raise BadInputError(f"{boss['id']} spawns in no known room", code="bad_context")
    rooms = _near(view, lair["id"], 2) or [lair]
    factions = [f for f in GANG_FACTIONS if f in view.factions] or sorted(view.factions)
    rivals = []
    for index in range(2):
        faction = factions[index % len(factions)]
        room = draws.choice(rooms)
        level = max(1, int(boss["level"]) - draws.between(3, 6))
        rivals.append(make_npc(draft, draws, guardrails, "ganger", room, faction=faction, level=level))
    givers = view.npcs_of_kind("fixer") or view.npcs_of_kind(*PEACEFUL_KINDS)
    if not givers:
        raise BadInputError("the content has no peaceful npc to post the bounty", code="bad_context")
    objectives = [
        ({"kind": "kill", "target": r["id"], "count": 1}, int(r["level"]), r["name"]) for r in rivals
    ]
    quest = make_quest(draft, draws, draws.choice(givers), "bounty", objectives=objectives)
    return (
        f"power vacuum after {boss['name']}: {rivals[0]['name']} and {rivals[1]['name']} "
        f"fight over {lair['name']}; bounty {quest['name']!r}"
    )


def _money_sink(
    draft: Draft, draws: SeededDraws, guardrails: Guardrails, context: Mapping[str, Any], inflation: int
) -> str:
    view = draft.view
    room_id = text_arg(context, "room")
    if room_id is not None:
        room = view.get("rooms", room_id)
        if room is None:
            raise BadInputError(f"no room {room_id!r} for the merchant", code="bad_context", path="room")
    else:
        room = pick_room(
            view, draws, min_threat=0, max_threat=2, district=text_arg(context, "district"), street=True
        )
    goods = []
    for index in range(draws.between(2, 4)):
        base = draws.between(*LUXURY_BASE_PRICE)
        item = {
            "id": view.new_id("item", draft.seed, f"luxury:{index}"),
            "version": "1.0.0",
            "name": f"Gilded {words.item_name(draws, 'junk')}",
            "kind": "junk",
            "rarity": draws.choice(["rare", "epic"]),
            "price": base * (1000 + max(0, inflation)) // 1000,
            "slot": None,
            "stats": {"damage": 0, "armour": 0, "accuracy": 0, "heal": 0},
            "description": words.luxury_description(draws),
            "tags": ["junk", "luxury"],
        }
        draft.add("items", item)
        goods.append(item)
    merchant = make_npc(draft, draws, guardrails, "vendor", room, faction="neon.faction.vendors_guild")
    merchant["stock"] = [g["id"] for g in goods]
    total = sum(g["price"] for g in goods)
    return (
        f"money sink: {merchant['name']} sells {len(goods)} luxuries worth {total} credits at {room['name']}"
    )


def generate_event(
    view: WorldView, seed: int, guardrails: Guardrails, context: Mapping[str, Any]
) -> Proposal:
    draws = SeededDraws(seed, f"{view.world}:event")
    inflation = _inflation(context)
    event = text_arg(context, "event")
    if event is None:
        if context.get("boss") is not None:
            event = "power_vacuum"
        elif inflation is not None and inflation >= SINK_INFLATION_PERMILLE:
            event = "money_sink"
        else:
            event = draws.choice(EVENTS)
    if event not in EVENTS:
        raise BadInputError(
            f"unknown event {event!r} (known: {', '.join(EVENTS)})", code="bad_context", path="event"
        )
    draft = Draft(ProposalType.EVENT, view, seed, "event@1")
    if event == "power_vacuum":
        summary = _power_vacuum(draft, draws, guardrails, context)
    else:
        summary = _money_sink(draft, draws, guardrails, context, inflation or 0)
    items = draft.payload.get("items", ())
    quests = draft.payload.get("quests", ())
    kept = ["bounty_on_rivals"] if event == "power_vacuum" else ["sink_goods_powerless", "item_reachable"]
    return draft.finish(
        tags=["event", event],
        invariants=["within_budget", "refs_resolve", *kept],
        budget={
            "npcs": len(draft.payload.get("npcs", ())),
            "sink_credits": sum(int(i["price"]) for i in items),
            "reward_credits": sum(int(q["rewards"]["credits"]) for q in quests),
            "credits_allowed": guardrails.max_money_drop,
        },
        summary=summary,
    )
