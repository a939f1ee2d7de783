"""The one exception hierarchy of ouroboros, in one import.

The root (``OuroborosError``) and the engine's errors live in ``ouroboros.engine.errors``
because the engine imports nothing else of ours; this module re-exports them and adds the errors
of the layers above. Every error carries machine-readable fields (``code``, ``path``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    "ClusterError",
    "ComponentError",
    "ContentError",
    "EngineError",
    "EntityNotFoundError",
    "InputError",
    "KeyringError",
    "LedgerError",
    "LogFormatError",
    "OuroborosError",
    "PatchError",
    "Reason",
    "RejectedError",
    "SandboxError",
    "ScheduleError",
    "SnapshotError",
    "SyncTestError",
    "UnknownPlayerError",
    "UnknownRoomError",
    "WorldError",
]


class WorldError(OuroborosError):
    """An unknown world, or world parameters out of their bounds."""

    code = "world"


class BadInputError(OuroborosError):
    """Bad user input on a surface (CLI flag, file): reported as one line, exit code 2."""

    code = "bad_input"


class UnknownPlayerError(BadInputError):
    """A player name the world has no character for (HTTP 404, exit code 2)."""

    code = "unknown_player"


class UnknownRoomError(BadInputError):
    """A room id the world's content lacks (HTTP 404, exit code 2)."""

    code = "unknown_room"


@dataclass(frozen=True)
class Reason:
    """Why something was refused, as data: the pipeline stage, a stable machine-readable code, a
    JSON-pointer-like path into the offending document (``/content/items/0/price``) and a
    sentence for people. Every rejection in ouroboros is a list of these."""

    stage: str
    code: str
    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"stage": self.stage, "code": self.code, "path": self.path, "message": self.message}


class RejectedError(OuroborosError):
    """A document or a change refused for one or more ``Reason``s."""

    code = "rejected"

    def __init__(self, reasons: list[Reason] | tuple[Reason, ...], message: str | None = None) -> None:
        if not reasons:
            raise ValueError("RejectedError needs at least one reason")
        first = reasons[0]
        super().__init__(message or first.message, code=first.code, path=first.path)
        self.reasons: tuple[Reason, ...] = tuple(reasons)

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "reasons": [r.as_dict() for r in self.reasons]}


class ContentError(RejectedError):
    """Patch content that breaks its schema, its bounds or its references."""

    code = "content"


class PatchError(OuroborosError):
    """A governance operation that cannot be done (an illegal state transition, an unknown patch)."""

    code = "patch"


class LedgerError(OuroborosError):
    """The ledger cannot be trusted: a broken hash chain, a tampered entry, an unreadable file."""

    code = "ledger"


class KeyringError(OuroborosError):
    """A bad key file or keyring, or a keyring rotation without enough valid signatures."""

    code = "keyring"


class SandboxError(OuroborosError):
    """A misuse of the sandbox from the host side (not a script fault: faults are data)."""

    code = "sandbox"


class ClusterError(OuroborosError):
    """A job, queue or cluster process refused or unreachable (bad job, Redis down, a dead worker)."""

    code = "cluster"
