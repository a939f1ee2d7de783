"""Gameplay content: the versioned schemas of everything a patch may carry.

Read a document with ``parse_content`` / ``parse_envelope`` (they raise ``ContentError`` and
nothing else), check it against the active version with ``lint_content``, and fold it with
``Catalog.apply``. Every rejection is a list of ``ouroboros.errors.Reason``.
"""

from ouroboros.content._base import DomainObject, StrictModel, semver_key
from ouroboros.content._export import export_schemas
from ouroboros.content.catalog import Catalog
from ouroboros.content.code import Script, ScriptBudgets, Trait
from ouroboros.content.dialogue import Dialogue, DialogueLine
from ouroboros.content.economy import EconomyTuning, Multipliers
from ouroboros.content.envelope import (
    SCHEMA_VERSION,
    Author,
    Envelope,
    Signature,
    parse_envelope,
    parse_timestamp,
)
from ouroboros.content.items import Item, ItemStats
from ouroboros.content.limits import LIMITS, ContentLimits
from ouroboros.content.lint import lint_content
from ouroboros.content.models import ModelRole
from ouroboros.content.npcs import BehaviorState, Drop, Npc, NpcBehavior, Plan, PlanStep, Transition
from ouroboros.content.patch import DOMAIN_MODELS, DOMAINS, PatchContent, Removal, parse_content
from ouroboros.content.procgen import ProcgenRule
from ouroboros.content.quests import Objective, Quest, Rewards
from ouroboros.content.references import Reference, references
from ouroboros.content.text_checks import ALLOWED_PLACEHOLDERS, find_banned_terms, placeholder_problems
from ouroboros.content.world_map import Coords, Room
from ouroboros.content.world_params import WorldParams

__all__ = [
    "ALLOWED_PLACEHOLDERS",
    "DOMAINS",
    "DOMAIN_MODELS",
    "LIMITS",
    "SCHEMA_VERSION",
    "Author",
    "BehaviorState",
    "Catalog",
    "ContentLimits",
    "Coords",
    "Dialogue",
    "DialogueLine",
    "DomainObject",
    "Drop",
    "EconomyTuning",
    "Envelope",
    "Item",
    "ItemStats",
    "ModelRole",
    "Multipliers",
    "Npc",
    "NpcBehavior",
    "Objective",
    "PatchContent",
    "Plan",
    "PlanStep",
    "ProcgenRule",
    "Quest",
    "Reference",
    "Removal",
    "Rewards",
    "Room",
    "Script",
    "ScriptBudgets",
    "Signature",
    "StrictModel",
    "Trait",
    "Transition",
    "WorldParams",
    "export_schemas",
    "find_banned_terms",
    "lint_content",
    "parse_content",
    "parse_envelope",
    "parse_timestamp",
    "placeholder_problems",
    "references",
    "semver_key",
]
