"""WolfSheep and Flocking on ouroboros against Mesa 3.x, mesa-frames and agentpy, side by side.

The models and the protocol are ``shared/peer-models/SPEC.md``'s: the timed region is model
construction + 100 steps, after an untimed warm-up run at size ``small`` in the same process; each
configuration runs in 3 fresh processes (seeds 1, 2, 3) and the table quotes the median wall and
CPU time (CPU = user + sys of the process, every thread), with the 1-minute load average before and
after each process. A run that does not finish in ``--timeout`` seconds (default 300) is reported
as DNF and its other seeds are skipped. Ratios (framework / ouroboros) use CPU time, the stable
figure on a shared machine.

Every peer implementation is our own, written from the spec (``peers/*_models.py``). The peers run
in their own virtual environment (``benchmarks/.peers-venv``, gitignored), which ``--setup`` creates
with Mesa, mesa-frames and agentpy from PyPI (Mesa 3.5 needs Python >= 3.12: ``--peer-python``).

    python benchmarks/bench_peers.py [--setup] [--sizes small,large,x10] [--models wolfsheep,flocking]
                                     [--frameworks ouroboros,mesa,mesa-frames,agentpy] [--quick]

``--quick``: size small, one process per configuration, and only ouroboros unless the peer venv
exists. Writes benchmarks/results/peers.json (``--quick``: results/quick/peers.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers"
VENV = HERE / ".peers-venv"
SRC = HERE.parent / "src"
FRAMEWORKS = ("ouroboros", "mesa", "mesa-frames", "agentpy")
PEER_PACKAGES = ("mesa>=3,<4", "mesa-frames", "agentpy", "numpy")
#: framework / ouroboros CPU-time ratios the issue asks for (at least)
GOALS = {("wolfsheep", "large", "mesa"): 30.0, ("flocking", "large", "mesa"): 60.0}


def peer_python() -> Path:
    return VENV / "bin" / "python"


def setup_venv(python: str) -> None:
    if not peer_python().exists():
        subprocess.run([python, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(peer_python()), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)


def peer_versions() -> dict[str, str]:
    if not peer_python().exists():
        return {}
    out = subprocess.run(
        [str(peer_python()), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        check=False,
    )
    wanted = {"mesa", "mesa-frames", "mesa_frames", "agentpy", "polars", "numpy", "scipy"}
    try:
        return {p["name"]: p["version"] for p in json.loads(out.stdout) if p["name"].lower() in wanted}
    except json.JSONDecodeError:
        return {}


def one_process(framework: str, model: str, size: str, seed: int, timeout: float) -> dict[str, object]:
    python = sys.executable if framework == "ouroboros" else str(peer_python())
    env = {**os.environ, "PYTHONPATH": str(SRC), "PYTHONWARNINGS": "ignore"}
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    try:
        out = subprocess.run(
            [python, str(PEERS / "run_one.py"), framework, model, size, str(seed)],
            cwd=PEERS,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"dnf": True, "seed": seed, "load_before": load_before, "load_after": os.getloadavg()[0]}
    row: dict[str, object] = {"seed": seed, "load_before": load_before, "load_after": os.getloadavg()[0]}
    if out.returncode != 0:
        row.update({"error": out.stderr.strip().splitlines()[-1:] or ["exit " + str(out.returncode)]})
        return row
    row.update(json.loads(out.stdout.strip().splitlines()[-1]))
    row["process_s"] = time.perf_counter() - started
    return row


def measure(framework: str, model: str, size: str, repeats: int, timeout: float) -> dict[str, object]:
    runs = []
    for seed in range(1, repeats + 1):
        r = one_process(framework, model, size, seed, timeout)
        runs.append(r)
        print(
            f"  {model:<9} {size:<5} {framework:<11} seed {seed}: "
            f"{'DNF' if r.get('dnf') else r.get('error') or round(float(r['cpu_s']), 3)}",
            file=sys.stderr,
        )  # type: ignore[arg-type]
        if r.get("dnf") or r.get("error"):
            break
    done = [r for r in runs if "cpu_s" in r]
    row: dict[str, object] = {"framework": framework, "model": model, "size": size, "runs": runs}
    if len(done) == len(runs) and done:
        row["wall_s"] = statistics.median(float(r["wall_s"]) for r in done)  # type: ignore[arg-type]
        row["cpu_s"] = statistics.median(float(r["cpu_s"]) for r in done)  # type: ignore[arg-type]
    else:
        row["status"] = "DNF" if any(r.get("dnf") for r in runs) else "error"
    return row


def profile(models: list[str], sizes: list[str]) -> list[dict[str, object]]:
    """Where a tick's CPU time goes in our worlds, per system (the profiler on a CPU clock, after a
    warm-up); ``engine`` is the rest of the tick: structural commands, digest, bookkeeping."""
    sys.path.insert(0, str(SRC))
    from ouroboros.worlds import build_world

    rows = []
    for model in models:
        build_world(model, 100_001, {"preset": "small"}).run(sizes_steps())
        for size in sizes:
            world = build_world(model, 1, {"preset": size}, clock=time.process_time_ns)
            world.run(sizes_steps())
            stats = world.profiler.stats()
            per_tick = {k: v["mean_ms"] for k, v in stats.items() if k not in ("populate",)}
            tick = per_tick.pop("<tick>")
            per_tick["engine"] = max(tick - sum(per_tick.values()), 0.0)
            rows.append({"model": model, "size": size, "tick_ms": tick, "systems_ms": per_tick})
    return rows


def sizes_steps() -> int:
    return 100


def profile_table(rows: list[dict[str, object]]) -> str:
    lines = [f"{'model':<10} {'size':<6} {'tick ms':>8}  per system, ms (share of the tick)"]
    for r in rows:
        tick = float(r["tick_ms"])  # type: ignore[arg-type]
        parts = "  ".join(
            f"{k} {v:.3f} ({100 * v / tick:.0f}%)"
            for k, v in r["systems_ms"].items()  # type: ignore[attr-defined]
        )
        lines.append(f"{r['model']:<10} {r['size']:<6} {tick:8.3f}  {parts}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="small,large,x10")
    ap.add_argument("--models", default="wolfsheep,flocking")
    ap.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    ap.add_argument("--ours-extra", default="x100", help="sizes run for ouroboros only (empty: none)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds before a run is DNF")
    ap.add_argument("--setup", action="store_true", help="create/update the peer venv first")
    ap.add_argument("--peer-python", default=sys.executable, help="interpreter for the peer venv")
    ap.add_argument("--quick", action="store_true", help="small only, one process each")
    ap.add_argument("--out", default=None)
    ap.add_argument("--profile-only", action="store_true", help="only the per-system profile of our worlds")
    args = ap.parse_args()
    if args.profile_only:
        sizes_p = [s for s in args.sizes.split(",") if s]
        prof = profile(args.models.split(","), sizes_p)
        print(profile_table(prof))
        out = HERE / "results" / ("quick" if args.quick else "") / "peers_profile.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"rows": prof}, indent=2) + "\n")
        return 0
    if args.setup:
        setup_venv(args.peer_python)
    frameworks = [f for f in args.frameworks.split(",") if f]
    sizes = [s for s in args.sizes.split(",") if s]
    extra = [s for s in args.ours_extra.split(",") if s]
    if args.quick:
        sizes, extra, args.repeats = ["small"], [], 1
        if not peer_python().exists():
            frameworks = ["ouroboros"]
    missing_peers = [f for f in frameworks if f != "ouroboros" and not peer_python().exists()]
    if missing_peers:
        print(
            f"no peer venv at {VENV}: run with --setup (skipping {', '.join(missing_peers)})", file=sys.stderr
        )
        frameworks = [f for f in frameworks if f not in missing_peers]
    rows = []
    for model in args.models.split(","):
        for size in [*sizes, *extra]:
            for framework in frameworks:
                if size in extra and size not in sizes and framework != "ouroboros":
                    continue
                rows.append(measure(framework, model, size, args.repeats, args.timeout))
    ours = {(r["model"], r["size"]): r.get("cpu_s") for r in rows if r["framework"] == "ouroboros"}
    for r in rows:
        base = ours.get((r["model"], r["size"]))
        if base and "cpu_s" in r and r["framework"] != "ouroboros":
            r["cpu_ratio_vs_ouroboros"] = float(r["cpu_s"]) / float(base)  # type: ignore[arg-type]
            goal = GOALS.get((r["model"], r["size"], r["framework"]))  # type: ignore[arg-type]
            if goal:
                r["goal_ratio"] = goal
    print(table(rows, args.timeout))
    loads = [float(x[k]) for r in rows for x in r["runs"] for k in ("load_before", "load_after")]  # type: ignore[attr-defined]
    machine = f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()} (ours)"
    print(f"machine: {machine}; 1-min load average during the run: {min(loads):.2f}..{max(loads):.2f}")
    out = Path(args.out) if args.out else HERE / "results" / ("quick" if args.quick else "") / "peers.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "machine": machine,
        "protocol": "construction + 100 steps after an untimed small warm-up; median of fresh processes",
        "repeats": args.repeats,
        "timeout_s": args.timeout,
        "peer_versions": peer_versions(),
        "load_range": [min(loads), max(loads)],
        "rows": rows,
    }
    out.write_text(json.dumps(payload, indent=2) + "\n")
    (out.with_suffix(".txt")).write_text(table(rows, args.timeout) + "\n")
    return 0


def table(rows: list[dict[str, object]], timeout: float) -> str:
    lines = [
        f"{'model':<10} {'size':<6} {'framework':<12} {'wall s':>9} {'CPU s':>9} {'x ours (CPU)':>13} "
        f"{'goal':>6} {'final counts':<28} {'load':>11}"
    ]
    for r in rows:
        runs = r["runs"]  # type: ignore[assignment]
        loads = [float(x[k]) for x in runs for k in ("load_before", "load_after")]  # type: ignore[attr-defined]
        if "cpu_s" in r:
            wall, cpu = f"{float(r['wall_s']):9.3f}", f"{float(r['cpu_s']):9.3f}"  # type: ignore[arg-type]
        else:
            wall = cpu = f"{'DNF>' + str(int(timeout)) + 's' if r.get('status') == 'DNF' else 'error':>9}"
        ratio = (
            f"{float(r['cpu_ratio_vs_ouroboros']):12.1f}x" if "cpu_ratio_vs_ouroboros" in r else f"{'-':>13}"
        )  # type: ignore[arg-type]
        goal = f">={float(r['goal_ratio']):.0f}x" if "goal_ratio" in r else "-"  # type: ignore[arg-type]
        counts = next((x.get("counts") for x in runs if x.get("counts")), {})  # type: ignore[attr-defined]
        counts_s = " ".join(f"{k}={v}" for k, v in (counts or {}).items())
        lines.append(
            f"{r['model']:<10} {r['size']:<6} {r['framework']:<12} {wall} {cpu} {ratio} {goal:>6} "
            f"{counts_s:<28} {min(loads):5.2f}-{max(loads):<5.2f}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
