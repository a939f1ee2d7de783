"""NPCs and their behaviours.

A behaviour is a state machine (cycles are the point: patrol, fight, flee, patrol again) plus an
optional ``plan``, an action graph whose steps run after the steps they name; the plan must be
acyclic, which the linter checks together with state and step references.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from ouroboros.content._base import (
    DomainObject,
    Extensible,
    Id,
    LocalName,
    Name,
    StrictModel,
    Tup,
    content_error,
)
from ouroboros.content.limits import LIMITS

__all__ = [
    "BEHAVIOR_ACTIONS",
    "BEHAVIOR_EVENTS",
    "NPC_KINDS",
    "BehaviorAction",
    "BehaviorEvent",
    "BehaviorState",
    "Drop",
    "Npc",
    "NpcBehavior",
    "NpcKind",
    "Plan",
    "PlanStep",
    "Transition",
]

NpcKind = Literal["vendor", "fixer", "ganger", "corp_security", "drone", "boss", "civilian"]
BehaviorAction = Literal["idle", "wander", "patrol", "aggressive", "flee", "vendor", "script"]
BehaviorEvent = Literal[
    "spawned",
    "timer",
    "player_near",
    "player_left",
    "attacked",
    "low_hp",
    "target_lost",
    "talked_to",
    "arrived",
    "script_signal",
]
NPC_KINDS: tuple[str, ...] = NpcKind.__args__  # type: ignore[attr-defined]
BEHAVIOR_ACTIONS: tuple[str, ...] = BehaviorAction.__args__  # type: ignore[attr-defined]
BEHAVIOR_EVENTS: tuple[str, ...] = BehaviorEvent.__args__  # type: ignore[attr-defined]


class Transition(StrictModel):
    """On ``on``, move to state ``to``."""

    on: BehaviorEvent
    to: LocalName


class BehaviorState(StrictModel):
    """What the NPC does while in this state; ``script`` (a scripts id) only with action ``script``."""

    action: BehaviorAction
    script: Id | None = None
    transitions: Annotated[Tup[Transition], Field(max_length=LIMITS.max_transitions_per_state)] = ()

    @model_validator(mode="after")
    def _script_iff_script_action(self) -> Self:
        if self.action == "script" and self.script is None:
            raise content_error("missing_field", "action 'script' needs a script id", at="script")
        if self.action != "script" and self.script is not None:
            raise content_error(
                "bad_value", f"a script is only run by action 'script', not {self.action!r}", at="script"
            )
        return self


class PlanStep(StrictModel):
    """One step of a plan; it runs once every step in ``after`` is done."""

    id: LocalName
    action: BehaviorAction
    after: Annotated[Tup[LocalName], Field(max_length=LIMITS.max_plan_step_parents)] = ()


class Plan(StrictModel):
    """An acyclic action graph."""

    steps: Annotated[Tup[PlanStep], Field(min_length=1, max_length=LIMITS.max_plan_steps)]


class NpcBehavior(DomainObject):
    """A behaviour state machine, starting in ``initial``."""

    initial: LocalName
    states: Annotated[
        dict[LocalName, BehaviorState], Field(min_length=1, max_length=LIMITS.max_behavior_states)
    ]
    plan: Plan | None = None


class Drop(StrictModel):
    """An item dropped on death with probability ``chance_permille``/1000."""

    item: Id
    chance_permille: int = Field(ge=0, le=1000)


class Npc(Extensible):
    """A non-player character: its combat numbers, what it does (``behavior``), what it says
    (``dialogue``), sells (``stock``), drops, and where it (re)spawns (``respawn_ticks``: 0 is never)."""

    name: Name
    kind: NpcKind
    faction: Id
    level: int = Field(default=1, ge=1, le=LIMITS.max_npc_level)
    hp: int = Field(ge=1, le=LIMITS.max_npc_hp)
    damage: int = Field(default=0, ge=0, le=LIMITS.max_npc_damage)
    armour: int = Field(default=0, ge=0, le=LIMITS.max_npc_armour)
    accuracy: int = Field(default=50, ge=0, le=LIMITS.max_npc_accuracy_percent)
    behavior: Id
    dialogue: Id | None = None
    stock: Annotated[Tup[Id], Field(max_length=LIMITS.max_stock_items)] = ()
    drops: Annotated[Tup[Drop], Field(max_length=LIMITS.max_drops)] = ()
    spawn_room: Id
    respawn_ticks: int = Field(default=0, ge=0, le=LIMITS.max_respawn_ticks)
