"""A proposal against the guardrails: the pure rules of ``ouroboros.content.rules`` applied to a
proposal's payload, flavour, summary and tags, and the invariants the proposal names.

What it promises:

- ``check(proposal, guardrails, history=...)`` is pure: it reads the proposal's payload (never its
  ``budget`` field, which a generator writes and an enrich stage could not be trusted to keep) and
  returns every ``Violation`` with the number found and the limit broken; nothing here edits a
  proposal (over budget is *rejected with its numbers*, never clamped).
- The invariants a proposal names (``invariants``: ``refs_resolve``, ``slot_fits_name``, the map
  invariants ...) are verified too; a broken one is a violation with code ``invariant_broken``
  and the invariant's name as its value. The map invariants need the ``content`` the proposal
  grows into and are skipped without it.
- ``RarityHistory`` is the last 100 item rarities, plain data the caller persists.

It sits inside ``generators`` (which enforce it on every draft) so that ``ai.guardrails`` (the
file an operator edits) can re-export it without an import circle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ouroboros.ai.generators.invariants import invariant_problems
from ouroboros.ai.proposals import Proposal, ProposalType
from ouroboros.content import rules
from ouroboros.content.rules import HISTORY_WINDOW, RARITY_ORDER, GuardrailError, Guardrails, Violation
from ouroboros.errors import BadInputError

__all__ = ["RarityHistory", "check", "enforce"]


@dataclass
class RarityHistory:
    """The rarities of the last ``HISTORY_WINDOW`` item generations, oldest first."""

    rarities: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        unknown = sorted({r for r in self.rarities if r not in RARITY_ORDER})
        if unknown:
            raise BadInputError(f"unknown rarities in history: {', '.join(unknown)}")
        self.rarities = list(self.rarities[-HISTORY_WINDOW:])

    def record(self, rarity: str) -> None:
        if rarity not in RARITY_ORDER:
            raise BadInputError(f"unknown rarity {rarity!r}")
        self.rarities.append(rarity)
        del self.rarities[:-HISTORY_WINDOW]

    def record_proposal(self, proposal: Proposal) -> None:
        """Count the items an accepted proposal adds."""
        for item in proposal.payload.get("items") or ():
            self.record(str(item.get("rarity", "common")))

    def count(self, rarity: str) -> int:
        return self.rarities.count(rarity)

    def as_list(self) -> list[str]:
        return list(self.rarities)


def check(
    proposal: Proposal,
    guardrails: Guardrails,
    *,
    history: RarityHistory | None = None,
    content: Mapping[str, Any] | None = None,
) -> list[Violation]:
    """Every guardrail ``proposal`` breaks (empty: it may go on), numbers first, then words, then
    the invariants the proposal names, then the legendary rate over ``history`` (skipped when no
    history is given). The map invariants (``CONTENT_INVARIANTS``) need the ``content`` the
    proposal grows into (the active content, as ``generate`` takes it) and are skipped without it;
    ``refs_resolve`` checks the proposal is self-contained (every reference added or a declared
    dependency) and, with ``content``, that every dependency exists there."""
    payload = proposal.payload
    grows = proposal.type in (ProposalType.WORLD_EXPANSION, ProposalType.BUILDING)
    violations = rules.check_numbers(
        payload, guardrails, known_rooms=proposal.dependencies if grows else None
    )
    in_payload = dict(rules.payload_texts(payload))
    # a flavour text is checked where it differs from the payload's (an enrich stage's rewrite)
    extra = [(f"flavour:{p}", t) for p, t in sorted(proposal.flavour.items()) if in_payload.get(p) != t]
    extra.append(("summary", proposal.summary))
    violations += rules.check_words(payload, guardrails, texts=extra, tags=proposal.tags)
    violations += [
        Violation("invariant_broken", path, message.split(":")[0], "invariants", message)
        for path, message in invariant_problems(proposal, content)
    ]
    if history is not None:
        violations += rules.check_legendary_rate(payload, guardrails, history.count("legendary"))
    return violations


def enforce(
    proposal: Proposal,
    guardrails: Guardrails,
    *,
    history: RarityHistory | None = None,
    content: Mapping[str, Any] | None = None,
) -> Proposal:
    """``proposal`` unchanged, or ``GuardrailError`` with every violation."""
    violations = check(proposal, guardrails, history=history, content=content)
    if violations:
        raise GuardrailError(violations)
    return proposal
