"""A queued proposal laid over the active version when it is approved.

Between proposing and approval other versions may have gone active. Each existing object the
proposal changes that has changed since it was proposed is merged three ways (what the proposal
changed wins, what others changed stays: ``queue.merge3``) and its version moved past the active
one, so two proposals that touch the same vendor both go active. Pure: the council hands in what
the proposal was made against (``base``) and the objects in force now (``now``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from ouroboros.ai.proposals import Proposal
from ouroboros.ai.queue import merge3
from ouroboros.content import parse_content, references
from ouroboros.content.versions import version_above


def rebase(
    proposal: Proposal, base: Mapping[str, Any], now: Mapping[str, Mapping[str, Any]]
) -> tuple[Proposal, list[str]]:
    """``proposal`` laid over ``now`` (domain → id → object of the active version): each existing
    object it changes that differs from what it was made against (``base``, same shape) is merged
    three ways and its version moved past the active one. Returns the proposal (unchanged when
    nothing moved) and the ids rebased."""
    payload = copy.deepcopy(proposal.payload)
    moved: list[str] = []
    for domain, objects in payload.items():
        if domain == "remove" or not isinstance(objects, list):
            continue
        for i, obj in enumerate(objects):
            if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
                continue
            current = now.get(domain, {}).get(obj["id"])
            if current is None:
                continue
            before = (base.get(domain) or {}).get(obj["id"])
            if before == current:
                continue
            merged = merge3(before, obj, current)
            merged["version"] = version_above(
                str(obj.get("version", "1.0.0")), str(current.get("version", "1.0.0"))
            )
            objects[i] = merged
            moved.append(str(obj["id"]))
    if not moved:
        return proposal, []
    return proposal.model_copy(
        update={"payload": payload, "dependencies": _dependencies(proposal, payload, moved)}
    ), moved


def _dependencies(proposal: Proposal, payload: Mapping[str, Any], moved: Sequence[str]) -> list[str]:
    """The proposal's dependencies plus what its rebased objects now refer to that it does not
    add itself (another proposal's item on a vendor's shelf): those exist in the active version."""
    added = {
        o.get("id")
        for objects in payload.values()
        if isinstance(objects, list)
        for o in objects
        if isinstance(o, dict)
    }
    deps = list(proposal.dependencies)
    parsed = parse_content(payload)
    for domain, objects in payload.items():
        if domain == "remove" or not isinstance(objects, list):
            continue
        for obj in parsed.objects(domain):
            if obj.id not in moved:
                continue
            for ref in references(obj):
                if ref.target_id not in added and ref.target_id not in deps:
                    deps.append(ref.target_id)
    return deps


__all__ = ["rebase"]
