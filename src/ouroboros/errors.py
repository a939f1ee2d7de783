"""The one exception hierarchy of ouroboros, in one import.

The root (``OuroborosError``) and the engine's errors live in ``ouroboros.engine.errors``
because the engine imports nothing else of ours; this module re-exports them and adds the errors
of the layers above: every error class of the package is defined here or there, nowhere else.

Every error carries machine-readable fields (``code``, ``path``) and ``exit_code``, the status the
command line ends with when the error reaches a command: ``EXIT_FAILED`` (1) for an operation that
failed or was refused, ``EXIT_BAD_INPUT`` (2) for bad input. One boundary in ``ouroboros.cli``
reads it; no command picks an exit code for an error itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

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
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "LLM_ERROR_CODES",
    "LLM_RETRYABLE_CODES",
    "REFUSAL_STAGES",
    "TRUST_CODES",
    "AccessError",
    "AccountError",
    "AiStoreError",
    "AuthError",
    "BadInputError",
    "BadJsonError",
    "CharacterHeldError",
    "CharacterLeaseLostError",
    "ClientFrameError",
    "ClusterError",
    "ComponentError",
    "ContentError",
    "EngineError",
    "EnrichInvariantError",
    "EntityNotFoundError",
    "EvaluationStoppedError",
    "FrameError",
    "GuardrailError",
    "InputError",
    "KeyFileError",
    "KeyringError",
    "LedgerError",
    "LlmError",
    "LocalModelError",
    "LogFormatError",
    "OuroborosError",
    "PatchError",
    "Reason",
    "RejectedError",
    "SandboxError",
    "ScheduleError",
    "SchemaError",
    "ShardedRestoreError",
    "SnapshotError",
    "SyncTestError",
    "UnknownPlayerError",
    "UnknownRoomError",
    "WorldError",
]

#: the command line's exit statuses: the operation failed or was refused; the input was bad
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


class WorldError(OuroborosError):
    """An unknown world, or world parameters out of their bounds."""

    code = "world"
    exit_code = EXIT_BAD_INPUT


class BadInputError(OuroborosError):
    """Bad user input on a surface (CLI flag, file): reported as one line, exit code 2."""

    code = "bad_input"
    exit_code = EXIT_BAD_INPUT


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


#: the stages whose reasons refuse by the house's rules (exit 1), not for the input's shape (exit 2)
REFUSAL_STAGES = frozenset({"governance", "guardrails", "policy"})


class RejectedError(OuroborosError):
    """A document or a change refused for one or more ``Reason``s: bad input (exit 2), unless a
    reason comes from one of the ``REFUSAL_STAGES`` (a refusal, exit 1)."""

    code = "rejected"
    exit_code = EXIT_BAD_INPUT

    def __init__(self, reasons: list[Reason] | tuple[Reason, ...], message: str | None = None) -> None:
        if not reasons:
            raise ValueError("RejectedError needs at least one reason")
        first = reasons[0]
        super().__init__(message or first.message, code=first.code, path=first.path)
        self.reasons: tuple[Reason, ...] = tuple(reasons)
        if any(r.stage in REFUSAL_STAGES for r in self.reasons):
            self.exit_code = EXIT_FAILED

    def summary(self, limit: int = 5) -> str:
        """The first ``limit`` reasons on one line: ``code at path: message; ...``."""
        return "; ".join(f"{r.code} at {r.path or '/'}: {r.message}" for r in self.reasons[:limit])

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


#: keyring errors that mean "this folder's trust is broken" (refused, exit 1), not bad input
TRUST_CODES = frozenset({"keyring_tampered", "keyring_unpinned", "keyring_missing", "trust_root_mismatch"})


class KeyringError(OuroborosError):
    """A bad key file or keyring, or a keyring rotation without enough valid signatures (bad
    input, exit 2); a folder whose trust is broken (one of ``TRUST_CODES``) is refused, exit 1."""

    code = "keyring"
    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, *, code: str | None = None, path: str | None = None) -> None:
        super().__init__(message, code=code, path=path)
        if self.code in TRUST_CODES:
            self.exit_code = EXIT_FAILED


class SandboxError(OuroborosError):
    """A misuse of the sandbox from the host side (not a script fault: faults are data)."""

    code = "sandbox"
    exit_code = EXIT_BAD_INPUT


# -- the server's surfaces ---------------------------------------------------------------------
class AccountError(BadInputError):
    """A refused account operation; ``code`` is ``bad_name``, ``bad_password``, ``name_taken``
    or ``unknown_account``, and the message is meant for the player; or ``bad_accounts_file``, an
    older accounts file that cannot be read, for the operator."""

    code = "account"


class ClientFrameError(BadInputError):
    """A game client's WebSocket frame that is not ``{"type": "line", "line": str}``; ``code``
    says why."""

    code = "bad_frame"


class BadJsonError(BadInputError):
    """A body or message that strict JSON refuses; ``path`` is a JSON pointer to the value."""

    code = "bad_json"


class FrameError(OuroborosError):
    """A stream frame or message that cannot be encoded or decoded (bad magic, truncated, counts
    out of range, not JSON)."""

    code = "bad_frame"
    exit_code = EXIT_BAD_INPUT


class AuthError(OuroborosError):
    """A refused credential: ``status`` is the HTTP status the API answers with; a malformed
    request (400) is bad input, any other refusal exits 1."""

    code = "auth"

    def __init__(self, message: str, status: int = 401, *, guess: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.guess = guess  # a wrong secret or code (counted against a lockout), not a malformed one
        if status == 400:
            self.exit_code = EXIT_BAD_INPUT


# -- the AI layer ------------------------------------------------------------------------------
LLM_ERROR_CODES = frozenset(
    {
        "timeout",  # no complete answer within the request's timeout
        "http_error",  # a transport failure or a status other than 2xx
        "bad_json",  # the answer (or the envelope around it) is not the JSON expected
        "schema_mismatch",  # JSON, but not what the request's schema allows
        "refused",  # the model declined or the provider refused the request itself
        "too_large",  # the response body was larger than the provider accepts
        "bad_request",  # the request itself is malformed (a bug in the caller)
    }
)
#: Failures worth another try: the next attempt may well succeed.
LLM_RETRYABLE_CODES = frozenset({"timeout", "http_error", "bad_json"})


class LlmError(OuroborosError):
    """A provider could not give a valid answer. ``code`` is one of ``LLM_ERROR_CODES``;
    ``status`` the HTTP status where there was one; ``retryable`` whether a retry may help."""

    code = "llm"

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status: int | None = None,
        retryable: bool | None = None,
        path: str | None = None,
    ) -> None:
        if code not in LLM_ERROR_CODES:
            raise ValueError(f"unknown LlmError code {code!r}")
        super().__init__(message, code=code, path=path)
        self.status = status
        self.retryable = code in LLM_RETRYABLE_CODES if retryable is None else retryable

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "status": self.status}


class SchemaError(OuroborosError):
    """A model-answer schema that uses something outside the supported subset, or is malformed
    (ours, so a bug: exit 1)."""

    code = "bad_schema"


class LocalModelError(OuroborosError):
    """The local model or its runtime cannot be obtained or started (the message says what to do)."""

    code = "local_model"


class KeyFileError(OuroborosError):
    """The key or price file is unsafe or malformed (the message never holds a key)."""

    code = "llm_keys"
    exit_code = EXIT_BAD_INPUT


class EnrichInvariantError(OuroborosError):
    """Enrichment changed something other than a flavour text (a bug in the enricher)."""

    code = "enrich_invariant"


class EvaluationStoppedError(OuroborosError):
    """An evaluation was stopped between two fork ticks (cancelled, or out of its budget)."""

    code = "evaluation_stopped"


class AiStoreError(OuroborosError):
    """The AI store cannot be used: an unreadable file or a schema from a newer version."""

    code = "ai_store"


class _Violation(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def message(self) -> str: ...

    def as_dict(self) -> dict[str, Any]: ...


class GuardrailError(OuroborosError):
    """A proposal (or a guardrails document) refused; ``violations`` (``content.rules.Violation``)
    says by what, with numbers."""

    code = "guardrail"

    def __init__(self, violations: Sequence[_Violation]) -> None:
        if not violations:
            raise ValueError("GuardrailError needs at least one violation")
        first = violations[0]
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        super().__init__(first.message + more, code=first.code, path=first.path)
        self.violations: tuple[Any, ...] = tuple(violations)

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "violations": [v.as_dict() for v in self.violations]}


class ClusterError(OuroborosError):
    """A job, queue or cluster process refused or unreachable (bad job, Redis down, a dead worker)."""

    code = "cluster"


class ShardedRestoreError(OuroborosError):
    """A snapshot restore of a world run as shards, refused before anything changes: a snapshot
    holds shard 0's world only (HTTP 409, exit code 2; the message says what to do)."""

    code = "sharded_restore"
    exit_code = EXIT_BAD_INPUT


# -- characters every shard can load -----------------------------------------------------------
class CharacterHeldError(OuroborosError):
    """A character another holder (a shard) has a live lease on: it plays there now. ``holder``
    names who holds it; the message is meant for the player."""

    code = "character_held"

    def __init__(self, name: str, holder: str) -> None:
        super().__init__(f"{name} is playing elsewhere right now ({holder}); try again once they leave.",
                         path=name)  # fmt: skip
        self.holder = holder

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "holder": self.holder}


class CharacterLeaseLostError(OuroborosError):
    """A write by a holder whose lease on the character ran out or was taken (fenced off), so a
    shard presumed dead never overwrites the newer copy."""

    code = "character_lease_lost"
