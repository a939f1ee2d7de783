"""neon: a cyberpunk MUD city on the engine, played over telnet and WebSocket."""

from ouroboros.worlds.neon.gameplay import apply_content, check_content, kpis, shadow_metrics
from ouroboros.worlds.neon.plugin import COMMAND, ENTER, LEAVE, NeonPlugin, find_player

__all__ = [
    "COMMAND",
    "ENTER",
    "LEAVE",
    "NeonPlugin",
    "apply_content",
    "check_content",
    "find_player",
    "kpis",
    "shadow_metrics",
]
