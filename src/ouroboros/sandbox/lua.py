"""Lua behaviour code as a petri trait: ``LuaTrait`` implements the ``Trait`` protocol.

The script defines a top-level ``function act(ctx)``. Once per tick the host makes ONE call over
all carriers; the loop over molbots is inside Lua. ``ctx`` holds:

- ``ctx.n`` (carriers), ``ctx.temperature``, and 1-based arrays of integers, each built on first
  use: ``ids x y vx vy energy max_energy thrust food_count food_dx food_dy crowd_count crowd_dx
  crowd_dy`` (the fields of ``TraitContext``);
- intent arrays, zeros on first use, that the script writes into: ``thrust_x``, ``thrust_y``,
  ``energy_gain``;
- ``ctx.rng``: this trait's keyed stream for this tick, drawn per molbot exactly as the engine's
  ``Stream.for_ids``: ``rng.draw(id, salt)`` (raw 64 bits), ``rng.below(id, salt, bound)``,
  ``rng.signed(id, salt, one)``;
- globals ``log(...)`` and ``intent.*`` (move, eat, reproduce, say, give_quest).

Arrays cross in place where ``lua_arrays`` vouches for this Lua's table layout (numpy fills a
fresh table the host made, and reads an intent table back when it holds ``n`` integers), and as
packed ``int64`` buffers (``string.unpack``/``string.pack``) otherwise or when ``direct=False``:
the script sees the same tables and the intents are the same either way.

What it promises: a fault (any budget, an error, intents that are not integers or are out of
``±MAX_INTENT``) records a ``Fault``, adds no intents this tick, and the world ticks on; after
``limits.max_faults`` faults the trait is disabled and adds nothing again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ouroboros.sandbox import lua_arrays
from ouroboros.sandbox.faults import Fault, FaultCode
from ouroboros.sandbox.lua_runtime import READABLE_FIELDS, TRAIT_ENTRY, LuaLimits, LuaScript

MAX_INTENT = 1 << 32

SEEK_FOOD_LUA = """\
-- Steer towards the centre of the food sensed around you (the built-in SeekFood, in Lua).
function act(ctx)
  local n, thrust = ctx.n, ctx.thrust
  local count, fdx, fdy = ctx.food_count, ctx.food_dx, ctx.food_dy
  local tx, ty = ctx.thrust_x, ctx.thrust_y
  local sqrt, floor = math.sqrt, math.floor
  for i = 1, n do
    if count[i] > 0 then
      local ux, uy = fdx[i] // 65536, fdy[i] // 65536
      local norm = floor(sqrt(ux * ux + uy * uy))
      if norm < 1 then norm = 1 end
      local m = thrust[i]
      tx[i] = tx[i] + (m * ux) // norm
      ty[i] = ty[i] + (m * uy) // norm
    end
  end
end
"""


_KEPT_BLOCKS = [0]


def _keep_large_blocks(n: int) -> None:
    """Ask the allocator to keep a trait's big tables and strings on its heap (once per size).

    Every array a trait sees is a Lua table of 16 bytes an item, and a string of 8 crosses with
    it: at 10,000 carriers each is over glibc's first mmap threshold (128 KiB), so each would be
    a fresh mapping, faulted in page by page, every tick. The threshold rises by itself to the
    size of the largest such block freed (up to 32 MiB); freeing one of this scale does that
    once. Elsewhere (another allocator) it is one allocation and nothing more."""
    size = min(32 << 20, max(1 << 20, 48 * n))
    if size > _KEPT_BLOCKS[0]:
        _KEPT_BLOCKS[0] = size
        block = np.empty(size, dtype=np.uint8)  # untouched: mapped, never faulted in
        del block


class _Fetch:
    """The reader a trait's ``ctx`` pulls its arrays through, and the taker of its intents, for
    one call only.

    The Lua state keeps whatever crossed into it until its own garbage collector runs, and
    Python's collector cannot see through a Lua state. A plain closure over ``ctx`` would so tie
    the state to the world the context reads (world → trait cache → Lua state → closure → ctx →
    world), a cycle no collector can break: every shadow fork with a Lua trait would live
    forever. ``release()`` drops the context (and hands over the intents collected) once the
    call is over, so the state only ever holds an empty reader.

    On the direct path (``lua_arrays``) arrays cross in place: ``fetch(name, where)`` fills the
    host's fresh table of nils at ``where`` and ``collect`` copies an intent array out; whatever
    either declines crosses packed, as before."""

    __slots__ = ("_collected", "_ctx")

    def __init__(self, ctx: Any) -> None:
        self._ctx: Any = ctx
        self._collected: dict[int, np.ndarray] = {}

    def release(self) -> dict[int, np.ndarray]:
        """Drop the context; the intents ``collect`` took, by their 1-based index."""
        self._ctx = None
        collected, self._collected = self._collected, {}
        return collected

    def __call__(self, name: bytes, where: bytes | None = None) -> bytes | bool:
        # Called from Lua with a name the host prelude checked; never raises into Lua.
        try:
            field = name.decode()
            if self._ctx is None:
                return b""
            if field in _INTENTS:
                return where is not None and lua_arrays.fill(where, None, self._ctx.n)
            if field not in READABLE_FIELDS:
                return b""
            values = np.ascontiguousarray(getattr(self._ctx, field), dtype="<i8")
            if (
                where is not None
                and values.size == self._ctx.n
                and lua_arrays.fill(where, values, values.size)
            ):
                return True
            return values.tobytes()
        except Exception:
            return b""

    def collect(self, index: int, where: bytes, n: int) -> bool:
        # Called from Lua once the script is done; never raises into Lua.
        try:
            values = lua_arrays.read(where, n) if index in (1, 2, 3) else None
        except Exception:
            values = None
        if values is None:
            return False
        self._collected[index] = values
        return True


_INTENTS = ("thrust_x", "thrust_y", "energy_gain")


class LuaTrait:
    """A petri trait whose ``act`` is a Lua script. ``faults`` lists every fault so far."""

    def __init__(
        self,
        script_id: str,
        version: str,
        source: str | bytes,
        limits: LuaLimits | None = None,
        name: str | None = None,
        direct: bool | None = None,
    ) -> None:
        self.name = name or f"lua:{script_id}"
        self.script = LuaScript(script_id, version, source, limits)
        self.faults: list[Fault] = []
        self.ticks_run = 0
        # Arrays cross in place when this process's Lua has the layout lua_arrays checks for.
        self.direct = lua_arrays.available() if direct is None else direct and lua_arrays.available()
        if self.script.fault is not None:
            self.faults.append(self.script.fault)
        elif not self.script.has_entry(TRAIT_ENTRY):
            fault = Fault(FaultCode.CONTRACT, "the script defines no function act(ctx)", script_id, version)
            self.faults.append(fault)
            self.script.disabled = True

    @property
    def disabled(self) -> bool:
        return self.script.disabled

    @property
    def log(self) -> list[str]:
        return self.script.log

    def act(self, ctx: Any) -> None:
        """One tick over ``ctx.n`` carriers (a petri ``TraitContext``)."""
        if self.script.disabled or ctx.n == 0:
            return
        self.script.begin_tick()
        _keep_large_blocks(ctx.n)
        fetch = _Fetch(ctx)
        try:
            packed, fault = self.script.run_trait(
                ctx.n, int(ctx.temperature), int(ctx.rng.key), fetch, fetch.collect if self.direct else None
            )
        finally:
            collected = fetch.release()
        self.ticks_run += 1
        if fault is not None or packed is None:
            if fault is not None:
                self.faults.append(fault)
            return
        arrays: list[np.ndarray | None] = []
        for i, (buf, target) in enumerate(zip(packed, _INTENTS, strict=True), 1):
            if buf is None or buf is False:
                arrays.append(None)
                continue
            values = collected[i] if buf is True else np.frombuffer(buf, dtype="<i8")
            if values.size != ctx.n or values.min() < -MAX_INTENT or values.max() > MAX_INTENT:
                bad = Fault(
                    FaultCode.BAD_RESULT,
                    f"ctx.{target} must hold {ctx.n} integers within ±{MAX_INTENT}",
                    self.script.script_id,
                    self.script.version,
                )
                self.script.faults.append(bad)
                self.faults.append(bad)
                if len(self.script.faults) >= self.script.limits.max_faults:
                    self.script.disabled = True
                return
            arrays.append(values)
        for intent, target in zip(arrays, (ctx.thrust_x, ctx.thrust_y, ctx.energy_gain), strict=True):
            if intent is not None:
                target += intent

    def close(self) -> None:
        self.script.close()


__all__ = ["MAX_INTENT", "SEEK_FOOD_LUA", "LuaTrait"]
