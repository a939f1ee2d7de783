"""Which changes are staged, and with which plan: the director's policy (not called by the
council or the evolution loop yet; see ADR 0017).

A change is staged by its proposal type (a world expansion always, at 1 → 10 → 50 → 100 %), or
goes to everyone at once when it only rewords what players read: every object it changes already
exists, and every leaf that differs is a text field (``name``, ``description``, ``text``; the
``version`` always moves). A typo fix is global; a new object or a changed number never is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ouroboros.rollout.plan import RolloutPlan, parse_plan

TEXT_FIELDS = frozenset({"name", "description", "text", "version"})

#: proposal type → plan; a type not listed goes global (``None``)
DEFAULT_STAGED: Mapping[str, str] = {
    "WORLD_EXPANSION": "1,10,50,100",
    "BUILDING": "10,50,100",
    "EVENT": "10,100",
    "ITEM": "10,100",
    "NPC": "10,100",
    "QUEST": "10,100",
    "TRAIT": "1,10,50,100",
}


def _text_only(before: Any, after: Any, key: str | None = None) -> bool:
    if isinstance(before, dict) and isinstance(after, dict):
        if set(before) != set(after):
            return False
        return all(_text_only(before[k], after[k], k) for k in before)
    if isinstance(before, list) and isinstance(after, list):
        return len(before) == len(after) and all(
            _text_only(b, a, key) for b, a in zip(before, after, strict=True)
        )
    if before == after and type(before) is type(after):
        return True
    return key in TEXT_FIELDS and isinstance(before, str) and isinstance(after, str)


def rewords_only(content: Mapping[str, Any], existing: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether ``content`` (domain → objects) only changes text of objects ``existing`` (domain →
    id → object) already has."""
    changed = False
    for domain, objects in content.items():
        if not isinstance(objects, list):
            return False
        for obj in objects:
            oid = obj.get("id") if isinstance(obj, dict) else None
            old = existing.get(domain, {}).get(oid) if isinstance(oid, str) else None
            if old is None or not _text_only(old, obj):
                return False
            changed = True
    return changed


@dataclass(frozen=True)
class StagingPolicy:
    staged: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_STAGED))

    def plan_for(
        self,
        proposal_type: str,
        content: Mapping[str, Any],
        existing: Mapping[str, Mapping[str, Any]],
        **plan_options: Any,
    ) -> RolloutPlan | None:
        """The plan a change needs, ``None``: global at once."""
        text = self.staged.get(proposal_type)
        if text is None or rewords_only(content, existing):
            return None
        return parse_plan(text, **plan_options)


__all__ = ["DEFAULT_STAGED", "TEXT_FIELDS", "StagingPolicy", "rewords_only"]
