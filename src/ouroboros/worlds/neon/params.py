"""The city's tunable integers: ticks, combat, economy and guard thresholds, each bounded.

Content overrides them with a ``world_params`` object for world ``neon`` (the base world has one);
names outside this table, values that are not integers and values outside a parameter's bounds are
refused by ``gameplay.check_content`` (and by the live runtime before it proposes a change), so the
city never runs on a value it cannot use: a period of 0 ticks (``world.tick % 0``), a pace of 0
ticks a second, a penalty over the whole purse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ouroboros.errors import WorldError


@dataclass(frozen=True)
class Param:
    default: int
    low: int
    high: int
    doc: str


#: Every parameter: its default, its bounds (inclusive) and what it means.
PARAMS: dict[str, Param] = {
    "tick_hz": Param(50, 1, 200, "ticks a second the city runs at"),
    "combat_round_ticks": Param(50, 1, 100_000, "ticks between two combat rounds"),
    "economy_report_ticks": Param(3000, 1, 10_000_000, "ticks between two economy reports"),
    "start_credits": Param(200, 0, 1_000_000, "credits a new character starts with"),
    "death_penalty_permille": Param(100, 0, 1000, "share of a dead character's credits billed, ‰"),
    "respawn_delay_ticks": Param(250, 0, 1_000_000, "ticks a dead character waits in the vat"),
    "wander_every_ticks": Param(200, 1, 1_000_000, "ticks between two moves of a wandering npc"),
    "state_timer_ticks": Param(500, 1, 10_000_000, "ticks before an npc's state timer fires"),
    "regen_every_ticks": Param(250, 1, 1_000_000, "ticks between two heals out of a fight"),
    "player_hp": Param(100, 1, 1_000_000, "hit points of a new character"),
    "player_damage": Param(3, 0, 100_000, "damage of an unarmed character"),
    "player_accuracy": Param(60, 0, 100, "hit chance of an unarmed character, %"),
    "max_carried_items": Param(40, 1, 10_000, "most items a character carries"),
    "sell_permille": Param(400, 0, 1000, "share of an item's price a shop pays for it, ‰"),
    "trade_window_ticks": Param(500, 1, 10_000_000, "ticks of the window trades are counted in"),
    "trades_per_window": Param(8, 1, 100_000, "most buys, sells or gifts of one kind a window"),
    "gift_hold_credits": Param(5_000, 0, 1_000_000_000, "gifts over this are held for review"),
}

#: World parameters and their defaults; content may override them (``world_params``, world "neon").
DEFAULT_PARAMS: dict[str, int] = {name: p.default for name, p in PARAMS.items()}


def param_problem(name: Any, value: Any) -> str | None:
    """Why ``name = value`` is no neon parameter setting, or ``None`` when it is one."""
    if not isinstance(name, str) or name not in PARAMS:
        return f"neon has no parameter {name!r} (known: {', '.join(PARAMS)})"
    if not isinstance(value, int) or isinstance(value, bool):
        return f"parameter {name} must be an integer, got {value!r}"
    p = PARAMS[name]
    if not p.low <= value <= p.high:
        return f"parameter {name}={value} is outside [{p.low}, {p.high}] ({p.doc})"
    return None


def check_param(name: Any, value: Any) -> tuple[str, int]:
    """``(name, value)`` if both are valid, else ``WorldError`` saying which rule is broken."""
    problem = param_problem(name, value)
    if problem is not None:
        raise WorldError(problem, path=str(name))
    return name, value


__all__ = ["DEFAULT_PARAMS", "PARAMS", "Param", "check_param", "param_problem"]
