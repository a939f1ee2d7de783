"""A Python trait over 10,000 molbots in the isolated worker: time per tick, round trip included.

Each case runs ``--ticks`` ticks, ``--repeats`` times, and quotes the median (and p95) of the
per-tick times over all runs. "seek food, worker" is ``PythonTrait.act`` as petri calls it:
gather 14 state columns, pack, send, one ``execute(entity)`` coroutine per molbot in the worker,
send back three intent columns, validate and clip. "no-op, worker" is the same round trip with a
trait that does nothing (transport and per-molbot call overhead); "seek food, numpy" is the
built-in vector trait in the host, for scale. "gate, …" rows are the host's cost of
``check_python_trait`` on 64 KiB sources: a plausible trait (many small helpers), the issue-14
bomb of nested lambdas (once 74 s, now refused from its tokens) and a 1,200-branch elif chain
(refused), each the median of ``--repeats`` checks. Writes
benchmarks/results/sandbox_python.json.

    python benchmarks/bench_sandbox_python.py [--sizes 1000,10000] [--ticks N] [--repeats R] [--quick]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ouroboros.engine import Stream
from ouroboros.sandbox import PythonTrait, PythonTraitLimits, PythonTraitWorker
from ouroboros.sandbox.python_gate import MAX_SOURCE_BYTES, check_python_trait
from ouroboros.worlds.petri.traits import SeekFood, TraitContext

SEEK_SOURCE = """
class SeekFood(Trait):
    async def execute(self, entity):
        if entity.food_count > 0:
            norm = abs(entity.food_dx) + abs(entity.food_dy) + 1
            entity.thrust_x = entity.food_dx * entity.thrust // norm
            entity.thrust_y = entity.food_dy * entity.thrust // norm
"""
NOOP_SOURCE = """
class Nothing(Trait):
    async def execute(self, entity):
        return None
"""
ONE = 1 << 16


def make_context(n: int, tick: int) -> TraitContext:
    """A context over ``n`` molbots with plausible Q16 state (a fixed seed: every run sees the
    same data)."""
    rng = np.random.default_rng(n)
    cols = {
        "ids": np.arange(n, dtype=np.int64),
        "x": rng.integers(0, 2000 * ONE, n),
        "y": rng.integers(0, 2000 * ONE, n),
        "vx": rng.integers(-2 * ONE, 2 * ONE, n),
        "vy": rng.integers(-2 * ONE, 2 * ONE, n),
        "energy": rng.integers(0, 100 * ONE, n),
        "max_energy": np.full(n, 100 * ONE),
        "thrust": rng.integers(ONE // 4, ONE, n),
        "food_count": rng.integers(0, 4, n),
        "food_dx": rng.integers(-60 * ONE, 60 * ONE, n),
        "food_dy": rng.integers(-60 * ONE, 60 * ONE, n),
        "crowd_count": rng.integers(0, 6, n),
        "crowd_dx": rng.integers(-60 * ONE, 60 * ONE, n),
        "crowd_dy": rng.integers(-60 * ONE, 60 * ONE, n),
    }
    sources = {k: functools.partial(np.asarray, v, dtype=np.int64) for k, v in cols.items()}
    return TraitContext(np.arange(n), sources, 25, Stream.for_tick(1, "trait:bench", tick))


def time_ticks(act: Callable[[TraitContext], None], n: int, ticks: int) -> list[float]:
    """Milliseconds per tick for ``ticks`` ticks (a fresh context each tick, as petri makes)."""
    contexts = [make_context(n, t) for t in range(ticks)]
    for ctx in contexts:  # gathering the columns is the engine's cost, not the trait's
        for name in ("ids", "x", "y", "vx", "vy", "energy", "max_energy", "thrust"):
            getattr(ctx, name)
    act(make_context(n, -1))  # warm up
    out = []
    for ctx in contexts:
        t0 = time.perf_counter_ns()
        act(ctx)
        out.append((time.perf_counter_ns() - t0) / 1e6)
    return out


def gate_sources() -> dict[str, str]:
    """64 KiB sources for the gate: a plausible trait, and two that nest too deep."""
    trait = (
        "class T(Trait):\n    async def execute(self, entity):\n        entity.thrust_x = f0(entity.x, 1)\n"
    )
    helper = (
        "def f{i}(a, b):\n    c = a * {i} + b // (a + 1) - abs(a - b)\n    return c if c > 0 else -c\n\n\n"
    )
    helpers, i = [], 0
    while sum(map(len, helpers)) + len(helper) + len(trait) + 8 < MAX_SOURCE_BYTES:
        helpers.append(helper.format(i=i))
        i += 1
    elifs = "".join(f"    elif e.x == {i}:\n        pass\n" for i in range(1, 1200))
    return {
        "gate, 64 KiB plausible trait": "".join(helpers) + trait,
        "gate, 64 KiB nested lambdas": "X = " + "lambda: " * ((MAX_SOURCE_BYTES - 200) // 8) + "0\n" + trait,
        "gate, 1,200-branch elif": "def g(e):\n    if e.x == 0:\n        pass\n" + elifs + trait,
    }


def time_gate(repeats: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for case, source in gate_sources().items():
        assert len(source.encode()) <= MAX_SOURCE_BYTES, case
        times, faults = [], []
        for _ in range(repeats):
            t0 = time.perf_counter_ns()
            faults = check_python_trait(source)
            times.append((time.perf_counter_ns() - t0) / 1e6)
        refused = faults[0].code.value if faults else "passed"
        rows.append(
            {"case": case, "bytes": len(source.encode()), "ms_p50": statistics.median(times),
             "ms_max": max(times), "verdict": refused}
        )  # fmt: skip
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--ticks", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="1,000 molbots, 10 ticks, 2 runs")
    ap.add_argument("--out", default=None, help="JSON path (default results/sandbox_python.json)")
    args = ap.parse_args()
    # --quick never writes over the published figures
    results = Path(__file__).parent / "results" / ("quick" if args.quick else "")
    args.out = args.out or str(results / "sandbox_python.json")
    if args.quick:
        args.sizes, args.ticks, args.repeats = "1000", 10, 2
    limits = PythonTraitLimits(batch_deadline_ms=5000)
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        cases: dict[str, list[float]] = {
            "seek food, numpy (host)": [],
            "seek food, worker": [],
            "no-op, worker": [],
        }
        protections: tuple[str, ...] = ()
        for _ in range(args.repeats):
            cases["seek food, numpy (host)"] += time_ticks(SeekFood().act, n, args.ticks)
            with PythonTraitWorker(limits) as worker:
                seek = PythonTrait("seek", "1", SEEK_SOURCE, worker=worker)
                noop = PythonTrait("noop", "1", NOOP_SOURCE, worker=worker)
                cases["seek food, worker"] += time_ticks(seek.act, n, args.ticks)
                cases["no-op, worker"] += time_ticks(noop.act, n, args.ticks)
                assert not seek.faults and not noop.faults, (seek.faults, noop.faults)
                protections = worker.protections
        for case, times in cases.items():
            rows.append(
                {
                    "case": case,
                    "molbots": n,
                    "ms_per_tick_p50": statistics.median(times),
                    "ms_per_tick_p95": float(np.percentile(times, 95)),
                    "us_per_molbot_p50": statistics.median(times) * 1000 / n,
                    "ticks": len(times),
                }
            )
    print(f"{'case':<26} {'molbots':>8} {'p50 ms/tick':>12} {'p95 ms/tick':>12} {'µs/molbot':>10}")
    for r in rows:
        print(
            f"{r['case']:<26} {r['molbots']:>8,} {r['ms_per_tick_p50']:>12.2f} "
            f"{r['ms_per_tick_p95']:>12.2f} {r['us_per_molbot_p50']:>10.2f}"
        )
    gate_rows = time_gate(args.repeats)
    print(f"\n{'gate case':<32} {'bytes':>7} {'p50 ms':>9} {'max ms':>9}  verdict")
    for g in gate_rows:
        print(f"{g['case']:<32} {g['bytes']:>7,} {g['ms_p50']:>9.1f} {g['ms_max']:>9.1f}  {g['verdict']}")
    cpu = f"{platform.machine()} {platform.processor() or ''}"
    machine = f"{cpu} {os.cpu_count()} cores, Python {platform.python_version()}"
    print(
        f"machine: {machine}, load average {os.getloadavg()[0]:.1f}; "
        f"worker protections: {', '.join(protections)}"
    )
    print(f"medians over {args.repeats} runs x {args.ticks} ticks (a fresh worker per run)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(
        json.dumps(
            {
                "machine": machine,
                "load_average_1m": round(os.getloadavg()[0], 2),
                "protections": list(protections),
                "rows": rows,
                "gate_rows": gate_rows,
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
