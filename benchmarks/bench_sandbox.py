"""Lua traits per tick over 10,000 molbots, budgets on, against the built-in numpy system.

Rows (median of ``--repeats`` runs of ``--ticks`` ticks each, milliseconds per tick):

- ``numpy SeekFood``: the built-in trait, the reference.
- ``Lua SeekFood (LuaTrait)``: the same behaviour as a sandboxed script, one call per tick with
  every budget on (count hook, memory limit, wall clock), data in and out included: the arrays
  it reads cross in place (``lua_arrays``: the host makes a table of nils with a compiled
  constructor and numpy writes its array part), the intents are read back the same way. Beside
  its wall-clock median, its CPU time per tick (process time, a median): on a loaded machine
  the one that holds.
- ``Lua SeekFood, packed crossing``: the same trait with ``direct=False``, the way every array
  crossed before (one ``string.unpack`` per array in, one ``string.pack`` per intent out), timed
  tick by tick interleaved with the row above, so both see the same load; their CPU ratio.
- Transfer alternatives measured side by side, per tick for the four arrays SeekFood reads:
  ``string.unpack`` of packed bytes against lupa's ``table_from`` on Python lists and against
  the in-place fill, and the way back for two intents.

- The concatenation guard (every ``..`` through a priced metamethod, so no string outgrows
  ``max_script_string_bytes``) side by side with the same runtime whose source rewrite is off
  (``..`` native, every other cap still on), in one run: the SeekFood trait (no ``..``), and an
  npc-style handler that builds its lines with ``..`` (milliseconds per call), with their ratios.

Both traits produce identical intents (checked here on every run). Goal: the Lua trait under
3 ms per tick at 10,000 molbots. Writes benchmarks/results/sandbox.json.

    python benchmarks/bench_sandbox.py [--molbots 10000] [--ticks 50] [--repeats 5] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

GOAL_MS = 3.0
READS = ("thrust", "food_count", "food_dx", "food_dy")
GUARDED = "Lua SeekFood (LuaTrait, budgets on)"
GUARDED_CPU = "Lua SeekFood (LuaTrait, budgets on), CPU time"
PACKED = "Lua SeekFood, packed crossing (string.unpack/pack)"
PACKED_CPU = "Lua SeekFood, packed crossing, CPU time"
UNGUARDED = "Lua SeekFood, concatenation guard off"
HANDLER_GUARDED = "npc handler, 40 x .. per call (guarded)"
HANDLER_UNGUARDED = "npc handler, 40 x .. per call (guard off)"
FRESH_GUARDED = "npc handler in a fresh state, as neon runs it (guarded)"
FRESH_UNGUARDED = "npc handler in a fresh state, as neon runs it (guard off)"
NPC_HANDLER_LUA = """
function on_event(e)
  local line = ""
  for i = 1, 20 do line = e.npc .. " says " .. i end
  for i = 1, 20 do line = line .. "." end
  intent.say(0, "Hello, " .. e.players[1] .. ", " .. line)
  log("greeted " .. #e.players .. " in " .. e.room)
end
"""
NPC_EVENT = {"npc": "Skewer Sam", "players": ["Alice", "Bob"], "room": "Noodle Row", "event": "talked_to"}


@contextlib.contextmanager
def concatenation_guard_off() -> Iterator[None]:
    """Scripts made meanwhile compile without the source rewrite: ``..`` is native."""
    from ouroboros.sandbox import lua_runtime

    saved = lua_runtime.HOST_LUA
    off = {  # no rewrite, no second compile, no check of the rewrite
        "load(WRAP_HEAD .. rewrite(source)": "load(WRAP_HEAD .. (source)",
        'local plain, perr = load(source, name, "t", env)': "local plain, perr = true, nil",
        "concat_operators(chunk) ~= 2 * concat_operators(plain)": "false",
    }
    patched = saved
    for guarded, unguarded in off.items():
        if guarded not in patched:
            raise SystemExit("the host prelude changed: update concatenation_guard_off")
        patched = patched.replace(guarded, unguarded)
    lua_runtime.HOST_LUA = patched
    try:
        yield
    finally:
        lua_runtime.HOST_LUA = saved


def handler_ms(calls: int, fresh: bool = False) -> float:
    """Milliseconds per call of the npc handler; ``fresh``: a new Lua state for every call, made
    and closed inside the timing, as neon's scripting does."""
    from ouroboros.sandbox import LuaScript

    script = LuaScript("npc", "bench", NPC_HANDLER_LUA)
    samples = []
    for _ in range(calls):
        t0 = time.perf_counter_ns()
        if fresh:
            script.close()
            script = LuaScript("npc", "bench", NPC_HANDLER_LUA)
        _, fault = script.call("on_event", NPC_EVENT)
        samples.append(time.perf_counter_ns() - t0)
        if fault is not None:
            raise SystemExit(f"the npc handler faulted: {fault}")
    return statistics.median(samples) / 1e6


def make_context_factory(n: int, seed: int = 1) -> Callable[[], Any]:
    """Fresh ``TraitContext``s over ``n`` molbots with realistic senses (a context caches what a
    trait reads, so every tick gets a new one, as in the world)."""
    from ouroboros.engine import Stream
    from ouroboros.worlds.petri import ONE, TraitContext

    rng = np.random.default_rng(seed)
    arrays = {
        "ids": np.arange(n, dtype=np.int64),
        "x": rng.integers(0, 2000 * ONE, n),
        "y": rng.integers(0, 2000 * ONE, n),
        "vx": rng.integers(-ONE, ONE, n),
        "vy": rng.integers(-ONE, ONE, n),
        "energy": rng.integers(0, 100 * ONE, n),
        "max_energy": np.full(n, 100 * ONE, dtype=np.int64),
        "thrust": rng.integers(ONE // 8, ONE // 2, n),
        "food_count": rng.integers(0, 4, n),
        "food_dx": rng.integers(-64 * ONE, 64 * ONE, n),
        "food_dy": rng.integers(-64 * ONE, 64 * ONE, n),
        "crowd_count": rng.integers(0, 4, n),
        "crowd_dx": rng.integers(-64 * ONE, 64 * ONE, n),
        "crowd_dy": rng.integers(-64 * ONE, 64 * ONE, n),
    }
    arrays = {k: v.astype(np.int64) for k, v in arrays.items()}
    sources = {k: (lambda v=v: v) for k, v in arrays.items()}
    rows = np.arange(n, dtype=np.int64)
    tick = [0]

    def new() -> Any:
        tick[0] += 1
        return TraitContext(rows, sources, 20, Stream.for_tick(seed, "trait:bench", tick[0]))

    return new


def per_tick_ms(trait: Any, new_ctx: Callable[[], Any], ticks: int) -> tuple[float, Any]:
    times = []
    ctx = None
    for _ in range(ticks):
        ctx = new_ctx()
        t0 = time.perf_counter_ns()
        trait.act(ctx)
        times.append(time.perf_counter_ns() - t0)
    return statistics.median(times) / 1e6, ctx


def interleaved(
    traits: dict[str, Any], new_ctx: Callable[[], Any], ticks: int
) -> dict[str, tuple[float, float]]:
    """(wall, CPU) medians in ms per tick of several traits, taking turns tick by tick."""
    wall: dict[str, list[int]] = {name: [] for name in traits}
    cpu: dict[str, list[int]] = {name: [] for name in traits}
    for _ in range(ticks):
        for name, trait in traits.items():
            ctx = new_ctx()
            c0, t0 = time.process_time_ns(), time.perf_counter_ns()
            trait.act(ctx)
            wall[name].append(time.perf_counter_ns() - t0)
            cpu[name].append(time.process_time_ns() - c0)
    return {
        name: (statistics.median(wall[name]) / 1e6, statistics.median(cpu[name]) / 1e6) for name in traits
    }


def transfer_rows(n: int, ticks: int) -> dict[str, float]:
    """Data in and out of Lua for SeekFood's arrays, three ways."""
    import lupa.lua54 as lupa

    from ouroboros.sandbox import lua_arrays

    lua = lupa.LuaRuntime(encoding=None, register_eval=False, register_builtins=False, max_memory=256 << 20)
    unpack = lua.eval(
        "function(buf, n) local t = {string.unpack('<' .. string.rep('j', n), buf)}"
        " t[n + 1] = nil return t end"
    )
    pack = lua.eval("function(t, n) return string.pack('<' .. string.rep('j', n), table.unpack(t, 1, n)) end")
    nils = lua.eval(f"function() local t = {{{'nil,' * n}}} return t, tostring(t) end")

    def in_place(a: np.ndarray) -> object:
        table, where = nils()
        if not lua_arrays.fill(where, a, n):
            raise SystemExit("lua_arrays is not available here")
        return table

    rng = np.random.default_rng(2)
    arrays = [rng.integers(-(1 << 30), 1 << 30, n) for _ in READS]

    def timed(fn: Callable[[], object]) -> float:
        samples = []
        for _ in range(ticks):
            t0 = time.perf_counter_ns()
            fn()
            samples.append(time.perf_counter_ns() - t0)
        return statistics.median(samples) / 1e6

    tables = [unpack(a.tobytes(), n) for a in arrays]
    where = [lua.globals().tostring(t) for t in tables]
    return {
        "in: table of nils filled in place (used)": timed(lambda: [in_place(a) for a in arrays]),
        "in: numpy tobytes + string.unpack (packed)": timed(lambda: [unpack(a.tobytes(), n) for a in arrays]),
        "in: tolist + lupa table_from": timed(lambda: [lua.table_from(a.tolist()) for a in arrays]),
        "out: read in place, 2 arrays (used)": timed(lambda: [lua_arrays.read(w, n) for w in where[:2]]),
        "out: string.pack + frombuffer, 2 arrays (packed)": timed(
            lambda: [np.frombuffer(pack(t, n), dtype="<i8") for t in tables[:2]]
        ),
        "out: lupa table.values() to numpy, 2 arrays": timed(
            lambda: [np.fromiter(t.values(), dtype=np.int64, count=n) for t in tables[:2]]
        ),
    }


def measure(n: int, ticks: int) -> dict[str, float]:
    from ouroboros.sandbox import SEEK_FOOD_LUA, LuaTrait
    from ouroboros.worlds.petri.traits import SeekFood

    new_ctx = make_context_factory(n)
    lua_trait = LuaTrait("seek", "bench", SEEK_FOOD_LUA)
    packed_trait = LuaTrait("seek", "bench", SEEK_FOOD_LUA, direct=False)
    if not lua_trait.direct:
        raise SystemExit("lua_arrays is not available here: LuaTrait crosses packed")
    numpy_ms, _ = per_tick_ms(SeekFood(), new_ctx, ticks)
    turns = interleaved({GUARDED: lua_trait, PACKED: packed_trait}, new_ctx, ticks)
    (lua_ms, lua_cpu_ms), (packed_ms, packed_cpu_ms) = turns[GUARDED], turns[PACKED]
    for trait in (lua_trait, packed_trait):
        if trait.faults:
            raise SystemExit(f"the Lua trait faulted: {trait.faults[0]}")
    check_a, check_b, check_c = new_ctx(), new_ctx(), new_ctx()
    SeekFood().act(check_a)
    lua_trait.act(check_b)
    packed_trait.act(check_c)
    for check in (check_b, check_c):
        if not (
            np.array_equal(check_a.thrust_x, check.thrust_x)
            and np.array_equal(check_a.thrust_y, check.thrust_y)
        ):
            raise SystemExit("the Lua trait and the numpy trait disagree")
    with concatenation_guard_off():
        unguarded = LuaTrait("seek", "bench", SEEK_FOOD_LUA)
    unguarded_ms, _ = per_tick_ms(unguarded, new_ctx, ticks)
    rows = {"numpy SeekFood (built-in)": numpy_ms, GUARDED: lua_ms, GUARDED_CPU: lua_cpu_ms}
    rows[PACKED], rows[PACKED_CPU] = packed_ms, packed_cpu_ms
    rows[UNGUARDED] = unguarded_ms
    rows[HANDLER_GUARDED] = handler_ms(ticks * 4)
    rows[FRESH_GUARDED] = handler_ms(ticks, fresh=True)
    with concatenation_guard_off():
        rows[HANDLER_UNGUARDED] = handler_ms(ticks * 4)
        rows[FRESH_UNGUARDED] = handler_ms(ticks, fresh=True)
    rows.update(transfer_rows(n, ticks))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--molbots", type=int, default=10_000)
    parser.add_argument("--ticks", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None, help="JSON path (default results/sandbox.json)")
    parser.add_argument("--quick", action="store_true", help="2,000 molbots, 10 ticks, 2 repeats")
    args = parser.parse_args()
    # --quick never writes over the published figures
    results = Path(__file__).parent / "results" / ("quick" if args.quick else "")
    args.out = args.out or results / "sandbox.json"
    if args.quick:
        args.molbots, args.ticks, args.repeats = 2_000, 10, 2

    runs = [measure(args.molbots, args.ticks) for _ in range(args.repeats)]
    rows = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
    lua_ms = rows[GUARDED]
    numpy_ms = rows["numpy SeekFood (built-in)"]

    print(f"Lua sandbox, {args.molbots:,} molbots, median of {args.repeats} x {args.ticks} ticks")
    print(f"{'row':<60} {'ms':>9}")
    for name, ms in rows.items():
        print(f"{name:<60} {ms:>9.3f}")
    verdict = "meets" if lua_ms < GOAL_MS else "MISSES"
    print(f"Lua / numpy: {lua_ms / numpy_ms:.1f}x; {verdict} the goal of {GOAL_MS} ms per tick")
    in_place_ratio = rows[GUARDED_CPU] / rows[PACKED_CPU]
    print(f"in place / packed crossing, CPU time: {in_place_ratio:.2f}x")
    trait_ratio = lua_ms / rows[UNGUARDED]
    handler_ratio = rows[HANDLER_GUARDED] / rows[HANDLER_UNGUARDED]
    fresh_ratio = rows[FRESH_GUARDED] / rows[FRESH_UNGUARDED]
    print(
        f"concatenation guard, on / off: SeekFood {trait_ratio:.2f}x, npc handler {handler_ratio:.2f}x,"
        f" npc handler in a fresh state {fresh_ratio:.2f}x"
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else -1.0
    print(f"load average (1 min) at the end: {load:.2f}")

    result = {
        "benchmark": "sandbox_lua",
        "molbots": args.molbots,
        "ticks": args.ticks,
        "repeats": args.repeats,
        "ms_per_tick": {k: round(v, 4) for k, v in rows.items()},
        "lua_over_numpy": round(lua_ms / numpy_ms, 2),
        "in_place_over_packed_cpu": round(in_place_ratio, 3),
        "concatenation_guard_on_over_off": {
            "seek_food_trait": round(trait_ratio, 3),
            "npc_handler": round(handler_ratio, 3),
            "npc_handler_fresh_state": round(fresh_ratio, 3),
        },
        "load_average_1min": round(load, 2),
        "quick": args.quick,
        "goal_ms": GOAL_MS,
        "meets_goal": lua_ms < GOAL_MS,
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
