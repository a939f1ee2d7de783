"""How a runtime runs its worlds (frozen options) and the runtime's constants."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ouroboros.server.gateway.session import SessionLimits

#: the pace of a world without a live game of its own (one with a game asks its ``GameHook``)
DEFAULT_TICKS_PER_SECOND = 30.0
COUNCIL_EVERY_S = 1.0
CONTROL_TIMEOUT_S = 120.0
#: the most shards one world may run as threads of one process (``go --shards``)
MAX_SHARDS = 16
SERVER_KEY = "server"


@dataclass(frozen=True)
class RuntimeOptions:
    """How the runtime runs its worlds; ``None`` paces mean each world's own."""

    ticks_per_second: float | None = None
    max_ticks: int | None = None
    fresh: bool = False
    seed: int | None = None
    #: the config of new worlds, by world name (``None``/absent: the world's ``live_config``)
    world_configs: Mapping[str, Mapping[str, Any]] | None = None
    host: str = "127.0.0.1"
    telnet_port: int = 4000
    ws_port: int = 4001
    optimizer: bool = True
    council: bool = True
    governance_budgets: Mapping[str, int] | None = None
    session_limits: SessionLimits | None = None  # a played world's gateways (None: SessionLimits())
    #: the anchors outside the data folder (``None``: ``OUROBOROS_WITNESS`` / ``OUROBOROS_TRUST_ROOT``)
    witness: Path | None = None
    trust_root: str | None = None
    #: automatic snapshots (before high-risk operations) kept: the last this many ...
    auto_snapshot_keep_last: int = 5
    #: ... plus the newest of each of the last this many days
    auto_snapshot_keep_days: int = 7
    #: role -> RoleAssignment serving the roles no governed model_roles object names
    #: (``go --llm local``); None: those roles are offline
    model_defaults: Mapping[str, Any] | None = None
    enrich_timeout_s: float = 10.0
    # what a runtime keeps in memory, however long it runs (newest last)
    feed_max_events: int = 1_000  # the operators' feed
    tick_samples_max: int = 2_048  # tick times per world, for its statistics
    council_events_max: int = 500  # world events waiting for the director's next look
    # what a runtime keeps on disk (issue 22)
    event_log: bool = True  # every feed event in <data>/events.sqlite3
    input_log: bool = True  # each world's inputs in <data>/<world>/inputs/ (rotating segments)
    input_log_segment_ticks: int = 9_000
    input_log_keep_segments: int = 12
    trace_tick_every: int = 0  # with tracing on: a span for one tick in this many (0: none)
    #: shards per world (``go --shards neon=2``): a world not named runs one, as it always has
    shards: Mapping[str, int] | None = None

    def shards_of(self, world: str) -> int:
        return int((self.shards or {}).get(world, 1))


__all__ = [
    "CONTROL_TIMEOUT_S",
    "COUNCIL_EVERY_S",
    "DEFAULT_TICKS_PER_SECOND",
    "MAX_SHARDS",
    "SERVER_KEY",
    "RuntimeOptions",
]
