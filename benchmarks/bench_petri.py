"""Petri ticks per second at 1k, 10k, 100k and 1M molbots on one core, and memory per molbot.

Each size runs the whole tick as `ouroboros run` does (all systems, structural commands and the
per-tick digest). The dish keeps the default density: 10,000 molbots per 2000×2000 units, so the
side grows with the square root of the population; births are capped at the size and food is
plentiful so the population stays near it. Every size is measured in its own process, `--repeats`
times; the table quotes medians. Writes benchmarks/results/petri.json.

    python benchmarks/bench_petri.py [--sizes 1000,10000,100000,1000000] [--ticks N] [--repeats R] [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

GOALS_TPS = {10_000: 240.0, 100_000: 30.0}


def config_for(n: int) -> dict[str, object]:
    side = max(200, int(2000 * math.sqrt(n / 10_000)))
    return {
        "entities": n,
        "params": {
            "max_entities": n,
            "min_population": min(n, 20),
            "width": side,
            "height": side,
            "max_food": max(100, n // 2),
            "resource_spawn_rate_fp": max(1, (12 << 16) * n // 3000),
        },
    }


def measure(n: int, ticks: int, kernels: str) -> dict[str, float]:
    """Run in this process: warm up, then time ``ticks`` ticks."""
    import numpy as np

    from ouroboros.engine import World
    from ouroboros.worlds.petri import PetriPlugin
    from ouroboros.worlds.petri.systems import molbots

    cfg = config_for(n)
    world = World(1, plugins=[PetriPlugin(entities=n, params=cfg["params"], kernels=kernels)])  # type: ignore[arg-type]
    world.run(3)
    world.profiler.reset()
    per_tick = []
    start = time.perf_counter()
    cpu_start = time.process_time()
    for _ in range(ticks):
        t0 = time.perf_counter_ns()
        world.step()
        per_tick.append(time.perf_counter_ns() - t0)
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    mb = molbots(world)
    count = mb.count if mb is not None else 0
    arch = mb._arch if mb is not None else None
    state_bytes = sum(col.itemsize for col in (arch.columns.values() if arch else [])) + 8
    return {
        "molbots": float(count),
        "ticks_per_s": ticks / wall,
        "cpu_ms_per_tick": 1000 * cpu / ticks,
        "tick_ms_p50": float(np.percentile(per_tick, 50)) / 1e6,
        "tick_ms_p95": float(np.percentile(per_tick, 95)) / 1e6,
        "state_bytes_per_molbot": float(state_bytes),
        "peak_rss_mb": _peak_rss_mb(),
    }


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000,1000000")
    ap.add_argument("--ticks", type=int, default=0, help="ticks per run (default: by size)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--kernels", default="auto", help="auto, numpy or numba")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--out", default=None, help="JSON path")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, seconds: make test runs it")
    args = ap.parse_args()
    if args.quick:
        args.sizes, args.ticks, args.repeats = "200", 5, 1
    results = Path(__file__).parent / "results" / ("quick" if args.quick else "")
    args.out = args.out or str(results / "petri.json")
    if args.one:
        print(json.dumps(measure(args.one, args.ticks, args.kernels)))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for n in sizes:
        ticks = args.ticks or max(5, min(400, 2_000_000 // n))
        runs = []
        for _ in range(args.repeats):
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(n), "--ticks", str(ticks), "--kernels", args.kernels],
                check=True,
                capture_output=True,
                text=True,
                env={**os.environ, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"},
            )
            runs.append(json.loads(out.stdout))
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        med.update({"size": n, "ticks": ticks, "repeats": args.repeats, "goal_ticks_per_s": GOALS_TPS.get(n)})
        rows.append(med)
        print(f"  measured {n:>9,} molbots", file=sys.stderr)
    header = (
        f"{'molbots':>10} {'ticks/s':>9} {'p50 ms':>9} {'p95 ms':>9} {'CPU ms':>8} {'B/molbot':>9} "
        f"{'peak RSS MB':>12} {'goal':>9}"
    )
    print(header)
    for r in rows:
        goal = f"{r['goal_ticks_per_s']:.0f}/s" if r["goal_ticks_per_s"] else "-"
        print(
            f"{r['size']:>10,} {r['ticks_per_s']:>9.1f} {r['tick_ms_p50']:>9.2f} {r['tick_ms_p95']:>9.2f} "
            f"{r['cpu_ms_per_tick']:>8.2f} {r['state_bytes_per_molbot']:>9.0f} {r['peak_rss_mb']:>12.0f} "
            f"{goal:>9}"
        )
    machine = (
        f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(f"machine: {machine}; kernels={args.kernels}; medians of {args.repeats} runs, one process each")
    # CPU ms is the process's CPU time per tick: on a loaded machine it holds where wall time does not.
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else -1.0
    print(f"load average (1 min) at the end: {load:.2f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(
        json.dumps(
            {"machine": machine, "kernels": args.kernels, "load_avg_1min": load, "rows": rows}, indent=2
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
