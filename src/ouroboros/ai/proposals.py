"""A ``Proposal``: what a generator makes and everything downstream (guardrails, enrich, the
approval queue, the director's log, the bundle) passes along.

What it promises:

- **Pure data, deterministic.** A proposal is built from (type, world, seed, the content it grows
  from) only; its ``proposal_id`` is the sha256 of its canonical JSON without the id, so the same
  seed over the same content gives the same id and the same bytes.
- **Numbers and words apart.** ``payload`` is patch content (the ``ouroboros.content`` shapes:
  ``{"npcs": [...], "items": [...], "rooms": [...], "quests": [...], ...}``), whose numbers come
  from rules. ``flavour`` names the word fields an enrich stage may rewrite (JSON pointers into
  the payload, each with its current text); nothing else in the payload may change after
  generation, and the guardrails check the payload again after enrichment.
- ``budget`` records the points a generator spent and the allowance it had, so a rejection can
  quote the numbers.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ouroboros.patches import canonical_bytes

__all__ = ["Proposal", "ProposalType", "SeededDraws", "proposal_id_of"]


class ProposalType(StrEnum):
    NPC = "NPC"
    ITEM = "ITEM"
    QUEST = "QUEST"
    BUILDING = "BUILDING"
    EVENT = "EVENT"
    WORLD_EXPANSION = "WORLD_EXPANSION"
    TRAIT = "TRAIT"  # petri behaviour code, from the evolution loop's coder


class Proposal(BaseModel):
    """One generated change, before it becomes a bundle."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    proposal_id: str = ""
    type: ProposalType
    world: str
    seed: int = Field(ge=0, le=2**53 - 1)  # canonical JSON (RFC 8785) holds integers up to 2^53-1 exactly
    generator: str  # "<name>@<version>", e.g. "npc@1"
    payload: dict[str, Any]  # patch content, domain -> objects (see ``ouroboros.content.PatchContent``)
    flavour: dict[str, str] = Field(default_factory=dict)  # JSON pointer into payload -> text
    tags: list[str] = Field(default_factory=list)
    dependencies: list[str] = Field(default_factory=list)  # content ids it needs to exist
    invariants: list[str] = Field(default_factory=list)  # names of the checks it must keep
    budget: dict[str, int] = Field(default_factory=dict)  # e.g. {"power_spent": 14, "power_allowed": 16}
    summary: str = ""  # one line a human reads in the queue

    def with_id(self) -> Proposal:
        """This proposal with its ``proposal_id`` filled in."""
        return self.model_copy(update={"proposal_id": proposal_id_of(self)})

    def object_ids(self) -> list[tuple[str, str]]:
        """(domain, id) of every object the payload adds, for a granular undo."""
        return [
            (domain, str(obj["id"]))
            for domain, objects in sorted(self.payload.items())
            if domain != "remove" and isinstance(objects, list)
            for obj in objects
            if isinstance(obj, dict) and "id" in obj
        ]


def proposal_id_of(proposal: Proposal) -> str:
    body = proposal.model_dump(mode="json", exclude={"proposal_id"})
    return "prop-" + hashlib.sha256(canonical_bytes(body)).hexdigest()[:20]


class SeededDraws:
    """Integer draws from one seed, for generators (never the global ``random``, never the clock).

    A counter-based sha256 stream: ``below(n)`` is the next draw in ``[0, n)``; the same seed and
    the same calls give the same numbers on every machine."""

    def __init__(self, seed: int, salt: str = "") -> None:
        self._key = f"{seed}:{salt}".encode()
        self._counter = 0

    def _next(self) -> int:
        self._counter += 1
        digest = hashlib.sha256(self._key + self._counter.to_bytes(8, "big")).digest()
        return int.from_bytes(digest[:8], "big")

    def below(self, n: int) -> int:
        if n <= 0:
            raise ValueError("below() needs a positive bound")
        return self._next() % n

    def between(self, low: int, high: int) -> int:
        """A draw in ``[low, high]``, both included."""
        return low + self.below(high - low + 1)

    def choice(self, options: list[Any] | tuple[Any, ...]) -> Any:
        return options[self.below(len(options))]

    def permille(self) -> int:
        return self.below(1000)

    def fork(self, salt: str) -> SeededDraws:
        return SeededDraws(self._next(), salt)
