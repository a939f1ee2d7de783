"""Items from a power budget: the rarity sets how many points the item may spend (the guardrails'
``rarity_budget_points``), damage, accuracy, armour, healing, crit chance and procs each cost points
(``guardrails.POINT_COSTS``), and the price follows from the points spent and the rarity.

A generated item is also made reachable: common to rare items go into the stock of a vendor who
sells that kind, epic and legendary ones become a rare drop of a hostile npc (a boss for a
legendary), by a replacing npc object with a greater version that keeps everything else.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ouroboros.ai.generators import _words as words
from ouroboros.ai.generators._draft import Draft, text_arg
from ouroboros.ai.generators._world import WorldView, bump_version
from ouroboros.ai.generators.invariants import SLOT_WORDS
from ouroboros.ai.proposals import Proposal, ProposalType, SeededDraws
from ouroboros.content import LIMITS
from ouroboros.content.rules import (
    CRIT_EXTENSION,
    POINT_COSTS,
    PROCS_EXTENSION,
    RARITY_ORDER,
    Guardrails,
    item_power,
)
from ouroboros.errors import BadInputError

__all__ = ["KIND_WEIGHTS", "PRICE_PER_POINT", "RARITY_WEIGHTS_PERMILLE", "generate_item", "make_item"]

GENERATOR = "item@1"
#: what every item proposal keeps (``guardrails.check`` verifies each); a carried one is reachable too
ITEM_INVARIANTS = ["within_budget", "refs_resolve", "slot_fits_name"]
#: how often each rarity is drawn, in permille (legendary: 5 in 1000)
RARITY_WEIGHTS_PERMILLE = {"common": 550, "uncommon": 270, "rare": 130, "epic": 45, "legendary": 5}
KIND_WEIGHTS = {"weapon": 40, "armour": 25, "implant": 20, "consumable": 15}
#: credits per power point, by rarity
PRICE_PER_POINT = {"common": 5, "uncommon": 20, "rare": 60, "epic": 150, "legendary": 400}
SLOTS = {
    "weapon": ("main_hand",),
    "armour": ("head", "body", "hands", "legs", "feet"),
    "implant": ("neural", "optic", "limb"),
    "consumable": (None,),
    "junk": (None,),
}
PROCS = ("shock", "burn", "bleed", "emp", "stagger")
MAX_PROCS = 2
MAX_CRIT_PERMILLE = 1000


def _weighted(draws: SeededDraws, weights: Mapping[str, int]) -> str:
    roll = draws.below(sum(weights.values()))
    for name, weight in weights.items():
        if roll < weight:
            return name
        roll -= weight
    raise AssertionError("unreachable")  # pragma: no cover


def _spend(draws: SeededDraws, kind: str, rarity: str, target: int) -> tuple[dict[str, int], int, list[str]]:
    """Spend ``target`` points on stats for ``kind``: (stats, crit permille, procs)."""
    stats = {"damage": 0, "armour": 0, "accuracy": 0, "heal": 0}
    crit = 0
    procs: list[str] = []
    if kind == "consumable":
        stats["heal"] = 3 * target
        return stats, crit, procs
    left = target
    if kind == "weapon":
        stats["damage"] = max(1, target * draws.between(600, 800) // 1000)
        left -= stats["damage"] * POINT_COSTS["damage"]
    elif kind == "armour":
        stats["armour"] = max(1, target // POINT_COSTS["armour"])
        left -= stats["armour"] * POINT_COSTS["armour"]
    while left > 0:
        # every stat with headroom left under the content's caps; damage always has some
        options = [
            *(["accuracy"] if stats["accuracy"] < LIMITS.max_item_accuracy_bonus else []),
            *(["crit"] if crit < MAX_CRIT_PERMILLE else []),
            *(["armour", "damage"] if kind == "implant" and left >= POINT_COSTS["armour"] else []),
        ]
        if left >= POINT_COSTS["proc"] and len(procs) < MAX_PROCS and RARITY_ORDER.index(rarity) >= 2:
            options.append("proc")
        option = draws.choice(options or ["damage"])
        chunk = draws.between(1, max(1, left // 2))
        if option == "proc":
            procs.append(draws.choice([p for p in PROCS if p not in procs]))
            left -= POINT_COSTS["proc"]
        elif option == "crit":
            steps = min(chunk, (MAX_CRIT_PERMILLE - crit) // 10)
            crit += 10 * steps
            left -= steps * POINT_COSTS["crit_per_10"]
        elif option == "armour":
            units = max(1, min(chunk, left) // POINT_COSTS["armour"])
            stats["armour"] += units
            left -= units * POINT_COSTS["armour"]
        elif option == "accuracy":
            units = min(chunk, LIMITS.max_item_accuracy_bonus - stats["accuracy"])
            stats["accuracy"] += units
            left -= units * POINT_COSTS["accuracy"]
        else:
            stats["damage"] += chunk
            left -= chunk * POINT_COSTS["damage"]
    return stats, crit, procs


def make_item(
    draft: Draft, draws: SeededDraws, guardrails: Guardrails, kind: str, rarity: str
) -> tuple[dict[str, Any], int, int]:
    """Add one item to ``draft``: (item, points spent, points allowed)."""
    allowed = guardrails.rarity_budget_points[rarity]
    target = max(1, allowed - draws.between(0, min(3, allowed // 4)))
    stats, crit, procs = _spend(draws, kind, rarity, target)
    item: dict[str, Any] = {
        "id": draft.view.new_id("item", draft.seed, f"{kind}:{len(draft.payload.get('items', ()))}"),
        "version": "1.0.0",
        "name": words.item_name(draws, kind),
        "kind": kind,
        "rarity": rarity,
        "price": 0,
        "slot": None,
        "stats": stats,
        "description": words.item_description(draws, rarity, procs),
        "tags": [kind, rarity],
    }
    # the slot the name says ("Greaves": legs), else one the kind allows
    named = [
        SLOT_WORDS[w]
        for w in item["name"].lower().split()
        if w in SLOT_WORDS and SLOT_WORDS[w] in SLOTS[kind]
    ]
    item["slot"] = named[-1] if named else draws.choice(SLOTS[kind])
    extensions: dict[str, Any] = {}
    if crit:
        extensions[CRIT_EXTENSION] = crit
    if procs:
        extensions[PROCS_EXTENSION] = procs
    if extensions:
        item["extensions"] = extensions
    spent = item_power(item)
    item["price"] = max(1, spent * PRICE_PER_POINT[rarity])
    draft.add("items", item)
    return item, spent, allowed


def _stock_it(draft: Draft, draws: SeededDraws, item: Mapping[str, Any]) -> str | None:
    """Put ``item`` where players can get it; the npc that now carries it, if any."""
    view = draft.view
    rank = RARITY_ORDER.index(item["rarity"])
    if rank <= RARITY_ORDER.index("rare"):
        candidates = []
        for npc in view.npcs_of_kind("vendor"):
            sold = {view.by_id["items"][s]["kind"] for s in npc.get("stock", ()) if s in view.by_id["items"]}
            if item["kind"] in sold and len(npc.get("stock", ())) < LIMITS.max_stock_items:
                candidates.append(npc)
        if not candidates:
            return None
        carrier = copy.deepcopy(draws.choice(candidates))
        carrier["stock"] = [*carrier.get("stock", ()), item["id"]]
    else:
        kinds = ("boss",) if item["rarity"] == "legendary" else ("boss", "ganger", "corp_security")
        candidates = [n for n in view.npcs_of_kind(*kinds) if len(n.get("drops", ())) < LIMITS.max_drops]
        if not candidates:
            return None
        carrier = copy.deepcopy(draws.choice(candidates))
        chance = draws.between(10, 50) if item["rarity"] == "legendary" else draws.between(30, 120)
        carrier["drops"] = [*carrier.get("drops", ()), {"item": item["id"], "chance_permille": chance}]
    carrier["version"] = bump_version(carrier["version"])
    draft.add("npcs", carrier, words=())
    return str(carrier["id"])


def generate_item(view: WorldView, seed: int, guardrails: Guardrails, context: Mapping[str, Any]) -> Proposal:
    draws = SeededDraws(seed, f"{view.world}:item")
    rarity = text_arg(context, "rarity") or _weighted(draws, RARITY_WEIGHTS_PERMILLE)
    kind = text_arg(context, "kind") or _weighted(draws, KIND_WEIGHTS)
    if rarity not in RARITY_ORDER:
        raise BadInputError(f"unknown rarity {rarity!r}", code="bad_context", path="rarity")
    if kind not in KIND_WEIGHTS:
        raise BadInputError(
            f"unknown item kind {kind!r} (known: {', '.join(KIND_WEIGHTS)})", code="bad_context", path="kind"
        )
    draft = Draft(ProposalType.ITEM, view, seed, GENERATOR)
    item, spent, allowed = make_item(draft, draws, guardrails, kind, rarity)
    carrier = _stock_it(draft, draws, item)
    where = f", carried by {carrier}" if carrier else ""
    return draft.finish(
        tags=["item", kind, rarity],
        invariants=[*ITEM_INVARIANTS, *(["item_reachable"] if carrier else [])],
        budget={"power_spent": spent, "power_allowed": allowed, "price_credits": item["price"]},
        summary=f"{rarity} {kind} {item['name']!r}: {spent}/{allowed} power points, "
        f"{item['price']} credits{where}",
    )
