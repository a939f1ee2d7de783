"""Static checks of a Lua script, before it is ever run.

A first line only: the runtime environment (``lua_api``) is the real boundary, so these checks
aim to give an author a clear early refusal, not to prove safety. In order: size, binary chunk,
syntax (compiled in a throwaway state with no libraries, never run), forbidden names outside
strings and comments, and the contract (the source defines ``act`` or an ``on_<event>``
handler; that the name really is a function is checked again when the script loads).
"""

from __future__ import annotations

import re

import lupa.lua54 as lupa

from ouroboros.sandbox.faults import Fault, FaultCode
from ouroboros.sandbox.lua_concat import CAT_NAME

MAX_SOURCE_BYTES = 64 << 10
COMPILE_MEMORY_BYTES = 16 << 20

FORBIDDEN_NAMES = frozenset(
    {
        "io",
        "os",
        "debug",
        "package",
        "require",
        "dofile",
        "loadfile",
        "loadstring",
        "collectgarbage",
        "setfenv",
        "getfenv",
        "module",
        "newproxy",
        "python",
        "jit",
        "ffi",
        CAT_NAME,  # the host's concatenation guard, bound by the runtime (lua_concat)
    }
)
FORBIDDEN_FIELDS = frozenset({"dump", "getregistry", "sethook", "gethook", "randomseed", "random"})

# Comments and strings, taken left to right so that "--" in a string and quotes in a comment
# are each read as what they are.
_COMMENT_OR_STRING = re.compile(
    r"--\[(=*)\[.*?\]\1\]|--[^\n]*|\[(=*)\[.*?\]\2\]|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'", re.S
)
_NAME = re.compile(r"(?<![\w.:])([A-Za-z_]\w*)|([.:])\s*([A-Za-z_]\w*)")
_BINARY_MODE = re.compile(r"\bload\s*\([^)]*,\s*[\"'][^\"']*b")
_ENTRY = re.compile(r"(?m)^\s*(?:local\s+)?function\s+(act|on_\w+)\s*\(|^\s*(act|on_\w+)\s*=\s*function\b")


def _strip(source: str) -> str:
    """The source with comments blanked and string literals emptied."""

    def blank(m: re.Match[str]) -> str:
        return " " if m.group(0).startswith("--") else '""'

    return _COMMENT_OR_STRING.sub(blank, source)


def _refuse_attribute(obj: object, name: object, is_setting: bool) -> str:
    raise AttributeError("attribute access from Lua is refused")


def _compile(source: bytes) -> str | None:
    """The syntax error of ``source``, or ``None``. Compiled, never run."""
    lua = lupa.LuaRuntime(
        encoding=None,
        register_eval=False,
        register_builtins=False,
        max_memory=COMPILE_MEMORY_BYTES,
        attribute_filter=_refuse_attribute,
    )
    compile_only = lua.eval("function(src) local f, err = load(src, '=script', 't', {}) return err end")
    try:
        err = compile_only(source)
    except lupa.LuaMemoryError:
        return "the script is too large to compile"
    except lupa.LuaError as exc:
        return str(exc)[:300]
    if err is None:
        return None
    return err.decode("utf-8", "replace")[:300] if isinstance(err, bytes) else str(err)[:300]


def check_lua(source: str, *, script_id: str = "", version: str = "") -> list[Fault]:
    """Every static fault of a Lua script (empty when it passes)."""

    def fault(code: FaultCode, message: str) -> Fault:
        return Fault(code, message, script_id, version)

    raw = source.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_SOURCE_BYTES:
        return [fault(FaultCode.SOURCE_TOO_LARGE, f"{len(raw)} bytes, the limit is {MAX_SOURCE_BYTES}")]
    if raw.startswith(b"\x1bLua") or raw.startswith(b"\x1b"):
        return [fault(FaultCode.BINARY_CHUNK, "precompiled Lua bytecode is not accepted")]
    error = _compile(raw)
    if error is not None:
        return [fault(FaultCode.SYNTAX, error)]
    faults: list[Fault] = []
    bare = _strip(source)
    seen: set[str] = set()
    for m in _NAME.finditer(bare):
        name, field = m.group(1), m.group(3)
        if name in FORBIDDEN_NAMES and name not in seen:
            seen.add(name)
            faults.append(fault(FaultCode.FORBIDDEN_NAME, f"'{name}' is not available in the sandbox"))
        if field in FORBIDDEN_FIELDS and field not in seen:
            seen.add(field)
            faults.append(fault(FaultCode.FORBIDDEN_NAME, f"'.{field}' is not available in the sandbox"))
    if _BINARY_MODE.search(source):
        faults.append(fault(FaultCode.FORBIDDEN_NAME, "load of binary chunks is not available"))
    if "\\27Lua" in source or "\\x1bLua" in source or "\\x1BLua" in source:
        faults.append(fault(FaultCode.BINARY_CHUNK, "the source embeds precompiled Lua bytecode"))
    if not _ENTRY.search(bare):
        faults.append(fault(FaultCode.CONTRACT, "defines no 'act(ctx)' function and no 'on_<event>' handler"))
    return faults


__all__ = ["FORBIDDEN_FIELDS", "FORBIDDEN_NAMES", "MAX_SOURCE_BYTES", "check_lua"]
