"""Arrays that cross in place (``lua_arrays``) give exactly what the packed crossing gives.

A trait run with ``direct=True`` (tables filled and read through their array part) and one run
with ``direct=False`` (``string.unpack`` in, ``string.pack`` out) see the same arrays and produce
the same intents, logs and faults, tick after tick, whatever the script does to its tables:
floats, nils, resizing them, a ``__tostring`` that names another address, keeping them across
ticks, asking for them again."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ouroboros.engine import Stream
from ouroboros.sandbox import SEEK_FOOD_LUA, FaultCode, LuaLimits, LuaTrait, lua_arrays
from ouroboros.sandbox.lua_runtime import READABLE_FIELDS
from ouroboros.worlds.petri import TraitContext

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1

BEHAVIOURS = {
    "seek_food": SEEK_FOOD_LUA,
    "every_field": """
function act(ctx)
  local gain, tx = ctx.energy_gain, ctx.thrust_x
  local fields = {"ids", "x", "y", "vx", "vy", "energy", "max_energy", "thrust", "food_count",
                  "food_dx", "food_dy", "crowd_count", "crowd_dx", "crowd_dy"}
  for _, name in ipairs(fields) do
    local a = ctx[name]
    if #a ~= ctx.n or a[ctx.n + 1] ~= nil then error("length of " .. name) end
    for i = 1, ctx.n do gain[i] = (gain[i] + a[i] % 1000003) % 65536 end
  end
  tx[ctx.n] = ctx.x[1] // 4294967296
end
""",
    "integral_float": "function act(ctx) ctx.thrust_x[1] = 2.0 ctx.thrust_y[ctx.n] = 7 end",
    "fractional_float": "function act(ctx) ctx.thrust_x[ctx.n] = 0.5 end",
    "hole": "function act(ctx) ctx.thrust_y[1] = 3 ctx.thrust_y[(ctx.n + 1) // 2] = nil end",
    "too_large": "function act(ctx) ctx.energy_gain[1] = 4294967297 end",
    "spoofed_tostring": """
function act(ctx)
  local tx = ctx.thrust_x
  setmetatable(tx, {__tostring = function() return "table: 0x10" end, __name = "x"})
  for i = 1, ctx.n do tx[i] = ctx.ids[i] * 3 end
end
""",
    "grown": """
function act(ctx)
  local tx, n = ctx.thrust_x, ctx.n
  for i = 1, n do tx[i] = i end
  for j = n + 1, 3 * n + 40 do tx[j] = -j end
  tx.extra = 1
end
""",
    "emptied_and_refilled": """
function act(ctx)
  local ty, n = ctx.thrust_y, ctx.n
  for i = 1, n do ty[i] = nil end
  for k = 1, 64 do ty["k" .. k] = k end
  for i = n, 1, -1 do ty[i] = i * 5 end
end
""",
    "kept_across_ticks": """
local kept, ticks = nil, 0
function act(ctx)
  ticks = ticks + 1
  local tx = ctx.thrust_x
  if kept then
    if rawequal(kept, tx) then error("an intent table came back") end
    for i = 1, ctx.n do if tx[i] ~= 0 then error("not zero") end end
    kept[1] = ticks
  end
  tx[1] = ticks
  kept = tx
  log("tick", ticks, #tx)
end
""",
    "asked_again": """
function act(ctx)
  local first = ctx.thrust_x
  first[1] = 11
  ctx.thrust_x = nil
  local second = ctx.thrust_x
  second[1] = second[1] + 5
  local e = ctx.energy
  ctx.energy = nil
  if ctx.energy == e or ctx.energy[1] ~= e[1] then error("inputs differ") end
end
""",
    "inputs_written": """
function act(ctx)
  local f = ctx.food_dx
  f[1] = 1.5
  f[ctx.n + 1] = 3
  ctx.energy_gain[1] = #f
end
""",
}


def context(arrays: dict[str, np.ndarray], tick: int) -> TraitContext:
    n = next(iter(arrays.values())).size
    sources = {k: (lambda v=v: v) for k, v in arrays.items()}
    return TraitContext(np.arange(n, dtype=np.int64), sources, 20, Stream.for_tick(5, "trait:arrays", tick))


def one_tick(trait: LuaTrait, arrays: dict[str, np.ndarray], tick: int) -> tuple:
    ctx = context(arrays, tick)
    before = len(trait.faults)
    trait.act(ctx)
    faults = [(f.code, f.message) for f in trait.faults[before:]]
    return ctx.thrust_x.tolist(), ctx.thrust_y.tolist(), ctx.energy_gain.tolist(), faults


def test_this_lua_has_the_layout_the_module_reads() -> None:
    # The pinned lupa: if this fails, traits still work (packed), only slower.
    assert lua_arrays.available()


@pytest.mark.parametrize(
    "text", [b"", b"table: 0x", b"table: 0xzz", b"userdata: 0x10", b"table: 0x0", "table: 0x1"]
)
def test_addresses_that_are_not_a_table_are_refused_before_any_memory_is_touched(text: object) -> None:
    assert lua_arrays.fill(text, None, 4) is False
    assert lua_arrays.read(text, 4) is None


@pytest.mark.parametrize("n", [0, -1, 1 << 40])
def test_sizes_out_of_range_are_refused(n: int) -> None:
    trait = LuaTrait("s", "1", "function act(ctx) end")
    table = trait.script._lua.eval("{1, 2, 3}")  # a real table, held: nothing is read past n
    where = trait.script._lua.globals().tostring(table)
    assert lua_arrays.read(where, n) is None
    assert lua_arrays.fill(where, None, n) is False


def test_a_table_that_is_not_fresh_nils_is_never_written_and_floats_are_not_read() -> None:
    trait = LuaTrait("s", "1", "function act(ctx) end")
    lua = trait.script._lua
    ints = lua.eval("{5, 6, 7}")
    floats = lua.eval("{5, 6.5, 7}")
    short = lua.eval("{nil, nil}")
    where = lua.globals().tostring
    assert lua_arrays.fill(where(ints), None, 3) is False
    assert list(ints.values()) == [5, 6, 7]
    assert lua_arrays.read(where(ints), 3).tolist() == [5, 6, 7]  # type: ignore[union-attr]
    assert lua_arrays.read(where(floats), 3) is None
    assert lua_arrays.fill(where(short), np.array([1, 2, 3]), 3) is False  # alimit 2 < 3


ARRAY_VALUES = st.sampled_from([INT64_MIN, INT64_MAX, -1, 0, 1, 65536, -(1 << 32), 1 << 40])


@settings(max_examples=30, deadline=None)
@given(
    behaviour=st.sampled_from(sorted(BEHAVIOURS)),
    sizes=st.lists(st.integers(1, 300), min_size=1, max_size=4),
    seed=st.integers(0, 2**32 - 1),
    extremes=st.lists(
        st.tuples(st.sampled_from(READABLE_FIELDS), st.integers(0, 299), ARRAY_VALUES), max_size=6
    ),
)
def test_in_place_and_packed_crossings_agree_tick_after_tick(
    behaviour: str, sizes: list[int], seed: int, extremes: list[tuple[str, int, int]]
) -> None:
    direct = LuaTrait(behaviour, "1", BEHAVIOURS[behaviour], direct=True)
    packed = LuaTrait(behaviour, "1", BEHAVIOURS[behaviour], direct=False)
    assert direct.direct and not packed.direct
    rng = np.random.default_rng(seed)
    try:
        for tick, n in enumerate(sizes, 1):
            arrays = {f: rng.integers(-(1 << 24), 1 << 24, n, dtype=np.int64) for f in READABLE_FIELDS}
            for field, at, value in extremes:
                arrays[field][at % n] = value
            assert one_tick(direct, arrays, tick) == one_tick(packed, arrays, tick)
            assert direct.log == packed.log
            assert direct.disabled == packed.disabled
    finally:
        direct.close()
        packed.close()


def test_the_seek_food_trait_crosses_in_place_and_matches_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    from ouroboros.worlds.petri.traits import SeekFood

    crossed: list[str] = []
    fill, read = lua_arrays.fill, lua_arrays.read
    monkeypatch.setattr(lua_arrays, "fill", lambda *a: crossed.append("in") or fill(*a))
    monkeypatch.setattr(lua_arrays, "read", lambda *a: crossed.append("out") or read(*a))
    rng = np.random.default_rng(3)
    n = 5000
    arrays = {f: rng.integers(-(1 << 24), 1 << 24, n, dtype=np.int64) for f in READABLE_FIELDS}
    arrays["food_count"] = rng.integers(0, 4, n, dtype=np.int64)
    arrays["thrust"] = rng.integers(1 << 13, 1 << 15, n, dtype=np.int64)
    trait = LuaTrait("seek", "1", SEEK_FOOD_LUA)
    assert trait.direct
    scripted, builtin = context(arrays, 1), context(arrays, 1)
    trait.act(scripted)
    SeekFood().act(builtin)
    assert trait.faults == []
    assert np.array_equal(scripted.thrust_x, builtin.thrust_x)
    assert np.array_equal(scripted.thrust_y, builtin.thrust_y)
    assert scripted.thrust_x.any()
    assert sorted(crossed) == ["in"] * 6 + ["out"] * 2  # four arrays read, two intents, in place


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("while true do tx[1] = tx[1] + f[1] end", "instructions"),
        ("local keep = {} for i = 1, 1e9 do keep[i] = {f[1], tx[1]} end", "memory"),
    ],
)
def test_the_budgets_stop_a_script_that_got_its_arrays_in_place(body: str, code: str) -> None:
    source = f"function act(ctx) local f, tx = ctx.food_dx, ctx.thrust_x {body} end"
    trait = LuaTrait("hog", "1", source, LuaLimits(max_memory_bytes=8 << 20))
    assert trait.direct
    rng = np.random.default_rng(4)
    arrays = {f: rng.integers(0, 1 << 20, 2000, dtype=np.int64) for f in READABLE_FIELDS}
    started = time.perf_counter()
    thrust_x, _, _, faults = one_tick(trait, arrays, 1)
    assert [c for c, _ in faults] == [FaultCode(code)]
    assert not any(thrust_x)  # a faulted tick adds no intents
    assert time.perf_counter() - started < 10
