"""The city's tunable integers: ticks, combat, economy and guard thresholds.

Content overrides them with a ``world_params`` object for world ``neon`` (the base world has one);
names outside this table are refused by ``gameplay.check_content``.
"""

from __future__ import annotations

#: World parameters and their defaults; content may override them (``world_params``, world "neon").
DEFAULT_PARAMS: dict[str, int] = {
    "tick_hz": 50,
    "combat_round_ticks": 50,
    "economy_report_ticks": 3000,
    "start_credits": 200,
    "death_penalty_permille": 100,
    "respawn_delay_ticks": 250,
    "wander_every_ticks": 200,
    "state_timer_ticks": 500,
    "regen_every_ticks": 250,
    "player_hp": 100,
    "player_damage": 3,
    "player_accuracy": 60,
    "max_carried_items": 40,
    "sell_permille": 400,
    "trade_window_ticks": 500,
    "trades_per_window": 8,
    "gift_hold_credits": 5_000,
}
