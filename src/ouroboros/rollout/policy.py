"""Which changes are staged, and with which plan: the director's policy, which the council and
the evolution loop ask before they submit (see ADR 0017).

A change is staged by its proposal type (a world expansion always, at 1 → 10 → 50 → 100 %), or
goes to everyone at once when it only rewords what players read: every object it changes already
exists, and every leaf that differs is a text field (``name``, ``description``, ``text``; the
``version`` always moves). A typo fix is global; a new object or a changed number never is.

The operator changes the map in the guardrails file (``rollout_plans``: proposal type → plan or
``"global"``, over ``DEFAULT_STAGED``; checked whole when the file is read). ``from_settings``
makes the policy of that setting: ``None`` when it is absent (staging off: every change at once,
as before rollouts existed). ``decide`` says what happens and why, in the words the decision log
keeps: ``"staged 1,10,50,100"``, ``"global: text only"``, ``"global: NPC is not staged"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ouroboros.content.rules import GLOBAL_PLAN, PROPOSAL_TYPES
from ouroboros.errors import BadInputError
from ouroboros.rollout.analysis import DEFAULT_CHECKS, Check
from ouroboros.rollout.plan import RolloutPlan, parse_plan

#: the checks of a change to a world with no players or money to watch (a dish's behaviour code)
TICK_CHECKS: tuple[Check, ...] = tuple(
    c for c in DEFAULT_CHECKS if c.metric in ("faults_per_1000_ticks", "tick_p99_over_budget_ms")
)

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
class Staging:
    """What the policy decided for one change: its plan (``None``: global at once) and why."""

    plan: RolloutPlan | None
    why: str

    @property
    def staged(self) -> bool:
        return self.plan is not None


def plan_words(plan: RolloutPlan) -> str:
    """A plan's stages as an operator writes them: ``"1,10,50,100"``."""
    return ",".join(f"{p:g}" for p in plan.percents)


@dataclass(frozen=True)
class StagingPolicy:
    staged: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_STAGED))

    def __post_init__(self) -> None:
        for kind, text in self.staged.items():
            if kind not in PROPOSAL_TYPES:
                raise BadInputError(f"rollout_plans: {kind!r} is not a proposal type")
            if text.strip() != GLOBAL_PLAN:
                parse_plan(text)  # one clear reason for a bad plan, now

    @classmethod
    def from_settings(cls, rollout_plans: Mapping[str, str] | None) -> StagingPolicy | None:
        """The policy of the guardrails' ``rollout_plans`` over ``DEFAULT_STAGED``; ``None``
        (staging off) when the setting is absent."""
        if rollout_plans is None:
            return None
        return cls({**DEFAULT_STAGED, **rollout_plans})

    def decide(
        self,
        proposal_type: str,
        content: Mapping[str, Any],
        existing: Mapping[str, Mapping[str, Any]],
        **plan_options: Any,
    ) -> Staging:
        """The plan a change needs (``plan_options``: ``parse_plan``'s), and why."""
        text = self.staged.get(proposal_type)
        if text is None or text.strip() == GLOBAL_PLAN:
            return Staging(None, f"global: {proposal_type} is not staged")
        if rewords_only(content, existing):
            return Staging(None, "global: text only")
        plan = parse_plan(text, **plan_options)
        return Staging(plan, f"staged {plan_words(plan)}")

    def plan_for(
        self,
        proposal_type: str,
        content: Mapping[str, Any],
        existing: Mapping[str, Mapping[str, Any]],
        **plan_options: Any,
    ) -> RolloutPlan | None:
        """The plan a change needs, ``None``: global at once."""
        return self.decide(proposal_type, content, existing, **plan_options).plan


__all__ = [
    "DEFAULT_STAGED",
    "TEXT_FIELDS",
    "TICK_CHECKS",
    "Staging",
    "StagingPolicy",
    "plan_words",
    "rewords_only",
]
