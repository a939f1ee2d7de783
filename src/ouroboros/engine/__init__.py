"""The deterministic ECS engine. It imports nothing else of ours and knows no world."""

from ouroboros.engine.clock import Clock, ManualClock
from ouroboros.engine.components import Component
from ouroboros.engine.digest import Digest, canonical_json
from ouroboros.engine.entities import NO_ENTITY
from ouroboros.engine.profiler import Profiler
from ouroboros.engine.replay import Desync, LogWriter, ReplayResult, read_log, replay
from ouroboros.engine.rng import Stream
from ouroboros.engine.schedule import PHASES, SystemSpec, Variant
from ouroboros.engine.snapshot import describe as describe_snapshot
from ouroboros.engine.synctest import SyncTest
from ouroboros.engine.world import ENGINE_VERSION, Chunk, Input, Plugin, TickReport, World

__all__ = [
    "ENGINE_VERSION",
    "NO_ENTITY",
    "PHASES",
    "Chunk",
    "Clock",
    "Component",
    "Desync",
    "Digest",
    "Input",
    "LogWriter",
    "ManualClock",
    "Plugin",
    "Profiler",
    "ReplayResult",
    "Stream",
    "SyncTest",
    "SystemSpec",
    "TickReport",
    "Variant",
    "World",
    "canonical_json",
    "describe_snapshot",
    "read_log",
    "replay",
]
