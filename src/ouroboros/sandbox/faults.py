"""Script faults as data: what stopped a script, where, and how much of its budget it had used.

A fault is never an exception that crosses into the host's tick: the runtime catches it, stops the
script for that entity (or everywhere, after repeated faults), records a ``Fault`` and the tick
goes on. Fault codes are stable strings; the CLI, the governance pipeline and the dashboard key
on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FaultCode(StrEnum):
    # refused before running (static checks)
    SYNTAX = "syntax"  # does not parse / compile
    BINARY_CHUNK = "binary_chunk"  # precompiled Lua bytecode offered as source
    FORBIDDEN_NAME = "forbidden_name"  # a banned global, attribute or call in the source
    FORBIDDEN_IMPORT = "forbidden_import"  # a Python import outside the allowed list
    MODULE_CODE = "module_code"  # Python statements at module level beyond defs and imports
    CONTRACT = "contract"  # the script does not provide the entry point the host calls
    SOURCE_TOO_LARGE = "source_too_large"
    DUPLICATE = "duplicate"  # the same source (sha256) is already registered
    # stopped while running (budgets)
    INSTRUCTIONS = "instructions"  # instruction budget per call or per tick
    MEMORY = "memory"  # memory budget (Lua allocator limit, worker address space); bounds tables alive
    WALL_CLOCK = "wall_clock"  # watchdog: time in one C call, or a worker that overruns
    CPU_TIME = "cpu_time"  # worker CPU limit (RLIMIT_CPU)
    OUTPUT = "output"  # log / say / intent output over its size budget
    OBJECTS = "objects"  # too many coroutines, metatables or loaded chunks (plain tables: see MEMORY)
    RECURSION = "recursion"  # stack depth (C stack overflow, Lua "stack overflow")
    # misbehaviour
    RUNTIME = "runtime"  # the script raised an error
    BAD_RESULT = "bad_result"  # returned something that is not the intent shape asked for
    ESCAPE = "escape"  # tried to reach something outside its capabilities
    WORKER_DIED = "worker_died"  # the isolated worker exited or was killed
    DISABLED = "disabled"  # not run: disabled after repeated faults


@dataclass(frozen=True)
class Fault:
    """One fault: which script (id and version), which entity (``None``: the whole call), the code,
    a message for people, and the budget used when it stopped (``{"instructions": n, ...}``)."""

    code: FaultCode
    message: str
    script_id: str = ""
    script_version: str = ""
    entity: int | None = None
    budget_used: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": str(self.code),
            "message": self.message,
            "script_id": self.script_id,
            "script_version": self.script_version,
            "entity": self.entity,
            "budget_used": dict(self.budget_used),
        }
