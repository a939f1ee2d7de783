"""The root of the one exception hierarchy of ouroboros, and the engine's own errors.

It lives in the engine because the engine imports nothing else of ours; ``ouroboros.errors``
re-exports all of it and adds the errors of the layers above.

Every error carries machine-readable fields (``code`` and, where it applies, ``stage`` and
``path``) so a rejection is data, never only a log line, and the exit code the command line
ends with when it reaches a command (``exit_code``: 1 the operation failed or was refused, 2 bad
input). Names end in ``Error``.
"""

from __future__ import annotations

from typing import Any


class OuroborosError(Exception):
    """Base of every error this package raises on purpose."""

    code: str = "error"
    #: the command line's exit status when this error ends a command: 1 failed or refused
    exit_code: int = 1

    def __init__(self, message: str, *, code: str | None = None, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.path = path

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "path": self.path, "message": self.message}


class EngineError(OuroborosError):
    """A misuse of the engine (a bad registration, an impossible structural change). At a command
    it is a value the user passed through (a seed, a count) that the engine refuses: exit 2."""

    code = "engine"
    exit_code = 2


class EntityNotFoundError(EngineError):
    """The entity id is dead, was never alive, or belongs to an older generation."""

    code = "entity_not_found"


class ComponentError(EngineError):
    """An unknown component or field, or an entity that lacks the component asked for."""

    code = "component"


class AccessError(EngineError):
    """A system touched a component it did not declare in ``reads=`` / ``writes=``."""

    code = "access"


class ScheduleError(EngineError):
    """Systems whose ordering constraints cannot be met (a cycle, an unknown name)."""

    code = "schedule"


class InputError(EngineError):
    """An input (command) that no handler accepts, or whose payload is malformed."""

    code = "input"


class SnapshotError(OuroborosError):
    """Snapshot bytes that are corrupt, truncated, or do not fit this world."""

    code = "snapshot"
    exit_code = 2


class LogFormatError(OuroborosError):
    """An input log that cannot be read: corrupt, truncated, or of another format."""

    code = "log_format"
    exit_code = 2


class SyncTestError(OuroborosError):
    """Re-simulating from a snapshot gave a different digest: hidden nondeterminism."""

    code = "sync_test"

    def __init__(self, message: str, *, tick: int, sections: list[str]) -> None:
        super().__init__(message)
        self.tick = tick
        self.sections = sections
