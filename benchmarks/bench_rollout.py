"""Rollback on a KPI breach: the part of "decision → every shard and player on the target version"
that exists today (see ADR 0017: shards and the gateway are not wired to the rollout yet).

Per repeat, on a fresh governed data folder (a real SQLite ledger, fsync on): a rollout of a
validated patch runs at 50 % over ``--shards`` shards with ``--players`` sessions spread by the
router; a window in which the treatment inflates the economy breaches the threshold. Measured:

- ``decide``: the controller's poll that judges the breaching window and records the rollback —
  the verdict, the ledger transaction (``rollout_window``, ``rollout_rollback``, the patch moved
  to ``rolled_back``) and the mirror file;
- ``reroute``: ``Router.step`` at the next tick boundary — every shard on the patch switched back
  and every session on it moved (the moves the gateway would tell its players);
- ``total``: the two together.

Not measured (not wired yet): the shard threads applying the switch and each player's next
command answered by the target version — the seed's SLO is 60 s, our goal 1 s p99 end to end.

Writes benchmarks/results/rollout.json.

    python benchmarks/bench_rollout.py [--shards 4] [--players 200] [--repeats 30] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from ouroboros.patches.bundle import new_bundle, sign_bundle  # noqa: E402
from ouroboros.patches.governor import Governor  # noqa: E402
from ouroboros.patches.states import State  # noqa: E402
from ouroboros.rollout.analysis import ArmWindow, WindowSample  # noqa: E402
from ouroboros.rollout.controller import Phase, RolloutState  # noqa: E402
from ouroboros.rollout.plan import parse_plan  # noqa: E402
from ouroboros.rollout.router import Fleet, Router  # noqa: E402
from ouroboros.rollout.service import RolloutService  # noqa: E402

GOAL_MS = 1000.0
WINDOW = 100
WORLD = {
    "world": "petri",
    "seed": 7,
    "config": {"entities": 60},
    "budgets": {
        "warmup_ticks": 2,
        "determinism_ticks": 3,
        "shadow_ticks": 4,
        "canary_ticks": 2,
        "human_domains": ["world_params"],
    },
}


def arm(money_end: int) -> ArmWindow:
    return ArmWindow(50, 100, 0, 10.0, 50.0, 10_000, money_end, 0, 500.0, 10, 8)


class Breach:
    """Every window: the treatment prints money (+8 %), the control does not."""

    def window(self, state: RolloutState, start: int, end: int) -> WindowSample:
        return WindowSample(start, end, arm(10_800), arm(10_050))


def validated_patch(gov: Governor) -> str:
    from datetime import timedelta

    from ouroboros.patches.bundle import default_engine_compat

    content = {
        "world_params": [
            {"id": "petri.params.t", "version": "1.0.0", "world": "petri", "params": {"temperature": 30}}
        ]
    }
    doc = new_bundle(
        content,
        world="petri",
        parent_patch_id=None,
        sequence=0,
        author={"type": "generator", "model": None, "run_id": "bench"},
        engine_compat=default_engine_compat(),
        ttl=timedelta(hours=1),
    )
    doc = sign_bundle(doc, gov.local_key("op"))
    if gov.submit(doc).state != State.VALIDATED:
        raise SystemExit("the bench patch was not held at validated")
    return str(doc["patch_id"])


def one_run(shards: int, players: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        gov = Governor(Path(tmp) / "data", world_defaults=WORLD, environ={})
        try:
            gov.new_key("op", ["*"])
            patch = validated_patch(gov)
            svc = RolloutService(gov)
            plan = parse_plan("50,100", window_ticks=WINDOW, min_exposures=5, threshold=1)
            svc.start(patch, plan, "bench", "bench")
            tick = [0]
            ctl = svc.controller(Breach(), lambda: tick[0])
            ctl.poll()
            live = Router(None, ctl.state)
            names = [f"shard-{i}" for i in range(shards)]
            fleet = Fleet(live.desired(names))
            for i in range(players):
                fleet, _, _ = live.login(fleet, f"acct-{i}", 0)
            on_patch = sum(1 for s in fleet.sessions.values() if s.version == patch)
            tick[0] = WINDOW
            t0 = time.perf_counter()
            ctl.poll()
            t1 = time.perf_counter()
            fleet, moves = Router(None, ctl.state).step(fleet, WINDOW)
            t2 = time.perf_counter()
            if ctl.state.phase is not Phase.ROLLED_BACK or len(moves) != on_patch:
                raise SystemExit(f"no rollback: {ctl.state.phase}, {len(moves)} of {on_patch} moved")
            if any(v is not None for v in fleet.running.values()):
                raise SystemExit("a shard stayed on the patch")
            return {
                "decide_ms": (t1 - t0) * 1e3,
                "reroute_ms": (t2 - t1) * 1e3,
                "total_ms": (t2 - t0) * 1e3,
                "moved": len(moves),
            }
        finally:
            gov.close()


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-99 * len(ordered) // 100) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--players", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="3 repeats")
    parser.add_argument("--out", type=Path, default=None, help="JSON path")
    args = parser.parse_args()
    repeats = 3 if args.quick else args.repeats
    runs = [one_run(args.shards, args.players) for _ in range(repeats)]
    keys = ["decide_ms", "reroute_ms", "total_ms"]
    summary = {
        k: {
            "p50": statistics.median(r[k] for r in runs),
            "p99": p99([r[k] for r in runs]),
            "max": max(r[k] for r in runs),
        }
        for k in keys
    }
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(
        f"bench_rollout: {args.shards} shards, {args.players} sessions, rollback at 50 %; {repeats} repeats "
        "(model only: shard threads and gateway not wired, see ADR 0017)"
    )
    print(f"machine: {machine}; load average {load:.2f}" if load is not None else f"machine: {machine}")
    print(f"{'step':<48}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    labels = {
        "decide_ms": "breaching window judged, rollback in the ledger",
        "reroute_ms": "router: shards switched, sessions moved",
        "total_ms": "decision to routing table",
    }
    for k in keys:
        s = summary[k]
        print(f"{labels[k]:<48}{s['p50']:>10.2f}{s['p99']:>10.2f}{s['max']:>10.2f}")
    print(f"moved per rollback: {runs[0]['moved']}; goal {GOAL_MS:.0f} ms p99 end to end (not measured yet)")
    results = REPO / "benchmarks" / "results" / ("quick" if args.quick else "")
    out = args.out or results / "rollout.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "benchmark": "rollout",
                "scope": "decision to routing table (model); shards and players' next command not wired",
                "shards": args.shards,
                "players": args.players,
                "repeats": repeats,
                "machine": machine,
                "load_average": load,
                "goal_ms_p99_end_to_end": GOAL_MS,
                "summary": summary,
                "runs": runs,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
