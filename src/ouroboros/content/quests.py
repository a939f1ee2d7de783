"""Quests: who gives them, what must be done, what they pay, and which quests come first.

An objective's ``target`` lives in the domain its ``kind`` names (``OBJECTIVE_TARGET_DOMAIN``);
``to`` (the npc who receives a delivery) belongs to ``deliver`` only. Whether targets resolve and
whether prerequisites are acyclic across patch and catalog is the linter's job.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from ouroboros.content._base import Description, Extensible, Id, Name, StrictModel, Tup, content_error
from ouroboros.content.limits import LIMITS

__all__ = ["OBJECTIVE_TARGET_DOMAIN", "Objective", "ObjectiveKind", "Quest", "Rewards"]

ObjectiveKind = Literal["kill", "collect", "deliver", "visit"]

OBJECTIVE_TARGET_DOMAIN: dict[str, str] = {
    "kill": "npcs",
    "collect": "items",
    "deliver": "items",
    "visit": "rooms",
}


class Objective(StrictModel):
    """Kill ``count`` of an npc, collect or deliver ``count`` of an item, or visit a room."""

    kind: ObjectiveKind
    target: Id
    count: int = Field(default=1, ge=1, le=LIMITS.max_objective_count)
    to: Id | None = None

    @model_validator(mode="after")
    def _to_only_for_deliver(self) -> Self:
        if self.kind == "deliver" and self.to is None:
            raise content_error("missing_field", "a deliver objective needs 'to' (an npc id)", at="to")
        if self.kind != "deliver" and self.to is not None:
            raise content_error(
                "bad_value", f"'to' belongs to deliver objectives, not {self.kind!r}", at="to"
            )
        if self.kind == "visit" and self.count != 1:
            raise content_error("out_of_bounds", "a visit objective has count 1", at="count")
        return self


class Rewards(StrictModel):
    """Paid once on completion: credits, experience points and items (item ids)."""

    credits: int = Field(default=0, ge=0, le=LIMITS.max_reward_credits)
    xp: int = Field(default=0, ge=0, le=LIMITS.max_reward_xp)
    items: Annotated[Tup[Id], Field(max_length=LIMITS.max_reward_items)] = ()


class Quest(Extensible):
    """A quest offered by ``giver`` (an npc id) once every quest in ``prerequisites`` is done."""

    name: Name
    description: Description | None = None
    giver: Id
    objectives: Annotated[Tup[Objective], Field(min_length=1, max_length=LIMITS.max_objectives)]
    rewards: Rewards = Field(default_factory=Rewards)
    prerequisites: Annotated[Tup[Id], Field(max_length=LIMITS.max_prerequisites)] = ()
    dialogue: Id | None = None
