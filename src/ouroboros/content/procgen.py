"""Procedural generation rules: what a generator may spawn, how much, and how deep it may recurse.

``templates`` name existing objects the rule copies from, in the domain its ``kind`` implies
(``PROCGEN_TEMPLATE_DOMAIN``). The caps keep one rule from flooding the world.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ouroboros.content._base import DomainObject, Id, Tup
from ouroboros.content.limits import LIMITS

__all__ = ["PROCGEN_TEMPLATE_DOMAIN", "ProcgenKind", "ProcgenRule"]

ProcgenKind = Literal["room_block", "npc_spawn", "item_drop", "quest_chain"]

PROCGEN_TEMPLATE_DOMAIN: dict[str, str] = {
    "room_block": "rooms",
    "npc_spawn": "npcs",
    "item_drop": "items",
    "quest_chain": "quests",
}


class ProcgenRule(DomainObject):
    """Spawn up to ``spawn_count`` objects per activation from ``templates``, at most
    ``area_density_permille`` per mille of an area, nesting at most ``recursion_depth`` levels;
    ``zone`` (optional) limits where it applies."""

    kind: ProcgenKind
    templates: Annotated[Tup[Id], Field(min_length=1, max_length=LIMITS.max_procgen_templates)]
    spawn_count: int = Field(ge=1, le=LIMITS.max_spawn_count)
    area_density_permille: int = Field(default=100, ge=0, le=LIMITS.max_area_density_permille)
    recursion_depth: int = Field(default=0, ge=0, le=LIMITS.max_recursion_depth)
    zone: Id | None = None
