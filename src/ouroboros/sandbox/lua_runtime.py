"""One Lua script in a Lua 5.4 state of its own, run under hard budgets.

``LuaScript`` is the host side of the sandbox. What it promises:

- The state is closed: lupa's ``python`` module, ``eval`` and builtins are not registered or are
  removed, attribute access on Python objects is refused, and strings cross as bytes (lupa with
  ``encoding=None``), so no Python object ever reaches a script. The script runs in a fresh
  environment built by the host prelude (``lua_api.HOST_LUA``).
- Every run (the top level at load, each ``call``, each trait tick) has budgets: instructions per
  call and per tick, memory (the state's allocator limit), wall clock, output, objects created,
  stack depth. Running out gives a ``Fault`` with its own code, never an exception.
- A fault stops the script for that entity; after ``max_faults`` faults it stops everywhere and
  later runs return a ``DISABLED`` fault without running anything.
- Results cross as plain values (``None``, ``bool``, ``int``, ``str``, lists, dicts) or packed
  ``int64`` arrays (a trait's also in place, ``lua_arrays``), copied by the host with raw access,
  and are checked before they are returned.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import lupa.lua54 as lupa

from ouroboros.errors import SandboxError
from ouroboros.sandbox.faults import Fault, FaultCode
from ouroboros.sandbox.lua_api import HOST_LUA

TRAIT_ENTRY = "act"
READABLE_FIELDS = (
    "ids",
    "x",
    "y",
    "vx",
    "vy",
    "energy",
    "max_energy",
    "thrust",
    "food_count",
    "food_dx",
    "food_dy",
    "crowd_count",
    "crowd_dx",
    "crowd_dy",
)
MAX_EVENT_DEPTH = 8
MAX_LOG_LINES = 1_000  # trait log lines kept, newest last
MAX_EVENT_ITEMS = 10_000
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


@dataclass(frozen=True)
class LuaLimits:
    """Budgets of one script, with their units in their names."""

    max_instructions_per_call: int = 20_000_000
    max_instructions_per_tick: int = 40_000_000
    max_memory_bytes: int = 64 << 20
    max_wall_ms_per_call: int = 1_000
    max_output_bytes: int = 64 << 10  # log lines and intents, per call
    max_intents: int = 4_096  # per call
    max_objects: int = 10_000  # coroutines, metatables and loaded chunks, per call
    # The longest string a script can make, on every path (``..``, string.*, table.concat, load,
    # the host's events). Whatever grows with a string's length inside one VM instruction (a
    # ``<`` between two strings of NULs is strcoll per byte, ``==``, ``tonumber``) stays under
    # ~0.4 ms at this size, so ``hook_every`` such instructions stay well inside the wall clock.
    max_script_string_bytes: int = 64 << 10
    max_c_work: int = 20_000_000  # worst-case steps of one pattern match or plain search
    max_sort: int = 1 << 18  # items in one table.sort
    max_result_items: int = 10_000
    max_result_bytes: int = 256 << 10  # strings in a result, each reference counted
    max_result_depth: int = 8
    max_call_depth: int = 1_000  # nested calls, checked with the instruction budget
    max_faults: int = 3  # faults before the script is disabled everywhere
    hook_every: int = 1_000  # instructions between budget checks

    def lua_view(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if k.startswith(("max_", "hook_"))}


_CODES = {code.value: code for code in FaultCode}


def _refuse_attribute(obj: object, name: object, is_setting: bool) -> str:
    raise AttributeError("attribute access from Lua is refused")


def _text(value: object, limit: int = 300) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")[:limit]
    return str(value)[:limit]


class LuaScript:
    """A script loaded into its own Lua state. ``fault`` is set when loading failed; ``call``
    and ``run_trait`` then return that fault (or ``DISABLED``) without running anything."""

    def __init__(
        self, script_id: str, version: str, source: str | bytes, limits: LuaLimits | None = None
    ) -> None:
        self.script_id = script_id
        self.version = version
        self.limits = limits or LuaLimits()
        self.faults: list[Fault] = []
        self.disabled = False
        self.banned_entities: set[int] = set()
        self.log: list[str] = []
        self._tick_used = 0
        self.fault: Fault | None = None
        self._lua = lupa.LuaRuntime(
            encoding=None,
            source_encoding="utf-8",
            register_eval=False,
            register_builtins=False,
            unpack_returned_tuples=True,
            attribute_filter=_refuse_attribute,
            max_memory=self.limits.max_memory_bytes,
        )
        view = self.limits.lua_view()
        table = self._lua.table_from({k.encode(): v for k, v in view.items()})
        table[b"readable"] = self._lua.table_from([f.encode() for f in READABLE_FIELDS])
        prelude = self._lua.globals().load(HOST_LUA.encode(), b"=sandbox", b"t")
        self._host: Any = prelude(time.perf_counter, table)
        raw = source.encode("utf-8") if isinstance(source, str) else source
        status, *rest = self._run(lambda lim, dl: self._host.load(lim, dl, b"script", raw))
        if status != "ok":
            self.fault = self._record(status, rest[0], rest[1])
            self.disabled = True

    # -- budgets --------------------------------------------------------------------------------
    def begin_tick(self) -> None:
        """Start a new tick: the per-tick instruction budget is full again."""
        self._tick_used = 0

    def _run(self, go: Callable[[int, float], Any]) -> tuple[str, Any, dict[str, int]]:
        """Run one budgeted host entry; returns (status, payload, budget used)."""
        lim = min(
            self.limits.max_instructions_per_call, self.limits.max_instructions_per_tick - self._tick_used
        )
        if lim <= 0:
            return "instructions", "instruction budget of this tick exhausted", {"instructions": 0}
        wall_s = self.limits.max_wall_ms_per_call / 1000
        start = time.perf_counter()
        try:
            try:
                raw = go(lim, start + wall_s)
            finally:
                self._host.sethook()
            out = self._host.verdict(*(raw if isinstance(raw, tuple) else (raw,)))
        except lupa.LuaMemoryError:
            out = (b"memory", b"memory budget exhausted")
        except Exception as exc:  # a host-side failure: report it, never raise into the tick
            out = (b"runtime", _text(exc).encode())
        elapsed = time.perf_counter() - start
        used = self._used()
        self._tick_used += used
        budget = {"instructions": used, "wall_ms": int(elapsed * 1000)}
        if not isinstance(out, tuple):
            out = (out,)
        status = _text(out[0])
        if status == "ok" and elapsed > wall_s:
            # Time spent inside one C call is invisible to the count hook; caught here, after.
            return "wall_clock", f"call took {elapsed * 1000:.0f} ms", budget
        payload = out[1:] if status == "ok" else (out[1] if len(out) > 1 else b"")
        return status, payload, budget

    def _used(self) -> int:
        try:
            return int(self._host.used())
        except Exception:
            return 0

    def _record(self, status: str, message: Any, budget: dict[str, int], entity: int | None = None) -> Fault:
        code = _CODES.get(status, FaultCode.RUNTIME)
        fault = Fault(code, _text(message), self.script_id, self.version, entity, budget)
        self.faults.append(fault)
        if entity is not None:
            self.banned_entities.add(entity)
        if len(self.faults) >= self.limits.max_faults:
            self.disabled = True
        return fault

    def _disabled_fault(self, entity: int | None) -> Fault:
        why = "disabled after repeated faults" if self.faults else "disabled"
        if self.fault is not None:
            why = f"not loaded: {self.fault.code}"
        return Fault(FaultCode.DISABLED, why, self.script_id, self.version, entity, {})

    # -- entry points ---------------------------------------------------------------------------
    def has_entry(self, name: str) -> bool:
        """Whether the script defines a global function ``name`` (after its top level ran)."""
        if self.fault is not None:
            return False
        return bool(self._host.entry(b"script", name.encode()))

    def call(
        self, function_name: str, event: Mapping[str, Any] | None = None, entity: int | None = None
    ) -> tuple[dict[str, Any] | None, Fault | None]:
        """Call a handler with one event of plain values. Gives ``({"value", "intents", "log"},
        None)`` or ``(None, fault)``; a faulted entity is not run for again."""
        if self.disabled or (entity is not None and entity in self.banned_entities):
            return None, self._disabled_fault(entity)
        if not self.has_entry(function_name):
            return None, self._record("contract", f"no function {function_name}", {}, entity)
        arg = self._to_lua(event or {}, 0, [0])
        status, payload, budget = self._run(
            lambda lim, dl: self._host.call(lim, dl, b"script", function_name.encode(), arg)
        )
        if status != "ok":
            return None, self._record(status, payload, budget, entity)
        try:
            value = _from_lua(payload[0] if payload else None, 0, [self.limits.max_result_bytes])
            log, intents = self._outputs()
        except _BadResult as exc:
            return None, self._record("bad_result", str(exc), budget, entity)
        except Exception as exc:  # MemoryError, RecursionError: the boundary holds, the tick goes on
            why = f"result could not cross: {type(exc).__name__}"
            return None, self._record("bad_result", why, budget, entity)
        return {"value": value, "intents": intents, "log": log}, None

    def run_trait(
        self,
        n: int,
        temperature: int,
        rng_key: int,
        fetch: Callable[..., bytes | bool],
        collect: Callable[[int, bytes, int], bool] | None = None,
    ) -> tuple[tuple[bytes | bool | None, bytes | bool | None, bytes | bool | None] | None, Fault | None]:
        """One trait tick over ``n`` carriers: packed (thrust_x, thrust_y, energy_gain) intents,
        each ``None`` when the script did not touch it.

        ``fetch(name)`` gives a readable array packed as ``<i8`` bytes. With ``collect``, the
        arrays also cross in place (``lua_arrays``): ``fetch(name, where)`` fills the fresh table
        of nils at ``where`` (an intent's with zeros) and answers ``True``, or answers the bytes;
        ``collect(i, where, n)`` takes intent ``i`` (1-based) when it holds ``n`` integers and
        answers ``True``, and that intent's item is then ``True`` instead of bytes."""
        if self.disabled:
            return None, self._disabled_fault(None)
        key = rng_key - (1 << 64) if rng_key > INT64_MAX else rng_key
        status, payload, budget = self._run(
            lambda lim, dl: self._host.trait(lim, dl, b"script", n, temperature, key, fetch, collect)
        )
        if status != "ok":
            return None, self._record(status, payload, budget)
        try:
            log, _ = self._outputs()
        except _BadResult as exc:
            return None, self._record("bad_result", str(exc), budget)
        except Exception as exc:  # MemoryError, RecursionError: the boundary holds, the tick goes on
            return None, self._record("bad_result", f"result could not cross: {type(exc).__name__}", budget)
        self.log.extend(log)
        del self.log[:-MAX_LOG_LINES]
        packed = tuple(p if isinstance(p, bytes) or p is True else None for p in payload[:3])
        return (packed[0], packed[1], packed[2]), None

    def _outputs(self) -> tuple[list[str], list[dict[str, Any]]]:
        log, intents = self._host.outputs()
        room = [2 * self.limits.max_output_bytes + 4096]  # output is budgeted in Lua; this is a backstop
        lines = [_from_lua(v, 1, room) for v in log.values()]
        records = [_from_lua(v, 1, room) for v in intents.values()]
        return [str(x) for x in lines], [r for r in records if isinstance(r, dict)]

    # -- plain values in ------------------------------------------------------------------------
    def _to_lua(self, value: Any, depth: int, count: list[int]) -> Any:
        count[0] += 1
        if depth > MAX_EVENT_DEPTH or count[0] > MAX_EVENT_ITEMS:
            raise SandboxError("event is too deep or too large for a script")
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int):
            if not INT64_MIN <= value <= INT64_MAX:
                raise SandboxError(f"event integer {value} does not fit in 64 bits")
            return value
        if isinstance(value, str):
            raw = value.encode("utf-8")
            if len(raw) > self.limits.max_script_string_bytes:
                raise SandboxError(f"event string of {len(raw)} bytes is over the script's limit")
            return raw
        if isinstance(value, Mapping):
            table = self._lua.table()
            for k, v in value.items():
                if not isinstance(k, str):
                    raise SandboxError("event keys must be strings")
                table[k.encode("utf-8")] = self._to_lua(v, depth + 1, count)
            return table
        if isinstance(value, list | tuple):
            table = self._lua.table()
            for i, v in enumerate(value, 1):
                table[i] = self._to_lua(v, depth + 1, count)
            return table
        raise SandboxError(f"a {type(value).__name__} cannot be passed to a script")

    def close(self) -> None:
        """Drop the Lua state (its memory goes with it)."""
        self.disabled = True
        self._host = None
        self._lua = None  # type: ignore[assignment]


class _BadResult(Exception):
    pass


def _pay(raw: bytes, room: list[int]) -> None:
    room[0] -= len(raw) + 16
    if room[0] < 0:
        raise _BadResult("result is too large to cross the boundary")


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _BadResult("strings must be UTF-8") from None


def _item(value: Any, depth: int, room: list[int]) -> Any:
    """An item of a table whose strings were paid for as it was read."""
    return _decode(value) if isinstance(value, bytes) else _from_lua(value, depth, room)


def _from_lua(value: Any, depth: int, room: list[int]) -> Any:
    """A host-made plain Lua value as Python data: tables with keys 1..n become lists, tables
    with string keys dicts; anything else is refused. ``room`` is the bytes still allowed: every
    string converted is paid for, however many times one Lua string is referenced."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, bytes):
        _pay(value, room)
        return _decode(value)
    if depth > MAX_EVENT_DEPTH + 1 or lupa.lua_type(value) != "table":
        raise _BadResult("result is not plain data")
    items = []
    for k, v in value.items():  # one pair converted at a time, each paid for before the next
        for x in (k, v):
            if isinstance(x, bytes):
                _pay(x, room)
        items.append((k, v))
    if not items:
        return {}
    keys = [k for k, _ in items]
    if all(isinstance(k, int) and not isinstance(k, bool) for k in keys):
        if sorted(keys) != list(range(1, len(keys) + 1)):
            raise _BadResult("a list must have keys 1..n")
        return [_item(v, depth + 1, room) for _, v in sorted(items, key=lambda kv: kv[0])]
    if all(isinstance(k, bytes) for k in keys):
        out = {}
        for k, v in sorted(items):
            out[_decode(k)] = _item(v, depth + 1, room)
        return out
    raise _BadResult("a table must have keys 1..n or string keys, not both")


def trait_field_names() -> tuple[str, ...]:
    """What a trait script may read from ``ctx`` (plus ``n``, ``temperature``, ``rng``)."""
    return READABLE_FIELDS


__all__ = ["TRAIT_ENTRY", "LuaLimits", "LuaScript", "trait_field_names"]
