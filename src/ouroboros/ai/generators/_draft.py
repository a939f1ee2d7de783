"""``Draft``: a proposal being built. Generators add objects (and say which of their fields are
words), and ``finish`` parses the payload as patch content, works out the dependencies (every id
it refers to or replaces that it does not add) and returns the ``Proposal``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ouroboros.ai.generators._world import WorldView
from ouroboros.ai.proposals import Proposal, ProposalType
from ouroboros.content import parse_content, references
from ouroboros.errors import BadInputError

__all__ = ["Draft", "text_arg"]

WORD_FIELDS = ("name", "description")


def text_arg(context: Mapping[str, Any], key: str) -> str | None:
    """``context[key]`` when it is a non-empty string, ``None`` when absent."""
    value = context.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise BadInputError(f"context[{key!r}] must be a non-empty string", code="bad_context", path=key)
    return value


def level_arg(context: Mapping[str, Any], key: str) -> int | None:
    """``context[key]`` as a level in [1, 99], ``None`` when absent."""
    value = context.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 99:
        raise BadInputError(f"context[{key!r}] must be a level from 1 to 99", code="bad_context", path=key)
    return value


class Draft:
    def __init__(self, type: ProposalType, view: WorldView, seed: int, generator: str) -> None:
        self.type = type
        self.view = view
        self.seed = seed
        self.generator = generator
        self.payload: dict[str, list[dict[str, Any]]] = {}
        self.flavour: dict[str, str] = {}

    def add(self, domain: str, obj: dict[str, Any], words: tuple[str, ...] = WORD_FIELDS) -> dict[str, Any]:
        """Add ``obj`` to ``domain``; each field named in ``words`` becomes a flavour entry."""
        objects = self.payload.setdefault(domain, [])
        index = len(objects)
        objects.append(obj)
        for word in words:
            if isinstance(obj.get(word), str):
                self.flavour[f"/{domain}/{index}/{word}"] = obj[word]
        return obj

    def word(self, domain: str, index: int, field: str) -> None:
        """Mark one more word field (of an object already added) as flavour."""
        self.flavour[f"/{domain}/{index}/{field}"] = self.payload[domain][index][field]

    def added_ids(self, domain: str) -> set[str]:
        return {o["id"] for o in self.payload.get(domain, ())}

    def finish(
        self,
        *,
        tags: list[str],
        invariants: list[str] | None = None,
        budget: dict[str, int] | None = None,
        summary: str,
    ) -> Proposal:
        parsed = parse_content(self.payload)  # a generator bug surfaces here, as a ContentError
        dependencies: set[str] = set()
        for domain, objects in self.payload.items():
            for obj in parsed.objects(domain):
                for ref in references(obj):
                    if ref.target_id not in self.added_ids(ref.target_domain) or (
                        self.view.get(ref.target_domain, ref.target_id) is not None
                    ):
                        dependencies.add(ref.target_id)
            for obj_json in objects:
                if self.view.get(domain, obj_json["id"]) is not None:  # replaces an existing object
                    dependencies.add(obj_json["id"])
        return Proposal(
            type=self.type,
            world=self.view.world,
            seed=self.seed,
            generator=self.generator,
            payload=self.payload,
            flavour=dict(sorted(self.flavour.items())),
            tags=tags,
            dependencies=sorted(dependencies),
            invariants=invariants or [],
            budget=budget or {},
            summary=summary,
        )
