"""``PatchContent``: everything one patch may carry, domain by domain, and ``parse_content``.

Each domain is a list of objects with ids (all empty by default); ``remove`` deletes objects from
the active catalog. ``DOMAINS`` is the fixed order in which domains are listed, exported and
folded.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from ouroboros.content._base import DomainObject, Id, StrictModel, Tup
from ouroboros.content._errors import guarded
from ouroboros.content.code import Script, Trait
from ouroboros.content.dialogue import Dialogue
from ouroboros.content.economy import EconomyTuning
from ouroboros.content.items import Item
from ouroboros.content.limits import LIMITS
from ouroboros.content.models import ModelRole
from ouroboros.content.npcs import Npc, NpcBehavior
from ouroboros.content.procgen import ProcgenRule
from ouroboros.content.quests import Quest
from ouroboros.content.world_map import Room
from ouroboros.content.world_params import WorldParams

__all__ = ["DOMAINS", "DOMAIN_MODELS", "Domain", "PatchContent", "Removal", "parse_content"]

Domain = Literal[
    "quests",
    "npc_behaviors",
    "economy_tuning",
    "dialogue",
    "procgen_rules",
    "scripts",
    "items",
    "rooms",
    "npcs",
    "traits",
    "world_params",
    "model_roles",
]

DOMAIN_MODELS: dict[str, type[DomainObject]] = {
    "quests": Quest,
    "npc_behaviors": NpcBehavior,
    "economy_tuning": EconomyTuning,
    "dialogue": Dialogue,
    "procgen_rules": ProcgenRule,
    "scripts": Script,
    "items": Item,
    "rooms": Room,
    "npcs": Npc,
    "traits": Trait,
    "world_params": WorldParams,
    "model_roles": ModelRole,
}
DOMAINS: tuple[str, ...] = tuple(DOMAIN_MODELS)

_MAX = LIMITS.max_objects_per_domain


class Removal(StrictModel):
    """Delete object ``id`` of ``domain`` from the active catalog."""

    domain: Domain
    id: Id


class PatchContent(StrictModel):
    """The gameplay content of one patch: new or replacing objects per domain, and removals."""

    quests: Annotated[Tup[Quest], Field(max_length=_MAX)] = ()
    npc_behaviors: Annotated[Tup[NpcBehavior], Field(max_length=_MAX)] = ()
    economy_tuning: Annotated[Tup[EconomyTuning], Field(max_length=_MAX)] = ()
    dialogue: Annotated[Tup[Dialogue], Field(max_length=_MAX)] = ()
    procgen_rules: Annotated[Tup[ProcgenRule], Field(max_length=_MAX)] = ()
    scripts: Annotated[Tup[Script], Field(max_length=_MAX)] = ()
    items: Annotated[Tup[Item], Field(max_length=_MAX)] = ()
    rooms: Annotated[Tup[Room], Field(max_length=_MAX)] = ()
    npcs: Annotated[Tup[Npc], Field(max_length=_MAX)] = ()
    traits: Annotated[Tup[Trait], Field(max_length=_MAX)] = ()
    world_params: Annotated[Tup[WorldParams], Field(max_length=_MAX)] = ()
    model_roles: Annotated[Tup[ModelRole], Field(max_length=_MAX)] = ()
    remove: Annotated[Tup[Removal], Field(max_length=LIMITS.max_removals_per_patch)] = ()

    def objects(self, domain: str) -> tuple[DomainObject, ...]:
        """The objects this patch carries in ``domain`` (one of ``DOMAINS``), in patch order."""
        if domain not in DOMAIN_MODELS:
            raise KeyError(domain)
        objects: tuple[DomainObject, ...] = getattr(self, domain)
        return objects

    def is_empty(self) -> bool:
        return not self.remove and not any(self.objects(d) for d in DOMAINS)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (defaults included) that ``parse_content`` reads back equal."""
        return self.model_dump(mode="json")


def parse_content(data: Any, *, path_prefix: str = "") -> PatchContent:
    """Validate ``data`` (a decoded JSON value) as ``PatchContent``.

    Raises ``ContentError`` (stage ``schema``) and nothing else, for any input. Paths are JSON
    pointers from the content root (``/items/0/price``), after ``path_prefix`` when given (the
    governance layer passes ``"/content"`` for a document nested in an envelope)."""
    return guarded(PatchContent.model_validate, data, path_prefix)
