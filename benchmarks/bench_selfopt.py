"""The self-optimising engine against fixed variants, on a petri dish whose population grows from
100 to 1,000,000 molbots and falls back.

Each mode runs the same schedule of population phases in one world: a fixed variant for every
system that has it (``python``, ``numpy``, ``numba``), or the optimizer choosing as it goes
(``self``). At each phase the population is set (the dish's size, caps and food scale with it,
at the default density), the world settles for a few ticks (the optimizer may guard and switch
then), and then ticks are timed, the optimizer's between-tick work included. The table quotes
the median tick per phase, and for the self-optimising engine also its slowest tick in the phase
(a guard or a switch) against the best fixed median. Writes benchmarks/results/selfopt.json and
benchmarks/results/selfopt.png.

    python benchmarks/bench_selfopt.py [--sizes 100,1000,...] [--python-max 10000]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from ouroboros.engine import World  # noqa: E402
from ouroboros.engine.optimizer import Optimizer, OptimizerConfig  # noqa: E402
from ouroboros.worlds.petri import PetriPlugin  # noqa: E402
from ouroboros.worlds.petri.systems import food_chunk, molbots  # noqa: E402

SIZES = [100, 1_000, 10_000, 100_000, 1_000_000, 100_000, 10_000, 1_000, 100]
MODES = ["python", "numpy", "numba", "self"]


def params_for(n: int) -> dict[str, int]:
    side = max(200, int(2000 * math.sqrt(n / 10_000)))
    return {
        "max_entities": n,
        "min_population": n,
        "width": side,
        "height": side,
        "max_food": max(100, n // 2),
        "resource_spawn_rate_fp": max(1, (12 << 16) * n // 3000),
    }


def set_population(world: World, n: int) -> None:
    for name, value in params_for(n).items():
        world.submit("set_param", {"name": name, "value": value})
    world.step()  # params apply; reseed tops the dish up to n
    mb = molbots(world)
    if mb is not None and mb.count > n:
        world.despawn(np.asarray(mb.ids[n:]).copy())
    food = food_chunk(world)
    cap = params_for(n)["max_food"]
    if food is not None and food.count > cap:  # leftover food of a bigger dish goes too
        world.despawn(np.asarray(food.ids[cap:]).copy())


def ticks_for(n: int) -> tuple[int, int]:
    """(settle, measured) ticks at population ``n``."""
    measured = max(8, min(40, 400_000 // max(n, 1)))
    return 30, measured


def run_mode(mode: str, sizes: list[int], python_max: int) -> list[dict[str, float | None]]:
    world = World(1, plugins=[PetriPlugin(entities=sizes[0], params=params_for(sizes[0]), kernels="numpy")])
    optimizer = None
    if mode == "self":
        optimizer = Optimizer(world, OptimizerConfig())
        optimizer.prepare_all()
    else:
        for system, names in world.variants().items():
            if mode in names:
                variant = next(v for v in world.schedule.variants(system).values() if v.name == mode)
                if variant.prepare is not None:
                    variant.prepare()
                world.set_variant(system, mode)
    world.start()
    rows = []
    for n in sizes:
        if mode == "python" and n > python_max:
            rows.append({"size": n, "p50_ms": None, "max_ms": None})
            continue
        set_population(world, n)
        settle, measured = ticks_for(n)
        times = []
        for i in range(settle + measured):
            t0 = time.perf_counter()
            report = world.step()
            if optimizer is not None:
                optimizer.after_tick(report)
            if i >= settle:
                times.append((time.perf_counter() - t0) * 1e3)
        rows.append(
            {
                "size": n,
                "p50_ms": statistics.median(times),
                "max_ms": max(times),
                "variants": dict(world.active_variants()),
            }
        )
        print(
            f"  {mode:<7} {n:>9,}: {statistics.median(times):9.2f} ms  {world.active_variants()}",
            file=sys.stderr,
        )
    if optimizer is not None:
        rows.append({"decisions": [d for d in optimizer.history if d["kind"] != "guard"]})  # type: ignore[dict-item]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--python-max", type=int, default=10_000)
    parser.add_argument("--modes", default=",".join(MODES))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {mode: run_mode(mode, sizes, args.python_max) for mode in args.modes.split(",")}
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    fixed = [m for m in results if m != "self"]
    print(f"petri, population 100 → 1M → 100: median ms per tick per phase ({machine})")
    header = f"{'phase':>5} {'molbots':>10} " + " ".join(f"{m:>9}" for m in fixed)
    if "self" in results:
        header += f" {'self':>9} {'vs best':>8} {'self max':>9} {'max/best':>8}"
    print(header)
    table = []
    for i, n in enumerate(sizes):
        cells = {m: results[m][i]["p50_ms"] for m in fixed}
        best = min((v for v in cells.values() if v is not None), default=None)
        line = f"{i:>5} {n:>10,} " + " ".join(
            f"{v:9.2f}" if v is not None else f"{'—':>9}" for v in cells.values()
        )
        row = {"phase": i, "size": n, **{f"{m}_ms": v for m, v in cells.items()}, "best_fixed_ms": best}
        if "self" in results:
            s = results["self"][i]
            ratio = s["p50_ms"] / best if best else None
            spike = s["max_ms"] / best if best else None
            line += f" {s['p50_ms']:9.2f} {ratio:8.2f} {s['max_ms']:9.2f} {spike:8.2f}"
            row.update(
                {
                    "self_ms": s["p50_ms"],
                    "self_max_ms": s["max_ms"],
                    "self_vs_best": ratio,
                    "self_max_vs_best": spike,
                    "self_variants": s.get("variants"),
                }
            )
        print(line)
        table.append(row)
    out = REPO / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "selfopt.json").write_text(
        json.dumps({"machine": machine, "table": table, "raw": results}, indent=2, default=str) + "\n"
    )
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(9, 5))
        xs = list(range(len(sizes)))
        for m in results:
            ys = [
                r["p50_ms"] if r.get("p50_ms") is not None else float("nan") for r in results[m][: len(sizes)]
            ]
            ax.plot(xs, ys, marker="o", label=m, linewidth=2.5 if m == "self" else 1.2)
        ax.set_xticks(xs, [f"{n:,}" for n in sizes], rotation=30)
        ax.set_yscale("log")
        ax.set_xlabel("population phase (molbots)")
        ax.set_ylabel("median tick (ms, log)")
        ax.set_title("petri: fixed variants vs the self-optimising engine")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "selfopt.png", dpi=110)
    except ImportError:
        print("matplotlib not installed: no plot", file=sys.stderr)


if __name__ == "__main__":
    main()
