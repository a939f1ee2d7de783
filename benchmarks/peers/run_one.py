"""One timed run of one peer model in one framework, in a fresh process (SPEC.md section 0):
imports, one untimed warm-up run at size ``small`` (seed + 100000: caches, numba JIT), then one
timed run of construction + 100 steps. Prints one JSON line: wall and CPU seconds, final counts.

    python run_one.py FRAMEWORK MODEL SIZE SEED

FRAMEWORK is ouroboros (run with the project's interpreter), mesa, mesa-frames or agentpy (run
with the peer virtual environment's)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

import sizes


def _ouroboros(model: str) -> Callable[[str, int], Any]:
    from ouroboros.worlds import build_world, world_kpis

    def run(size: str, seed: int) -> dict[str, int]:
        world = build_world(model, seed, {"preset": size})
        world.run(sizes.STEPS)
        kpis = world_kpis(world)
        return {k: kpis[k] for k in ("sheep", "wolves", "birds") if k in kpis}

    return run


def _mesa_like(module: Any, model: str) -> Callable[[str, int], Any]:
    def run(size: str, seed: int) -> dict[str, int]:
        m = module.MODELS[model](size, seed)
        for _ in range(sizes.STEPS):
            m.step()
        return m.counts()

    return run


def _agentpy(model: str) -> Callable[[str, int], Any]:
    import agentpy_models

    def run(size: str, seed: int) -> dict[str, int]:
        m = agentpy_models.build(model, size, seed)
        for _ in range(sizes.STEPS):
            m.step()
        return m.counts()

    return run


def runner(framework: str, model: str) -> Callable[[str, int], Any]:
    if framework == "ouroboros":
        return _ouroboros(model)
    if framework == "mesa":
        import mesa_models

        return _mesa_like(mesa_models, model)
    if framework == "mesa-frames":
        import mesa_frames_models

        return _mesa_like(mesa_frames_models, model)
    if framework == "agentpy":
        return _agentpy(model)
    raise SystemExit(f"unknown framework {framework!r}")


def main() -> None:
    framework, model, size, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    run = runner(framework, model)
    run("small", seed + 100_000)  # warm-up, untimed
    wall0, cpu0 = time.perf_counter(), time.process_time()
    counts = run(size, seed)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    print(json.dumps({"wall_s": wall, "cpu_s": cpu, "counts": counts}))


if __name__ == "__main__":
    main()
