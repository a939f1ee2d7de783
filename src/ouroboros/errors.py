"""The one exception hierarchy of ouroboros, in one import.

The root (``OuroborosError``) and the engine's errors live in ``ouroboros.engine.errors``
because the engine imports nothing else of ours; this module re-exports them and adds the errors
of the layers above. Every error carries machine-readable fields (``code``, ``path``).
"""

from __future__ import annotations

from ouroboros.engine.errors import (
    AccessError,
    ComponentError,
    EngineError,
    EntityNotFoundError,
    InputError,
    LogFormatError,
    OuroborosError,
    ScheduleError,
    SnapshotError,
    SyncTestError,
)

__all__ = [
    "AccessError",
    "BadInputError",
    "ComponentError",
    "EngineError",
    "EntityNotFoundError",
    "InputError",
    "LogFormatError",
    "OuroborosError",
    "ScheduleError",
    "SnapshotError",
    "SyncTestError",
    "WorldError",
]


class WorldError(OuroborosError):
    """An unknown world, or world parameters out of their bounds."""

    code = "world"


class BadInputError(OuroborosError):
    """Bad user input on a surface (CLI flag, file): reported as one line, exit code 2."""

    code = "bad_input"
