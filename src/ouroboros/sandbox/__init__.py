"""The sandbox boundary: AI-written code runs only here (Lua with budgets; gated Python traits
in an isolated worker)."""

from __future__ import annotations

from ouroboros.sandbox.checks import check_script, source_digest
from ouroboros.sandbox.faults import Fault, FaultCode
from ouroboros.sandbox.lua import SEEK_FOOD_LUA, LuaTrait
from ouroboros.sandbox.lua_check import FORBIDDEN_NAMES
from ouroboros.sandbox.lua_runtime import READABLE_FIELDS, LuaLimits, LuaScript
from ouroboros.sandbox.python_gate import check_python_trait, source_sha256
from ouroboros.sandbox.python_trait import PythonTrait
from ouroboros.sandbox.python_worker import PythonTraitLimits, PythonTraitWorker, add_restart_listener
from ouroboros.sandbox.registry import KEEP_VERSIONS, ScriptRegistry, ScriptVersion

__all__ = [
    "FORBIDDEN_NAMES",
    "KEEP_VERSIONS",
    "READABLE_FIELDS",
    "SEEK_FOOD_LUA",
    "Fault",
    "FaultCode",
    "LuaLimits",
    "LuaScript",
    "LuaTrait",
    "PythonTrait",
    "PythonTraitLimits",
    "PythonTraitWorker",
    "ScriptRegistry",
    "ScriptVersion",
    "add_restart_listener",
    "check_python_trait",
    "check_script",
    "source_digest",
    "source_sha256",
]
