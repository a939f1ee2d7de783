"""p50 ms per tick of each variant of petri's contact systems (eat, collide) at several population
sizes: the measurements behind the optimizer's size hints (``kernels.SIZE_HINTS``). Writes
benchmarks/results/petri_variants.json.

    python benchmarks/bench_petri_variants.py [--sizes 100,300,1000,10000] [--python-max 10000] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_selfopt import params_for  # noqa: E402
from ouroboros.engine import World  # noqa: E402
from ouroboros.worlds.petri import PetriPlugin  # noqa: E402
from ouroboros.worlds.petri import kernels as K  # noqa: E402


def measure(n: int, variant: str, ticks: int) -> dict[str, float]:
    world = World(1, plugins=[PetriPlugin(entities=n, params=params_for(n), kernels="numpy")])
    for system in world.variants():
        spec = world.schedule.variants(system)[variant]
        if spec.prepare is not None:
            spec.prepare()
        world.set_variant(system, variant)
    world.run(3)
    world.profiler.reset()
    world.run(ticks)
    stats = world.profiler.stats()
    return {s: stats[s]["p50_ms"] for s in world.variants()} | {"tick": stats["<tick>"]["p50_ms"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,300,1000,3000,10000,100000")
    parser.add_argument("--python-max", type=int, default=10_000)
    parser.add_argument("--ticks", type=int, default=0, help="ticks per measurement (default: by size)")
    parser.add_argument("--out", type=Path, default=None, help="JSON path")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, seconds: make test runs it")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.ticks = "100", 3
    results = REPO / "benchmarks" / "results" / ("quick" if args.quick else "")
    out = args.out or results / "petri_variants.json"
    names = [k.name for k in K.variant_kernels()]
    rows = []
    print(f"{'molbots':>9} {'system':<8} " + " ".join(f"{n:>9}" for n in names) + "   fastest")
    for n in (int(s) for s in args.sizes.split(",")):
        ticks = args.ticks or max(5, min(60, 300_000 // n))
        per_variant = {v: measure(n, v, ticks) for v in names if not (v == "python" and n > args.python_max)}
        for system in ("eat", "collide"):
            cells = {v: per_variant[v][system] if v in per_variant else None for v in names}
            fastest = min((v for v in cells if cells[v] is not None), key=lambda v: cells[v])  # type: ignore[arg-type, return-value]
            print(
                f"{n:>9,} {system:<8} "
                + " ".join(f"{c:9.3f}" if c is not None else f"{'—':>9}" for c in cells.values())
                + f"   {fastest}"
            )
            rows.append(
                {"size": n, "system": system, **{f"{v}_ms": c for v, c in cells.items()}, "fastest": fastest}
            )
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
