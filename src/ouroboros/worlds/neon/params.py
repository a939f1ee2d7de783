"""The city's tunable integers: ticks, combat, economy and guard thresholds.

Content overrides them with a ``world_params`` object for world ``neon`` (the base world has one);
names outside this table are refused by ``gameplay.check_content``.
"""

from __future__ import annotations

#: World parameters and their defaults; content may override them (``world_params``, world "neon").
DEFAULT_PARAMS: dict[str, int] = {
    "tick_hz": 30,
    "combat_round_ticks": 30,
    "economy_report_ticks": 1800,
    "start_credits": 200,
    "death_penalty_permille": 100,
    "respawn_delay_ticks": 150,
    "wander_every_ticks": 120,
    "state_timer_ticks": 300,
    "regen_every_ticks": 150,
    "player_hp": 100,
    "player_damage": 3,
    "player_accuracy": 60,
    "max_carried_items": 40,
    "sell_permille": 400,
    "trade_window_ticks": 300,
    "trades_per_window": 8,
    "gift_hold_credits": 5_000,
}
