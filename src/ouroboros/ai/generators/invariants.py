"""The invariants a proposal names, and how each is verified (``guardrails.check`` calls
``invariant_problems``). Pure: reads the proposal and, for the ones that need it, the content the
proposal grows into.

- ``within_budget``: the guardrails' numeric caps (``check`` applies them to every proposal).
- ``refs_resolve``: every reference in the payload is to an object it adds or (without
  ``content``) to a declared dependency, (with ``content``) to an object there; with ``content``,
  every declared dependency exists there too. A queue edit that points at an existing room is
  fine given the content, and one that points nowhere is refused either way.
- ``slot_fits_name``: armour and implants are worn where a word of their name says
  (``SLOT_WORDS``: "Greaves" on the legs, never on the hands).
- ``item_reachable``: every item the proposal adds is stocked, dropped or lies on a floor in it.
- ``quest_inside`` (dungeons): the quest's kill, collect and visit targets are all added here.
- ``bounty_on_rivals`` (power vacuum): the bounty's kill targets are the rivals added here.
- ``sink_goods_powerless`` (money sink): the luxuries have no power at all and are on sale.
- the map invariants (``exits_kept``, ``rooms_kept``, ``coords_free``, ``two_way_exits``,
  ``rooms_reachable``): ``expansion.map_problems`` against ``content``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ouroboros.ai.generators._world import WorldView
from ouroboros.ai.generators.expansion import map_problems
from ouroboros.ai.proposals import Proposal
from ouroboros.content import parse_content, references
from ouroboros.content.rules import item_power, letter_runs
from ouroboros.errors import OuroborosError

__all__ = ["CONTENT_INVARIANTS", "INVARIANTS", "SELF_INVARIANTS", "SLOT_WORDS", "invariant_problems"]


#: a word in an item's name -> the slot such an item is worn in ("Greaves" are never gloves)
SLOT_WORDS: dict[str, str] = {
    "helm": "head",
    "helmet": "head",
    "visor": "head",
    "vest": "body",
    "jacket": "body",
    "plating": "body",
    "coat": "body",
    "gauntlets": "hands",
    "gloves": "hands",
    "greaves": "legs",
    "boots": "feet",
    "optics": "optic",
    "neural": "neural",
    "booster": "neural",
    "arm": "limb",
    "mesh": "limb",
}
#: invariants ``check`` can verify from the proposal alone, and those that need ``content``
SELF_INVARIANTS = ("within_budget", "refs_resolve", "slot_fits_name", "item_reachable", "quest_inside",
                   "bounty_on_rivals", "sink_goods_powerless")  # fmt: skip
CONTENT_INVARIANTS = ("exits_kept", "rooms_kept", "coords_free", "two_way_exits", "rooms_reachable")
INVARIANTS = (*SELF_INVARIANTS, *CONTENT_INVARIANTS)


def _added(payload: Mapping[str, Any], domain: str) -> set[str]:
    return {str(o.get("id")) for o in payload.get(domain) or () if isinstance(o, Mapping)}


def _refs_problems(proposal: Proposal, content: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(path, message) for every reference that resolves nowhere: not to an object the proposal
    adds and, without ``content``, not to a declared dependency; with ``content``, not to an
    object of the right domain there (and every declared dependency must exist there too)."""
    try:
        parsed = parse_content(proposal.payload)
    except OuroborosError as exc:
        return [("/", f"refs_resolve: the payload is not valid content: {exc}")]
    view = WorldView(proposal.world, content) if content is not None else None
    declared = set(proposal.dependencies)
    out = []
    for domain, objects in proposal.payload.items():
        if domain == "remove" or not isinstance(objects, list):
            continue
        for index, obj in enumerate(parsed.objects(domain)):
            for ref in references(obj):
                if ref.target_id in _added(proposal.payload, ref.target_domain):
                    continue
                if view is None and ref.target_id in declared:
                    continue
                if view is not None and view.get(ref.target_domain, ref.target_id) is not None:
                    continue
                where = "in the content" if view is not None else "declared as a dependency"
                at = "/".join(str(p) for p in ref.field)
                out.append(
                    (
                        f"/{domain}/{index}/{at}",
                        f"refs_resolve: {ref.target_domain} {ref.target_id} is neither added nor {where}",
                    )
                )
    if view is not None:
        have = {i for table in view.by_id.values() for i in table}
        out += [
            ("/dependencies", f"refs_resolve: no {d} in the content")
            for d in proposal.dependencies
            if d not in have
        ]
    return out


def _slot_problems(payload: Mapping[str, Any]) -> list[tuple[str, str]]:
    out = []
    for i, item in enumerate(payload.get("items") or ()):
        named = {SLOT_WORDS[w] for w in letter_runs(str(item.get("name", ""))) if w in SLOT_WORDS}
        if item.get("kind") in ("armour", "implant") and named and item.get("slot") not in named:
            out.append(
                (
                    f"/items/{i}/slot",
                    f"slot_fits_name: {item.get('name')!r} is not worn on {item.get('slot')!r}",
                )
            )
    return out


def _reachable_problems(payload: Mapping[str, Any]) -> list[tuple[str, str]]:
    carried: set[str] = set()
    for npc in payload.get("npcs") or ():
        carried.update(str(s) for s in npc.get("stock") or ())
        carried.update(str(d.get("item")) for d in npc.get("drops") or () if isinstance(d, Mapping))
    for room in payload.get("rooms") or ():
        carried.update(str(i) for i in (room.get("extensions") or {}).get("neon.items") or ())
    return [
        (f"/items/{i}", f"item_reachable: nobody stocks or drops {item.get('id')} and no floor holds it")
        for i, item in enumerate(payload.get("items") or ())
        if item.get("id") not in carried
    ]


def _quest_inside_problems(
    payload: Mapping[str, Any], kinds: tuple[str, ...], name: str
) -> list[tuple[str, str]]:
    """Each objective of ``kinds`` targets an object the proposal adds."""
    domains = {"kill": "npcs", "collect": "items", "deliver": "items", "visit": "rooms"}
    out = []
    for q, quest in enumerate(payload.get("quests") or ()):
        for o, objective in enumerate(quest.get("objectives") or ()):
            kind = objective.get("kind")
            if kind in kinds and objective.get("target") not in _added(payload, domains.get(kind, "")):
                out.append(
                    (f"/quests/{q}/objectives/{o}", f"{name}: {objective.get('target')} is not added here")
                )
    return out


def _powerless_problems(payload: Mapping[str, Any]) -> list[tuple[str, str]]:
    stocked = {str(s) for n in payload.get("npcs") or () for s in n.get("stock") or ()}
    return [
        (f"/items/{i}", f"sink_goods_powerless: {item.get('id')} has power or no seller")
        for i, item in enumerate(payload.get("items") or ())
        if item_power(item) != 0 or item.get("id") not in stocked
    ]


def invariant_problems(proposal: Proposal, content: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(path, "name: message") for each invariant ``proposal`` names and breaks. ``within_budget``
    is the guardrails' numeric caps, which ``check`` applies to every proposal; the map invariants
    need ``content`` and are skipped without it; an unknown name is a problem (no claim is taken
    on trust)."""
    problems: list[tuple[str, str]] = []
    payload = proposal.payload
    for name in proposal.invariants:
        if name == "within_budget":
            continue
        if name == "refs_resolve":
            problems += _refs_problems(proposal, content)
        elif name == "slot_fits_name":
            problems += _slot_problems(payload)
        elif name == "item_reachable":
            problems += _reachable_problems(payload)
        elif name == "quest_inside":
            problems += _quest_inside_problems(payload, ("kill", "collect", "visit"), name)
        elif name == "bounty_on_rivals":
            problems += _quest_inside_problems(payload, ("kill",), name)
        elif name == "sink_goods_powerless":
            problems += _powerless_problems(payload)
        elif name not in CONTENT_INVARIANTS:
            known = ", ".join(INVARIANTS)
            problems.append(("/invariants", f"{name}: no such invariant to verify (known: {known})"))
    if content is not None and any(n in CONTENT_INVARIANTS for n in proposal.invariants):
        named = set(proposal.invariants)
        view = WorldView(proposal.world, content)
        problems += [("/rooms", p) for p in map_problems(view, proposal) if p.split(":")[0] in named]
    return problems
