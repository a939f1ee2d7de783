"""Which fields of which objects point at other objects: the one map of cross-domain references.

``references(domain, obj)`` yields every reference an object makes, with the path segments of the
field that holds it, so the linter can resolve them and name the exact field that dangles.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from ouroboros.content._base import DomainObject
from ouroboros.content.code import Trait
from ouroboros.content.dialogue import Dialogue
from ouroboros.content.npcs import Npc, NpcBehavior
from ouroboros.content.procgen import PROCGEN_TEMPLATE_DOMAIN, ProcgenRule
from ouroboros.content.quests import OBJECTIVE_TARGET_DOMAIN, Quest
from ouroboros.content.world_map import Room

__all__ = ["Reference", "references"]


class Reference(NamedTuple):
    """``field`` (path segments below the object) names ``target_id`` in ``target_domain``."""

    field: tuple[str | int, ...]
    target_domain: str
    target_id: str


def references(obj: DomainObject) -> Iterator[Reference]:
    """Every reference ``obj`` makes, in field order."""
    if isinstance(obj, Room):
        for direction, room_id in obj.exits.items():
            yield Reference(("exits", direction), "rooms", room_id)
    elif isinstance(obj, Npc):
        yield Reference(("behavior",), "npc_behaviors", obj.behavior)
        if obj.dialogue is not None:
            yield Reference(("dialogue",), "dialogue", obj.dialogue)
        for index, item_id in enumerate(obj.stock):
            yield Reference(("stock", index), "items", item_id)
        for index, drop in enumerate(obj.drops):
            yield Reference(("drops", index, "item"), "items", drop.item)
        yield Reference(("spawn_room",), "rooms", obj.spawn_room)
    elif isinstance(obj, NpcBehavior):
        for name, state in obj.states.items():
            if state.script is not None:
                yield Reference(("states", name, "script"), "scripts", state.script)
    elif isinstance(obj, Quest):
        yield Reference(("giver",), "npcs", obj.giver)
        for index, objective in enumerate(obj.objectives):
            target_domain = OBJECTIVE_TARGET_DOMAIN[objective.kind]
            yield Reference(("objectives", index, "target"), target_domain, objective.target)
            if objective.to is not None:
                yield Reference(("objectives", index, "to"), "npcs", objective.to)
        for index, item_id in enumerate(obj.rewards.items):
            yield Reference(("rewards", "items", index), "items", item_id)
        for index, quest_id in enumerate(obj.prerequisites):
            yield Reference(("prerequisites", index), "quests", quest_id)
        if obj.dialogue is not None:
            yield Reference(("dialogue",), "dialogue", obj.dialogue)
    elif isinstance(obj, Dialogue):
        if obj.npc is not None:
            yield Reference(("npc",), "npcs", obj.npc)
    elif isinstance(obj, ProcgenRule):
        target_domain = PROCGEN_TEMPLATE_DOMAIN[obj.kind]
        for index, template in enumerate(obj.templates):
            yield Reference(("templates", index), target_domain, template)
    elif isinstance(obj, Trait) and obj.script is not None:
        yield Reference(("script",), "scripts", obj.script)
