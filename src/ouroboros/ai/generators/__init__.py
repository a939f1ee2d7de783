"""Procedural generators: seeded drafts of new content for a world, checked by the guardrails.

What it promises:

- ``generate(type, seed, content=...)`` is pure and deterministic: the same type, seed, context
  and content give a byte-identical ``Proposal`` (its id included). Every draw comes from a
  ``SeededDraws``; nothing reads the clock or the global ``random``.
- Numbers come from rules (level curves, power budgets, reward ranges); words from a small
  grammar, and every word field is listed in the proposal's ``flavour`` for an enrich stage.
- A proposal's payload is valid patch content that refers only to content that exists (in
  ``content`` laid over the world's base content) or that the same proposal adds; new ids are
  ``<world>.gen.<kind>.<hash>`` and never collide; new objects have version ``1.0.0``; an existing
  object it changes (a room that gains an exit, a vendor that gains stock) keeps everything else
  and gets a greater version. Nothing is ever removed.
- A draft that breaks the guardrails in force is refused with ``GuardrailError`` (its
  violations carry the numbers), never clamped. The legendary rate needs the caller's
  ``RarityHistory``: check it with ``guardrails.check(proposal, rules, history=...)``.

Context keys each type reads (all optional; a bad value is a ``BadInputError``):
NPC ``archetype`` (ganger, enforcer, drone, fixer, vendor, civilian, boss), ``room``, ``district``,
``faction``; ITEM ``kind``, ``rarity``; QUEST ``giver``, ``blueprint``; WORLD_EXPANSION
``growth_point``, ``district``; BUILDING ``purpose`` (hq, residential), ``faction``, ``district``;
EVENT ``event`` (power_vacuum, money_sink), ``boss``, ``inflation_permille``, ``room``, ``district``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ouroboros.ai.generators._world import SUPPORTED_WORLDS, WorldView
from ouroboros.ai.generators.event import generate_event
from ouroboros.ai.generators.expansion import generate_building, generate_expansion
from ouroboros.ai.generators.item import generate_item
from ouroboros.ai.generators.npc import generate_npc
from ouroboros.ai.generators.quest import generate_quest
from ouroboros.ai.guardrails import Guardrails, enforce
from ouroboros.ai.proposals import Proposal, ProposalType
from ouroboros.errors import BadInputError

__all__ = ["GENERATOR_TYPES", "MAX_SEED", "SUPPORTED_WORLDS", "generate"]

Generator = Callable[[WorldView, int, Guardrails, Mapping[str, Any]], Proposal]

_GENERATORS: dict[ProposalType, Generator] = {
    ProposalType.NPC: generate_npc,
    ProposalType.ITEM: generate_item,
    ProposalType.QUEST: generate_quest,
    ProposalType.WORLD_EXPANSION: generate_expansion,
    ProposalType.BUILDING: generate_building,
    ProposalType.EVENT: generate_event,
}
#: a proposal's id hashes its canonical JSON (RFC 8785), whose integers stop at 2^53 - 1
MAX_SEED = 2**53 - 1
GENERATOR_TYPES: tuple[ProposalType, ...] = tuple(_GENERATORS)


def generate(
    type: ProposalType | str,
    seed: int,
    *,
    world: str = "neon",
    content: Mapping[str, Any] | None = None,
    guardrails: Guardrails | None = None,
    context: Mapping[str, Any] | None = None,
) -> Proposal:
    """A proposal of ``type`` grown from ``content`` (the active effective content; ``None``: the
    world's base content), with its id. Raises ``BadInputError`` for an unknown type, world, seed
    or context value, ``GuardrailError`` when the draft breaks ``guardrails`` (default: the
    defaults)."""
    try:
        kind = ProposalType(type)
    except ValueError:
        raise BadInputError(f"unknown proposal type {type!r}", code="bad_type") from None
    generator = _GENERATORS.get(kind)
    if generator is None:
        known = ", ".join(t.value for t in GENERATOR_TYPES)
        raise BadInputError(f"no generator makes {kind.value} proposals (known: {known})", code="bad_type")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise BadInputError(f"seed must be an integer in [0, 2^53 - 1], not {seed!r}", code="bad_seed")
    if context is not None and not isinstance(context, Mapping):
        raise BadInputError("context must be a mapping", code="bad_context")
    view = WorldView(world, content)
    rules = guardrails if guardrails is not None else Guardrails()
    proposal = generator(view, seed, rules, context or {})
    return enforce(proposal, rules).with_id()
