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
- Every proposal names the invariants it keeps (``generators.invariants``; e.g. ``refs_resolve``,
  ``within_budget``, ``slot_fits_name``, the map invariants for roads, buildings and dungeons),
  and ``guardrails.check`` verifies each: ``generate`` runs it with the content it grew from.
- A draft that breaks the guardrails in force is refused with ``GuardrailError`` (its
  violations carry the numbers), never clamped. The legendary rate needs the caller's
  ``RarityHistory``: check it with ``guardrails.check(proposal, rules, history=...)``.

Context keys each type accepts (``CONTEXT_KEYS``; all optional, ``None`` is absent; an unknown key
or a bad value is a ``BadInputError`` with code ``bad_context`` naming the key):
NPC ``archetype`` (ganger, enforcer, drone, fixer, vendor, civilian, boss), ``room``, ``district``,
``faction``, ``level`` (1..99: the difficulty adjuster's match for a cruising runner); ITEM ``kind``,
``rarity``; QUEST ``giver``, ``blueprint``, ``district`` (the giver and the targets are found there),
``max_level`` (1..99: no kill target above it, for a struggling runner); WORLD_EXPANSION
``growth_point``, ``district``, ``kind`` (road, dungeon; a ``"dungeon"`` tag means ``kind:
dungeon``); BUILDING ``purpose`` (hq, residential), ``faction``, ``district``, ``sector`` (a zone:
the building goes on one of its streets); EVENT
``event`` (power_vacuum, money_sink), ``boss``, ``inflation_permille``, ``room``, ``district``,
``faction`` (the boss's, as the director reports it), ``intensity`` and ``chaos`` (0..100, what
the director's sliders stood at: recorded in the context, not read). Every type also accepts
``tags`` (a list of strings: the director's and the queue's labels; only WORLD_EXPANSION reads
them, for ``"dungeon"``) and ``sliders`` (the director's settings, a mapping of name -> 0..100,
checked and not read).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ouroboros.ai.generators._draft import text_arg
from ouroboros.ai.generators._world import WorldView, default_world, generator_worlds
from ouroboros.ai.generators.checks import enforce
from ouroboros.ai.generators.dungeon import generate_dungeon
from ouroboros.ai.generators.event import generate_event
from ouroboros.ai.generators.expansion import generate_building, generate_expansion
from ouroboros.ai.generators.item import generate_item
from ouroboros.ai.generators.npc import generate_npc
from ouroboros.ai.generators.quest import generate_quest
from ouroboros.ai.proposals import Proposal, ProposalType
from ouroboros.content.rules import Guardrails
from ouroboros.errors import BadInputError

__all__ = [
    "CONTEXT_KEYS",
    "EXPANSION_KINDS",
    "GENERATOR_TYPES",
    "MAX_SEED",
    "default_world",
    "generate",
    "generator_worlds",
]

Generator = Callable[[WorldView, int, Guardrails, Mapping[str, Any]], Proposal]

EXPANSION_KINDS = ("road", "dungeon")


def _expansion(view: WorldView, seed: int, guardrails: Guardrails, context: Mapping[str, Any]) -> Proposal:
    """A road, or a dungeon when the context's ``kind`` is ``"dungeon"`` or (no kind) its tags
    include ``"dungeon"``."""
    kind = text_arg(context, "kind")
    if kind is None:
        kind = "dungeon" if "dungeon" in (context.get("tags") or ()) else "road"
    if kind not in EXPANSION_KINDS:
        raise BadInputError(
            f"unknown expansion kind {kind!r} (known: {', '.join(EXPANSION_KINDS)})",
            code="bad_context",
            path="kind",
        )
    if kind == "dungeon":
        return generate_dungeon(view, seed, guardrails, context)
    return generate_expansion(view, seed, guardrails, context)


_GENERATORS: dict[ProposalType, Generator] = {
    ProposalType.NPC: generate_npc,
    ProposalType.ITEM: generate_item,
    ProposalType.QUEST: generate_quest,
    ProposalType.WORLD_EXPANSION: _expansion,
    ProposalType.BUILDING: generate_building,
    ProposalType.EVENT: generate_event,
}
#: a proposal's id hashes its canonical JSON (RFC 8785), whose integers stop at 2^53 - 1
MAX_SEED = 2**53 - 1
GENERATOR_TYPES: tuple[ProposalType, ...] = tuple(_GENERATORS)
#: the keys every type accepts, besides its own
COMMON_CONTEXT_KEYS = ("sliders", "tags")
#: the context keys each type accepts (``COMMON_CONTEXT_KEYS`` included)
CONTEXT_KEYS: dict[ProposalType, tuple[str, ...]] = {
    kind: tuple(sorted({*keys, *COMMON_CONTEXT_KEYS}))
    for kind, keys in {
        ProposalType.NPC: ("archetype", "room", "district", "faction", "level"),
        ProposalType.ITEM: ("kind", "rarity"),
        ProposalType.QUEST: ("giver", "blueprint", "district", "max_level"),
        ProposalType.WORLD_EXPANSION: ("growth_point", "district", "kind"),
        ProposalType.BUILDING: ("purpose", "faction", "district", "sector"),
        ProposalType.EVENT: (
            "event", "boss", "inflation_permille", "room", "district", "faction", "intensity", "chaos",
        ),
    }.items()
}  # fmt: skip
#: context keys holding a director setting: an integer in [0, 100]
_SETTING_KEYS = ("intensity", "chaos")


def check_context(kind: ProposalType, context: Mapping[str, Any]) -> None:
    """Refuse a context key ``kind`` does not accept and a malformed shared key (``tags``,
    ``sliders``, ``intensity``, ``chaos``); each generator checks the values of its own keys."""
    accepted = CONTEXT_KEYS[kind]
    for key in context:
        if key not in accepted:
            raise BadInputError(
                f"unknown context key {key!r} for {kind.value} (accepted: {', '.join(accepted)})",
                code="bad_context",
                path=str(key),
            )
    tags = context.get("tags")
    if tags is not None and (
        not isinstance(tags, list | tuple) or not all(isinstance(t, str) and t for t in tags)
    ):
        raise BadInputError(
            "context['tags'] must be a list of non-empty strings", code="bad_context", path="tags"
        )
    sliders = context.get("sliders")
    if sliders is not None and (
        not isinstance(sliders, Mapping)
        or not all(isinstance(k, str) and _is_setting(v) for k, v in sliders.items())
    ):
        raise BadInputError(
            "context['sliders'] must map names to integers in [0, 100]", code="bad_context", path="sliders"
        )
    for key in _SETTING_KEYS:
        value = context.get(key)
        if value is not None and not _is_setting(value):
            raise BadInputError(
                f"context[{key!r}] must be an integer in [0, 100]", code="bad_context", path=key
            )


def _is_setting(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100


def generate(
    type: ProposalType | str,
    seed: int,
    *,
    world: str | None = None,
    content: Mapping[str, Any] | None = None,
    guardrails: Guardrails | None = None,
    context: Mapping[str, Any] | None = None,
) -> Proposal:
    """A proposal of ``type`` grown from ``content`` (the active effective content; ``None``: the
    world's base content) for ``world`` (``None``: ``default_world()``), with its id. Raises
    ``BadInputError`` for an unknown type, world, seed, context key or context value,
    ``GuardrailError`` when the draft breaks ``guardrails`` (default: the defaults)."""
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
    check_context(kind, context or {})
    view = WorldView(default_world() if world is None else world, content)
    rules = guardrails if guardrails is not None else Guardrails()
    proposal = generator(view, seed, rules, context or {})
    return enforce(proposal, rules, content=view.content).with_id()
