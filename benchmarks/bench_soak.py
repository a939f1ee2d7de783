"""A world that runs for a week: memory, file descriptors, threads and Lua states stay flat.

In one process, as ``ouroboros go`` composes it: the real ``Runtime`` (``ouroboros.server.runtime``)
on a temporary data folder with both worlds (neon ticking its city, petri at ``--molbots``), the
council and director attached, petri's optimizer and evolution loop on, and the real admin API
(``cli.go._make_server``) served by uvicorn. Evolution cycles are forced at a fixed interval
(``--cycle-every`` petri ticks, through ``runner.evolution.evolve``, one at a time, each under the
loop's ``cycle_budget_ms``). Meanwhile ``--players`` scripted telnet players (real TCP
connections to neon's telnet port: create an account, then look, walk, say, ...) and
``--viewers`` stream clients (real WebSocket connections to ``/ws/world-stream`` for petri, with a
viewer's token) stay connected.

Every ``--sample-every`` petri ticks it samples the process's RSS, the Python objects the cyclic
collector tracks (after a collection), open file descriptors, threads and live Lua states
(``lupa`` runtimes), and petri's tick rate while a cycle is under way and while none is. After a
warm-up (``--warmup`` of the ticks, and at least two cycles) it fits a least-squares slope to
each and reports it per 10,000 petri ticks and per evolution cycle: a table on stdout,
``benchmarks/results/soak.json`` and a plot ``benchmarks/results/soak.png``.

Goal: RSS slope <= 1 MB per 10,000 ticks after warm-up; zero growth of descriptors, threads and
Lua states; petri within its pace while a cycle is evaluated.

    python benchmarks/bench_soak.py [--ticks 100000] [--cycle-every 1000] [--pace 30]
    python benchmarks/bench_soak.py --quick      # seconds, tiny: checks the harness works
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
HISTORY_DEFAULT = 2_000  # EvolutionConfig.history_max_events
FEED_DEFAULT = 1_000  # RuntimeOptions.feed_max_events
sys.path.insert(0, str(REPO / "src"))

PLAYER_LINES = ("look", "north", "south", "say the rain never stops", "who", "east", "west", "inventory")


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def native_threads() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def heap_counts() -> tuple[int, int]:
    """(Python objects the collector tracks, live Lua states), after a full collection."""
    import lupa.lua54 as lupa

    gc.collect()
    objects = gc.get_objects()
    lua = sum(1 for o in objects if type(o) is lupa.LuaRuntime)
    n = len(objects)
    del objects
    return n, lua


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys over xs (0 with fewer than two distinct xs)."""
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


# -- the clients ----------------------------------------------------------------------------------
async def telnet_player(port: int, name: str, stop: asyncio.Event, stats: dict[str, int]) -> None:
    """One scripted player on a real telnet connection: an account, then a command a second."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def drain() -> None:
        while not stop.is_set():
            chunk = await reader.read(4096)
            if not chunk:
                return
            stats["player_bytes_in"] += len(chunk)

    reading = asyncio.create_task(drain())
    try:
        await asyncio.sleep(0.2)
        writer.write(f"create {name} soak-{name}-pw\r\n".encode())
        i = 0
        while not stop.is_set() and not reading.done():
            writer.write((PLAYER_LINES[i % len(PLAYER_LINES)] + "\r\n").encode())
            await writer.drain()
            stats["player_commands"] += 1
            i += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
        with_quit = not reading.done()
        if with_quit:
            writer.write(b"quit\r\n")
            await writer.drain()
    finally:
        reading.cancel()
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()


async def stream_viewer(url: str, stop: asyncio.Event, stats: dict[str, int]) -> None:
    """One dashboard viewer on a real WebSocket: counts petri's frames until told to stop."""
    from websockets.asyncio.client import connect

    async with connect(url, compression=None, max_size=1 << 23, open_timeout=60) as ws:
        while not stop.is_set():
            try:
                message = await asyncio.wait_for(ws.recv(), 1.0)
            except TimeoutError:
                continue
            if isinstance(message, bytes):
                stats["viewer_frames"] += 1


# -- the run --------------------------------------------------------------------------------------
@dataclasses.dataclass
class Pace:
    """petri's ticks and seconds, split by whether a cycle was under way (counters only: a
    soak benchmark that kept a list per tick would grow by itself)."""

    last: float = 0.0
    ticks_in_cycle: int = 0
    seconds_in_cycle: float = 0.0
    ticks_between: int = 0
    seconds_between: float = 0.0
    worst_gap_in_cycle_s: float = 0.0

    def hook(self, runner: Any) -> Any:
        def after_tick(world: Any, ms: float) -> None:
            now = time.monotonic()
            if self.last:
                gap = now - self.last
                if runner.evolution.evolving:
                    self.ticks_in_cycle += 1
                    self.seconds_in_cycle += gap
                    self.worst_gap_in_cycle_s = max(self.worst_gap_in_cycle_s, gap)
                else:
                    self.ticks_between += 1
                    self.seconds_between += gap
            self.last = now

        return after_tick


def run(args: argparse.Namespace) -> dict[str, Any]:
    from ouroboros.ai.evolution import CascadeConfig
    from ouroboros.cli.go import _bind, _make_server
    from ouroboros.server.runtime import Runtime, RuntimeOptions

    data = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    options = RuntimeOptions(
        seed=args.seed,
        ticks_per_second=None,
        world_configs={"petri": {"entities": args.molbots, "params": {"min_population": args.molbots // 2}}},
        telnet_port=0,
        ws_port=0,
    )
    runtime = Runtime(data, ("neon", "petri"), options)
    petri, neon = runtime.runner("petri"), runtime.runner("neon")
    petri.pace = float(args.pace)  # read by the tick thread when it starts
    sock = _bind("127.0.0.1", 0, "--port")
    server, _first = _make_server(runtime, sock, ())
    app = server.config.app
    token = app.state.auth.create_user("soak", "viewer", "bench")["token"]
    pace = Pace()
    petri.after_tick.append(pace.hook(petri))
    runtime.start()
    loop_ = petri.evolution.loop
    loop_.config = dataclasses.replace(
        loop_.config,
        generations=args.generations,
        cascade=CascadeConfig(replay_ticks=3, shadow_ticks=args.shadow_ticks),
        cycle_budget_ms=args.cycle_budget_ms,
        **({"history_max_events": args.history_max_events} if args.history_max_events else {}),
    )
    loop_.cooldown_ticks = 10**9  # cycles come only when forced, at the fixed interval
    samples: list[dict[str, Any]] = []
    cycles: list[dict[str, Any]] = []
    stats = {"player_commands": 0, "player_bytes_in": 0, "viewer_frames": 0}
    started = time.monotonic()

    def sample() -> None:
        objects, lua = heap_counts()
        samples.append(
            {
                "tick": petri.world.tick,
                "neon_tick": neon.world.tick,
                "cycles": len(cycles),
                "seconds": round(time.monotonic() - started, 2),
                "rss_mb": round(rss_mb(), 2),
                "objects": objects,
                "fds": open_fds(),
                "threads": native_threads(),
                "python_threads": threading.active_count(),
                "lua_states": lua,
                "evolution_history": len(loop_.history(10**9)),
                "feed": len(runtime.feed.recent(10**9)),
            }
        )
        s = samples[-1]
        print(
            f"  tick {s['tick']:>7}  cycles {s['cycles']:>4}  rss {s['rss_mb']:>7.1f} MB  "
            f"objects {s['objects']:>8}  fds {s['fds']:>3}  threads {s['threads']:>3}  "
            f"lua {s['lua_states']:>2}  history {s['evolution_history']:>4}  feed {s['feed']:>4}  "
            f"({s['seconds']:.0f} s)",
            flush=True,
        )

    def force_cycles(stop: threading.Event) -> None:
        next_at = args.cycle_every
        while not stop.is_set():
            if petri.world.tick < next_at:
                stop.wait(0.05)
                continue
            t0 = time.monotonic()
            try:
                outcome = petri.evolution.evolve("soak", "bench", timeout_s=args.cycle_budget_ms / 1000 + 60)
            except Exception as exc:  # reported, and the soak goes on
                outcome = {"type": "error", "message": f"{type(exc).__name__}: {exc}"}
            cycles.append(
                {
                    "tick": petri.world.tick,
                    "seconds": round(time.monotonic() - t0, 2),
                    "outcome": outcome.get("type"),
                    "code": outcome.get("code"),
                }
            )
            next_at += args.cycle_every

    async def conduct() -> None:
        port = sock.getsockname()[1]
        stop = asyncio.Event()
        url = f"ws://127.0.0.1:{port}/ws/world-stream?world=petri&token={token}"
        clients = [
            asyncio.create_task(telnet_player(neon.ports["telnet"], f"soak{i}", stop, stats))
            for i in range(args.players)
        ]
        clients += [asyncio.create_task(stream_viewer(url, stop, stats)) for _ in range(args.viewers)]
        stop_cycles = threading.Event()
        driver = threading.Thread(target=force_cycles, args=(stop_cycles,), name="soak-cycles", daemon=True)
        driver.start()
        next_sample = 0
        try:
            deadline = started + args.max_seconds if args.max_seconds else float("inf")
            while petri.world.tick < args.ticks and not petri.error and time.monotonic() < deadline:
                if petri.world.tick >= next_sample:
                    await asyncio.to_thread(sample)
                    next_sample += args.sample_every
                await asyncio.sleep(0.2)
                broken = [c for c in clients if c.done() and c.exception() is not None]
                if broken:
                    raise RuntimeError(f"a client failed: {broken[0].exception()!r}")
            await asyncio.to_thread(sample)
        finally:
            stop.set()
            stop_cycles.set()
            await asyncio.gather(*clients, return_exceptions=True)
            driver.join(args.cycle_budget_ms / 1000 + 90)
            server.should_exit = True

    async def main() -> None:
        conductor = asyncio.create_task(conduct())
        await server.serve(sockets=[sock])
        await conductor

    try:
        asyncio.run(main())
    finally:
        runtime.stop()
        sock.close()
        shutil.rmtree(data, ignore_errors=True)
    return {
        "samples": samples,
        "cycles": cycles,
        "clients": stats,
        "pace": dataclasses.asdict(pace) | {"pace_hz": petri.pace},
        "error": petri.error,
    }


def analyse(result: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    samples, cycles = result["samples"], result["cycles"]
    warm_tick = max(int(args.ticks * args.warmup), cycles[1]["tick"] if len(cycles) > 1 else 0)
    # warm-up also lasts until the bounded buffers are full: until then they grow by design
    # (the evolution history fills over ~20 events a cycle; the feed over its events)
    full = next(
        (
            s["tick"]
            for s in samples
            if s.get("evolution_history") == (args.history_max_events or HISTORY_DEFAULT)
            and s.get("feed") == FEED_DEFAULT
        ),
        None,
    )
    if full is not None:
        warm_tick = max(warm_tick, full)
    warm = [s for s in samples if s["tick"] >= warm_tick]
    if len(warm) < 2:  # a run too short for its warm-up: the second half, and say so
        warm = samples[len(samples) // 2 :]
        warm_tick = warm[0]["tick"] if warm else 0
    metrics = ("rss_mb", "objects", "fds", "threads", "lua_states")
    rows = {}
    for m in metrics:
        ticks = [float(s["tick"]) for s in warm]
        values = [float(s[m]) for s in warm]
        per_cycle = slope([float(s["cycles"]) for s in warm], values)
        rows[m] = {
            "first": samples[0][m] if samples else None,
            "after_warmup": warm[0][m] if warm else None,
            "last": samples[-1][m] if samples else None,
            "slope_per_10k_ticks": round(slope(ticks, values) * 10_000, 3),
            "slope_per_cycle": round(per_cycle, 4),
        }
    p = result["pace"]
    in_cycle = p["ticks_in_cycle"] / p["seconds_in_cycle"] if p["seconds_in_cycle"] else None
    between = p["ticks_between"] / p["seconds_between"] if p["seconds_between"] else None
    timed_out = sum(1 for c in cycles if c["code"] == "cycle_timed_out")
    rss = rows["rss_mb"]["slope_per_10k_ticks"]
    flat = all(rows[m]["slope_per_10k_ticks"] <= 0.5 for m in ("fds", "threads", "lua_states"))
    return {
        "warmup_tick": warm_tick,
        "warmup_share": args.warmup,
        "ticks": samples[-1]["tick"] if samples else 0,
        "neon_ticks": samples[-1]["neon_tick"] if samples else 0,
        "cycles": len(cycles),
        "cycles_timed_out": timed_out,
        "cycle_seconds_max": max((c["seconds"] for c in cycles), default=0.0),
        "cycle_outcomes": {
            o: sum(1 for c in cycles if c["outcome"] == o) for o in {c["outcome"] for c in cycles}
        },
        "metrics": rows,
        "petri_pace_hz": p["pace_hz"],
        "petri_ticks_per_s_in_cycle": round(in_cycle, 2) if in_cycle else None,
        "petri_ticks_per_s_between_cycles": round(between, 2) if between else None,
        "worst_tick_gap_in_cycle_s": round(p["worst_gap_in_cycle_s"], 3),
        "buffers_last": [samples[-1].get("evolution_history"), samples[-1].get("feed")] if samples else [],
        "goal_rss_mb_per_10k_ticks": 1.0,
        "goal_met": rss <= 1.0 and flat,
    }


def table(summary: dict[str, Any]) -> str:
    lines = [
        f"petri ticks {summary['ticks']} (neon {summary['neon_ticks']}), cycles {summary['cycles']} "
        f"({summary['cycles_timed_out']} timed out, longest {summary['cycle_seconds_max']} s), "
        f"warm-up to tick {summary['warmup_tick']} "
        f"(at least {summary.get('warmup_share', 0.2):.0%} of the run, until the bounded buffers are full)",
        f"{'metric':<11} {'first':>10} {'warm':>10} {'last':>10} {'/10k ticks':>11} {'/cycle':>9}",
    ]
    for m, r in summary["metrics"].items():
        lines.append(
            f"{m:<11} {r['first']:>10} {r['after_warmup']:>10} {r['last']:>10} "
            f"{r['slope_per_10k_ticks']:>11} {r['slope_per_cycle']:>9}"
        )
    last = summary["buffers_last"]
    lines.append(f"bounded buffers at the end: evolution history {last[0]}, feed {last[1]}")
    lines.append(
        f"petri pace {summary['petri_pace_hz']} ticks/s: {summary['petri_ticks_per_s_in_cycle']} during "
        f"cycles, {summary['petri_ticks_per_s_between_cycles']} between; worst gap in a cycle "
        f"{summary['worst_tick_gap_in_cycle_s']} s"
    )
    verdict = "met" if summary["goal_met"] else "NOT met"
    lines.append(f"goal (RSS <= 1 MB / 10k ticks, no fd/thread/Lua growth): {verdict}")
    return "\n".join(lines)


def plot(result: dict[str, Any], summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = result["samples"]
    ticks = [s["tick"] for s in samples]
    fig, axes = plt.subplots(3, 1, figsize=(9, 9), sharex=True)
    axes[0].plot(ticks, [s["rss_mb"] for s in samples], label="RSS (MB)")
    axes[0].set_ylabel("RSS (MB)")
    axes[1].plot(ticks, [s["objects"] for s in samples], color="tab:orange")
    axes[1].set_ylabel("Python objects")
    for key in ("fds", "threads", "lua_states"):
        axes[2].plot(ticks, [s[key] for s in samples], label=key)
    axes[2].set_ylabel("count")
    axes[2].set_xlabel("petri tick")
    axes[2].legend()
    for ax in axes:
        ax.axvline(summary["warmup_tick"], color="grey", linestyle=":")
        for c in result["cycles"]:
            ax.axvline(c["tick"], color="tab:green", alpha=0.08)
    rss = summary["metrics"]["rss_mb"]["slope_per_10k_ticks"]
    fig.suptitle(
        f"soak: {summary['ticks']} petri ticks, {summary['cycles']} evolution cycles; "
        f"RSS slope {rss} MB / 10k ticks after warm-up"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ticks", type=int, default=100_000, help="petri ticks to run")
    ap.add_argument("--cycle-every", type=int, default=1_000, help="petri ticks between forced cycles")
    ap.add_argument("--pace", type=float, default=30.0, help="petri ticks per second (0: flat out)")
    ap.add_argument("--molbots", type=int, default=300)
    ap.add_argument("--players", type=int, default=3, help="scripted telnet players")
    ap.add_argument("--viewers", type=int, default=2, help="WebSocket stream clients")
    ap.add_argument("--sample-every", type=int, default=1_000, help="petri ticks between samples")
    ap.add_argument("--warmup", type=float, default=0.2, help="share of the ticks left out of the slopes")
    ap.add_argument("--generations", type=int, default=2)
    ap.add_argument("--shadow-ticks", type=int, default=60)
    ap.add_argument("--cycle-budget-ms", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--history-max-events", type=int, default=0, help="the loop's history bound (0: its default)"
    )
    ap.add_argument("--max-seconds", type=float, default=0, help="end early (and report) after this long")
    ap.add_argument("--quick", action="store_true", help="seconds, tiny: checks the harness")
    ap.add_argument("--out", default=None, help="results name (default soak, or soak-quick)")
    args = ap.parse_args()
    if args.quick:
        args.ticks, args.cycle_every, args.molbots, args.sample_every = 400, 100, 60, 50
        args.players, args.viewers, args.shadow_ticks, args.generations = 1, 1, 12, 1
        args.ticks, args.cycle_every, args.pace, args.warmup = 300, 60, 60.0, 0.25
    # --out: a results name (soak, soak-history200, ...) or a JSON path; --quick goes to results/quick/
    if args.out and args.out.endswith(".json"):
        json_path = Path(args.out)
    else:
        json_path = (RESULTS / "quick" if args.quick else RESULTS) / f"{args.out or 'soak'}.json"
    load = os.getloadavg()
    print(f"soak: {args.ticks} petri ticks, a cycle every {args.cycle_every}, load {load[0]:.2f}", flush=True)
    result = run(args)
    summary = analyse(result, args)
    print(table(summary))
    json_path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "benchmark": "soak",
        "args": vars(args),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_at_start": load[0]},
        "load_at_end": os.getloadavg()[0],
        "summary": summary,
        **result,
    }
    json_path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    plot(result, summary, json_path.with_suffix(".png"))
    print(f"wrote {json_path} and its .png")


if __name__ == "__main__":
    main()
