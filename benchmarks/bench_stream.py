"""The live world stream under load: a 10,000-molbot petri dish streamed to 50 WebSocket clients.

The dish keeps its population (``min_population`` reseeds it to ``--molbots``). A server
process ticks the dish at its own pace (30 ticks a second) in a thread and offers a
frame to the ``StreamHub`` after every tick (one snapshot and one binary encoding per frame, at
most 30 a second, on the tick thread); a real uvicorn server streams ``/ws/world-stream`` on
loopback. Client processes open ``--clients`` connections with the ``websockets`` library and
count the frames each receives between the server's "start" and "stop" feed messages
(``--seconds`` apart). Before any client connects the server ticks two seconds alone, the
baseline tick time.

Reported per run: frames delivered per second per client (median, min), frames dropped for slow
clients (newest wins), the tick rate held, tick time p50/p95/max against the budget (1/30 s),
the tick plus frame time (what the tick thread spends per tick), snapshot+encode time, and the
baseline tick p50. Goal: no tick slower than its budget while streaming.

Writes benchmarks/results/stream.json.

    python benchmarks/bench_stream.py [--clients 50] [--seconds 10] [--repeats 3] [--molbots 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TOKEN = "bench-token"
TICK_HZ = 30
BASELINE_S = 2.0


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- the server process ---------------------------------------------------------------------------
def serve(molbots: int, clients: int, seconds: float, seed: int, deflate: bool) -> None:
    import uvicorn
    from fastapi import FastAPI

    from ouroboros.server.stream import StreamHub, mount_world_stream
    from ouroboros.worlds import build_world

    # min_population keeps the dish at ``molbots`` (left alone, a crowded dish starves down)
    world = build_world("petri", seed, {"entities": molbots, "params": {"min_population": molbots}})
    world.start()
    hub = StreamHub("petri")
    app = FastAPI()
    mount_world_stream(app, {"petri": hub}, lambda token: "bench" if token == TOKEN else None)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", ws="websockets-sansio", ws_per_message_deflate=deflate
    )
    server = uvicorn.Server(config)
    stop = threading.Event()
    tick_s: list[float] = []  # world.step() alone
    busy_s: list[float] = []  # step + frame offer: the tick thread's time per tick
    frame_s: list[float] = []
    entities: list[int] = []
    marks: dict[str, Any] = {}

    def tick_loop() -> None:
        period = 1.0 / TICK_HZ
        due = time.monotonic()
        while not stop.is_set():
            t0 = time.perf_counter()
            world.step()
            t1 = time.perf_counter()
            offered = hub.offer(world)
            t2 = time.perf_counter()
            tick_s.append(t1 - t0)
            busy_s.append(t2 - t0)
            if offered:
                frame_s.append(t2 - t1)
                entities.append(world.count("Body"))
            due += period
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            elif wait < -period:  # behind by more than a tick: count from now (the rate shows it)
                due = time.monotonic()

    async def conduct() -> None:
        await asyncio.sleep(BASELINE_S)
        marks["baseline"] = list(tick_s)
        print(f"READY {sock.getsockname()[1]}", flush=True)
        async with asyncio.timeout(120):
            while len(hub.clients) < clients:
                await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # everyone has had a frame
        start = (len(tick_s), len(frame_s), hub.frames_dropped, hub.frames_published, time.monotonic())
        hub.publish_feed({"bench": "start"})
        await asyncio.sleep(seconds)
        end = (len(tick_s), len(frame_s), hub.frames_dropped, hub.frames_published, time.monotonic())
        hub.publish_feed({"bench": "stop"})
        marks["window"] = (start, end)
        await asyncio.sleep(1.0)
        server.should_exit = True

    async def main() -> None:
        ticker = threading.Thread(target=tick_loop, daemon=True)
        ticker.start()
        conductor = asyncio.create_task(conduct())
        await server.serve(sockets=[sock])
        await conductor
        stop.set()
        ticker.join()

    asyncio.run(main())
    (t0, f0, d0, p0, s0), (t1, f1, d1, p1, s1) = marks["window"]
    window = s1 - s0
    ticks, busy, frames = tick_s[t0:t1], busy_s[t0:t1], frame_s[f0:f1]
    budget = 1.0 / TICK_HZ
    baseline = marks["baseline"][5:]  # the first ticks warm caches
    stats = {
        "window_s": round(window, 3),
        "ticks_per_s": round(len(ticks) / window, 2),
        "tick_ms_p50": round(_pct(ticks, 0.5) * 1e3, 3),
        "tick_ms_p95": round(_pct(ticks, 0.95) * 1e3, 3),
        "tick_ms_max": round(max(ticks) * 1e3, 3),
        "ticks_over_budget": sum(1 for t in ticks if t > budget),
        "tick_frame_ms_p95": round(_pct(busy, 0.95) * 1e3, 3),
        "tick_frame_ms_max": round(max(busy) * 1e3, 3),
        "ticks_with_frame_over_budget": sum(1 for t in busy if t > budget),
        "frame_ms_p50": round(_pct(frames, 0.5) * 1e3, 3),
        "frames_published_per_s": round((p1 - p0) / window, 2),
        "frames_dropped": d1 - d0,
        "entities_median": int(statistics.median(entities[f0:f1])) if f1 > f0 else 0,
        "baseline_tick_ms_p50": round(_pct(baseline, 0.5) * 1e3, 3),
        "baseline_tick_ms_max": round(max(baseline) * 1e3, 3) if baseline else 0.0,
    }
    print("STATS " + json.dumps(stats), flush=True)


# -- the client processes -------------------------------------------------------------------------
async def _client(url: str, out: dict[str, Any], deflate: bool) -> None:
    from websockets.asyncio.client import connect

    counting = False
    frames = bytes_in = 0
    t_start = t_stop = 0.0
    async with connect(
        url, compression="deflate" if deflate else None, max_size=1 << 23, open_timeout=60
    ) as ws:
        async for message in ws:
            if isinstance(message, bytes):
                if message[:2] != b"BO":  # 0x4F42 little-endian
                    raise RuntimeError("not a world frame")
                if counting:
                    frames += 1
                    bytes_in += len(message)
                continue
            event = json.loads(message).get("event", {})
            if event.get("bench") == "start":
                counting, t_start = True, time.monotonic()
            elif event.get("bench") == "stop":
                t_stop = time.monotonic()
                break
    out.update(frames=frames, bytes=bytes_in, seconds=t_stop - t_start)


def clients_worker(url: str, n: int, deflate: bool) -> None:
    async def main() -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = [{} for _ in range(n)]
        tasks = []
        for i in range(n):
            tasks.append(asyncio.create_task(_client(url, results[i], deflate)))
            await asyncio.sleep(0.01)
        await asyncio.gather(*tasks)
        return results

    print(json.dumps(asyncio.run(main())), flush=True)


# -- one run --------------------------------------------------------------------------------------
def run_once(args: argparse.Namespace, seed: int) -> dict[str, Any]:
    me = [sys.executable, str(Path(__file__).resolve())]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    flags = ["--deflate"] if args.deflate else []
    cmd = [*me, "--serve", "--molbots", str(args.molbots), "--clients", str(args.clients), *flags]
    server = subprocess.Popen(
        [*cmd, "--seconds", str(args.seconds), "--seed", str(seed)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert server.stdout is not None
    line = server.stdout.readline()
    if not line.startswith("READY "):
        server.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    url = f"ws://127.0.0.1:{int(line.split()[1])}/ws/world-stream?world=petri&token={TOKEN}"
    shares = [
        args.clients // args.client_procs + (i < args.clients % args.client_procs)
        for i in range(args.client_procs)
    ]
    workers = [
        subprocess.Popen(
            [*me, "--worker", url, "--clients", str(n), *flags], stdout=subprocess.PIPE, text=True, env=env
        )
        for n in shares
        if n
    ]
    per_client: list[dict[str, Any]] = []
    for w in workers:
        out, _ = w.communicate(timeout=args.seconds + 180)
        per_client += json.loads(out.strip().splitlines()[-1])
    out, _ = server.communicate(timeout=60)
    stats = json.loads(next(x for x in out.splitlines() if x.startswith("STATS "))[6:])
    rates = [c["frames"] / c["seconds"] for c in per_client if c.get("seconds")]
    mbytes = sum(c["bytes"] for c in per_client) / 1e6
    return {
        "clients": len(per_client),
        "fps_client_median": round(statistics.median(rates), 2),
        "fps_client_min": round(min(rates), 2),
        "mb_per_s_total": round(mbytes / stats["window_s"], 1),
        **stats,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--molbots", type=int, default=10_000)
    ap.add_argument("--client-procs", type=int, default=2, help="client processes sharing the connections")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--deflate", action="store_true", help="permessage-deflate on (browsers offer it)")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "stream.json")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--worker", metavar="URL", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.molbots, args.clients, args.seconds, args.seed, args.deflate)
        return
    if args.worker:
        clients_worker(args.worker, args.clients, args.deflate)
        return
    rows = [run_once(args, seed) for seed in range(args.seed, args.seed + args.repeats)]
    keys = [k for k in rows[0] if isinstance(rows[0][k], int | float)]
    median = {k: statistics.median(r[k] for r in rows) for k in keys}
    budget_ms = 1000 / TICK_HZ
    print(
        f"{'clients':>7} {'molbots':>7} {'fps/cl med':>10} {'fps/cl min':>10} {'dropped':>8} "
        f"{'MB/s':>7} {'ticks/s':>7} {'tick p50':>8} {'tick p95':>8} {'tick max':>8} {'+frame max':>10} "
        f"{'frame ms':>8}  goal"
    )
    for r in [*rows, median] if len(rows) > 1 else rows:
        ok = "met" if r["tick_ms_max"] <= budget_ms and r["ticks_per_s"] >= TICK_HZ - 1 else "MISSED"
        print(
            f"{r['clients']:>7.0f} {r['entities_median']:>7.0f} {r['fps_client_median']:>10.2f} "
            f"{r['fps_client_min']:>10.2f} {r['frames_dropped']:>8.0f} {r['mb_per_s_total']:>7.1f} "
            f"{r['ticks_per_s']:>7.2f} {r['tick_ms_p50']:>8.2f} {r['tick_ms_p95']:>8.2f} "
            f"{r['tick_ms_max']:>8.2f} {r['tick_frame_ms_max']:>10.2f} {r['frame_ms_p50']:>8.3f}  "
            f"max<{budget_ms:.1f}ms: {ok}"
        )
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    runs = f"median of {len(rows)}" if len(rows) > 1 else "one run"
    print(
        f"machine: {machine}; load {load}; {args.seconds:.0f} s windows; deflate {args.deflate}; "
        f"baseline tick p50 "
        f"{median['baseline_tick_ms_p50']:.2f} ms; {runs}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "machine": machine,
        "load_1min_at_end": load,
        "seconds": args.seconds,
        "deflate": args.deflate,
        "tick_hz": TICK_HZ,
        "budget_ms": round(budget_ms, 3),
        "runs": rows,
        "median": median,
    }
    args.out.write_text(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
