"""What tracing costs the tick loop: a petri dish ticked as ``go`` ticks it, with tracing off, and on.

Each configuration ticks the same dish (``--entities`` molbots, ``--ticks`` ticks a round, rounds
interleaved so that a busy machine slows every configuration alike) and reports the tick's CPU
time on the tick thread (median, p95) and its overhead against the baseline:

- ``baseline``: the world's ``step()`` and nothing else;
- ``tracing off``: every tracing helper a tick could meet (a span around it, a recorded span, a
  tag), each a flag check with tracing off;
- ``on, 1 tick in 1000``: tracing on with ``go``'s default sampling, spans kept in memory;
- ``on, every tick``: the worst case, a span for every tick.

Goal: ``tracing off`` within the noise of the baseline (the JSON's ``off_overhead_pct`` next to
``noise_pct``, the spread between two baseline runs).

    python benchmarks/bench_tracing.py [--entities 300] [--ticks 300] [--rounds 5] [--quick] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from ouroboros import tracing  # noqa: E402
from ouroboros.worlds import build_world  # noqa: E402


def _tick_fn(world: Any, mode: str) -> Callable[[], None]:
    if mode == "baseline":
        return world.step

    every = {"off": 1, "sampled": 1000, "every": 1}[mode]

    def tick() -> None:
        t0 = time.perf_counter()
        if mode == "sampled":
            world.step()  # as go ticks with tracing on: no span around the tick ...
        else:
            with tracing.span("tick.live"):  # off: a nullcontext; every: a span a tick
                world.step()
        if world.tick % every == 0:  # ... and one recorded span every 1000 ticks
            tracing.record("tick", time.perf_counter() - t0, world="petri", tick=world.tick)
        tracing.tag(tick=world.tick)

    return tick


def _round(mode: str, world: Any, ticks: int) -> list[float]:
    if mode in ("baseline", "off"):
        tracing.shutdown()
    else:
        tracing.configure(buffer_spans=20_000)
    tick = _tick_fn(world, mode)
    times = []
    for _ in range(ticks):
        t0 = time.thread_time_ns()
        tick()
        times.append((time.thread_time_ns() - t0) / 1e6)
    tracing.shutdown()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--entities", type=int, default=300)
    parser.add_argument("--ticks", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="a small dish, few ticks")
    parser.add_argument("--out", type=Path, default=None, help="JSON path")
    args = parser.parse_args()
    if args.quick:
        args.entities, args.ticks, args.rounds = 60, 60, 2
    modes = ["baseline", "off", "sampled", "every", "baseline2"]
    labels = {
        "baseline": "baseline (step only)",
        "off": "tracing off",
        "sampled": "on, 1 tick in 1000",
        "every": "on, every tick",
        "baseline2": "baseline again (noise)",
    }
    worlds = {m: build_world("petri", 1, {"entities": args.entities}) for m in modes}
    for w in worlds.values():
        w.start()
        w.run(5)  # warm
    samples: dict[str, list[float]] = {m: [] for m in modes}
    for _ in range(args.rounds):
        for mode in modes:
            samples[mode] += _round("baseline" if mode == "baseline2" else mode, worlds[mode], args.ticks)
    summary = {}
    for mode in modes:
        times = sorted(samples[mode])
        summary[mode] = {
            "median_ms": round(statistics.median(times), 4),
            "p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))], 4),
            "ticks": len(times),
        }
    base = summary["baseline"]["median_ms"]

    def overhead(mode: str) -> float:
        return round(100.0 * (summary[mode]["median_ms"] - base) / base, 2) if base else 0.0

    for mode in modes:
        summary[mode]["overhead_pct"] = overhead(mode)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    print(f"petri, {args.entities} molbots, {args.ticks} ticks x {args.rounds} rounds; machine: {machine}")
    print(f"{'tick (CPU time of the tick thread)':<36}{'median ms':>11}{'p95 ms':>10}{'overhead':>10}")
    for mode in modes:
        row = summary[mode]
        print(
            f"{labels[mode]:<36}{row['median_ms']:>11.3f}{row['p95_ms']:>10.3f}{row['overhead_pct']:>9.1f}%"
        )
    noise = abs(overhead("baseline2"))
    verdict = "within noise" if overhead("off") <= max(noise, 2.0) else "MEASURABLE"
    print(f"tracing off: {overhead('off'):+.1f}% against a noise of {noise:.1f}%: {verdict}")
    results = REPO / "benchmarks" / "results" / ("quick" if args.quick else "")
    out = args.out or results / "tracing.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "benchmark": "tracing",
        "entities": args.entities,
        "ticks": args.ticks,
        "rounds": args.rounds,
        "quick": args.quick,
        "machine": machine,
        "load_average": load,
        "rows": {labels[m]: summary[m] for m in modes},
        "off_overhead_pct": overhead("off"),
        "noise_pct": noise,
        "verdict": verdict,
    }
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
