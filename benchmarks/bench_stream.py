"""The live world stream under load, as ``ouroboros go`` serves it: 10,000 molbots to 50 clients.

Mode ``go`` (the product): the server process builds the real ``Runtime``
(``ouroboros.server.runtime``) on a temporary data folder with petri at ``--molbots`` molbots
(``min_population`` keeps it there) and the neon city ticking beside it, the council, director
and petri's optimizer and evolution loop attached as ``go`` attaches them; the real admin API
(``create_app``) is served by uvicorn with ``go``'s own server and config (``cli.go._make_server``:
no per-message deflate, 64 KiB client messages). A viewer is made with ``AuthStore`` and its
token is what the clients present. After the runtime starts, two seconds of ticks with nobody
watching give the baseline; then ``--clients`` connections (``websockets`` library, in
``--client-procs`` processes) open ``/ws/world-stream?world=petri&token=...`` and count the
binary frames each receives between the "start" and "stop" events the runtime's feed sends them
(``--seconds`` apart). The runner's ``after_tick`` hooks (stream hubs, metrics) are timed by two
extra hooks, one first and one last.

Mode ``bare`` (kept for comparison): the same dish ticked by a bare thread that offers frames to
a lone ``StreamHub`` mounted on an empty FastAPI app, no runtime, no auth store, no neon.

Reported per run: frames delivered per second per client (median, min), frames dropped for slow
clients (newest wins), petri's tick rate held, tick time p50/p95/max against the budget (1/30 s),
the tick plus hooks time (what the tick thread spends per tick), encode time per frame, neon's
tick rate (go), and the baseline tick p50. Medians of ``--repeats`` runs per mode. Goal: no tick
slower than its budget while streaming.

Writes benchmarks/results/stream.json.

    python benchmarks/bench_stream.py [--modes go,bare] [--clients 50] [--seconds 10] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BARE_TOKEN = "bench-token"
TICK_HZ = 30
BASELINE_S = 2.0
MODES = ("go", "bare")


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _window_stats(
    window: float, ticks: list[float], busy: list[float], frames: int, encode_s: float, dropped: int
) -> dict[str, Any]:
    budget = 1.0 / TICK_HZ
    return {
        "window_s": round(window, 3),
        "ticks_per_s": round(len(ticks) / window, 2),
        "tick_ms_p50": round(_pct(ticks, 0.5) * 1e3, 3),
        "tick_ms_p95": round(_pct(ticks, 0.95) * 1e3, 3),
        "tick_ms_max": round(max(ticks) * 1e3, 3),
        "ticks_over_budget": sum(1 for t in ticks if t > budget),
        "tick_frame_ms_p95": round(_pct(busy, 0.95) * 1e3, 3),
        "tick_frame_ms_max": round(max(busy) * 1e3, 3),
        "ticks_with_frame_over_budget": sum(1 for t in busy if t > budget),
        "encode_ms_per_frame": round(encode_s / frames * 1e3, 3) if frames else 0.0,
        "frames_published_per_s": round(frames / window, 2),
        "frames_dropped": dropped,
    }


# -- the server process: go's runtime and API -----------------------------------------------------
def serve_go(molbots: int, clients: int, seconds: float, seed: int) -> None:
    from ouroboros.cli.go import _bind, _make_server
    from ouroboros.server.runtime import Runtime, RuntimeOptions

    data = Path(tempfile.mkdtemp(prefix="bench-stream-"))
    try:
        options = RuntimeOptions(
            seed=seed,
            # min_population keeps the dish at ``molbots`` (left alone, a crowded dish starves down)
            world_configs={"petri": {"entities": molbots, "params": {"min_population": molbots}}},
            telnet_port=0,
            ws_port=0,
        )
        runtime = Runtime(data, ("neon", "petri"), options)
        sock = _bind("127.0.0.1", 0, "--port")
        server, _first = _make_server(runtime, sock, ())
        app = server.config.app
        token = app.state.auth.create_user("bench", "viewer", "bench")["token"]
        hub = app.state.hubs["petri"]
        petri, neon = runtime.runner("petri"), runtime.runner("neon")
        tick_s: list[float] = []  # petri's world step alone (the runner's own measure)
        busy_s: list[float] = []  # step + every after_tick hook (stream hub, metrics)
        neon_s: list[float] = []
        entities: list[int] = []
        hooks_from = [0.0]

        def first_hook(world: Any, ms: float) -> None:
            hooks_from[0] = time.perf_counter()

        def last_hook(world: Any, ms: float) -> None:
            tick_s.append(ms / 1e3)
            busy_s.append(ms / 1e3 + time.perf_counter() - hooks_from[0])
            if world.tick % 30 == 0:
                entities.append(world.count("Body"))

        petri.after_tick.insert(0, first_hook)
        petri.after_tick.append(last_hook)
        neon.after_tick.append(lambda world, ms: neon_s.append(ms / 1e3))
        runtime.start()
        marks: dict[str, Any] = {}

        def counters() -> tuple[int, int, float, int, int, float]:
            return (
                len(tick_s),
                hub.frames_published,
                hub.encode_seconds_total,
                hub.frames_dropped,
                len(neon_s),
                time.monotonic(),
            )

        async def conduct() -> None:
            await asyncio.sleep(BASELINE_S)
            marks["baseline"] = list(tick_s)
            port = sock.getsockname()[1]
            print(f"READY {port} {token}", flush=True)
            async with asyncio.timeout(120):
                while len(hub.clients) < clients:
                    await asyncio.sleep(0.05)
            await asyncio.sleep(1.0)  # everyone has had a frame
            start = counters()
            runtime.feed.publish("bench", None, bench="start")
            await asyncio.sleep(seconds)
            end = counters()
            runtime.feed.publish("bench", None, bench="stop")
            marks["window"] = (start, end)
            await asyncio.sleep(1.0)
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
        (t0, p0, e0, d0, n0, s0), (t1, p1, e1, d1, n1, s1) = marks["window"]
        window = s1 - s0
        baseline = marks["baseline"][5:]  # the first ticks warm caches
        neon_ticks = neon_s[n0:n1]
        stats = {
            **_window_stats(window, tick_s[t0:t1], busy_s[t0:t1], p1 - p0, e1 - e0, d1 - d0),
            "entities_median": int(statistics.median(entities)) if entities else 0,
            "baseline_tick_ms_p50": round(_pct(baseline, 0.5) * 1e3, 3),
            "baseline_tick_ms_max": round(max(baseline) * 1e3, 3) if baseline else 0.0,
            "neon_ticks_per_s": round(len(neon_ticks) / window, 2),
            "neon_tick_ms_max": round(max(neon_ticks) * 1e3, 3) if neon_ticks else 0.0,
            "neon_pace_hz": neon.pace,
        }
        print("STATS " + json.dumps(stats), flush=True)
    finally:
        shutil.rmtree(data, ignore_errors=True)


# -- the server process: a bare hub (the comparison row) ------------------------------------------
def serve_bare(molbots: int, clients: int, seconds: float, seed: int) -> None:
    import uvicorn
    from fastapi import FastAPI

    from ouroboros.server.stream import StreamHub, mount_world_stream
    from ouroboros.worlds import build_world

    world = build_world("petri", seed, {"entities": molbots, "params": {"min_population": molbots}})
    world.start()
    hub = StreamHub("petri")
    app = FastAPI()
    mount_world_stream(app, {"petri": hub}, lambda token: "bench" if token == BARE_TOKEN else None)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", ws="websockets-sansio", ws_per_message_deflate=False
    )
    server = uvicorn.Server(config)
    stop = threading.Event()
    tick_s: list[float] = []  # world.step() alone
    busy_s: list[float] = []  # step + frame offer: the tick thread's time per tick
    entities: list[int] = []
    marks: dict[str, Any] = {}

    def tick_loop() -> None:
        period = 1.0 / TICK_HZ
        due = time.monotonic()
        while not stop.is_set():
            t0 = time.perf_counter()
            world.step()
            t1 = time.perf_counter()
            hub.offer(world)
            t2 = time.perf_counter()
            tick_s.append(t1 - t0)
            busy_s.append(t2 - t0)
            if world.tick % 30 == 0:
                entities.append(world.count("Body"))
            due += period
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            elif wait < -period:  # behind by more than a tick: count from now (the rate shows it)
                due = time.monotonic()

    def counters() -> tuple[int, int, float, int, float]:
        return (
            len(tick_s),
            hub.frames_published,
            hub.encode_seconds_total,
            hub.frames_dropped,
            time.monotonic(),
        )

    async def conduct() -> None:
        await asyncio.sleep(BASELINE_S)
        marks["baseline"] = list(tick_s)
        print(f"READY {sock.getsockname()[1]} {BARE_TOKEN}", flush=True)
        async with asyncio.timeout(120):
            while len(hub.clients) < clients:
                await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)
        start = counters()
        hub.publish_feed({"bench": "start"})
        await asyncio.sleep(seconds)
        end = counters()
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
    (t0, p0, e0, d0, s0), (t1, p1, e1, d1, s1) = marks["window"]
    window = s1 - s0
    baseline = marks["baseline"][5:]
    stats = {
        **_window_stats(window, tick_s[t0:t1], busy_s[t0:t1], p1 - p0, e1 - e0, d1 - d0),
        "entities_median": int(statistics.median(entities)) if entities else 0,
        "baseline_tick_ms_p50": round(_pct(baseline, 0.5) * 1e3, 3),
        "baseline_tick_ms_max": round(max(baseline) * 1e3, 3) if baseline else 0.0,
    }
    print("STATS " + json.dumps(stats), flush=True)


# -- the client processes -------------------------------------------------------------------------
async def _client(url: str, out: dict[str, Any]) -> None:
    from websockets.asyncio.client import connect

    counting = False
    frames = bytes_in = 0
    t_start = t_stop = 0.0
    async with connect(url, compression=None, max_size=1 << 23, open_timeout=60) as ws:
        async for message in ws:
            if isinstance(message, bytes):
                if message[:2] != b"BO":  # 0x4F42 little-endian
                    raise RuntimeError("not a world frame")
                if counting:
                    frames += 1
                    bytes_in += len(message)
                continue
            doc = json.loads(message)
            if doc.get("type") == "error":
                raise RuntimeError(f"the server refused the stream: {doc}")
            event = doc.get("event", {})
            if event.get("bench") == "start":
                counting, t_start = True, time.monotonic()
            elif event.get("bench") == "stop":
                t_stop = time.monotonic()
                break
    out.update(frames=frames, bytes=bytes_in, seconds=t_stop - t_start)


def clients_worker(url: str, n: int) -> None:
    async def main() -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = [{} for _ in range(n)]
        tasks = []
        for i in range(n):
            tasks.append(asyncio.create_task(_client(url, results[i])))
            await asyncio.sleep(0.01)
        await asyncio.gather(*tasks)
        return results

    print(json.dumps(asyncio.run(main())), flush=True)


# -- one run --------------------------------------------------------------------------------------
def run_once(args: argparse.Namespace, mode: str, seed: int) -> dict[str, Any]:
    me = [sys.executable, str(Path(__file__).resolve())]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [*me, "--serve", mode, "--molbots", str(args.molbots), "--clients", str(args.clients)]
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
        raise RuntimeError(f"{mode} server did not start: {line!r}")
    _, port, token = line.split()
    url = f"ws://127.0.0.1:{int(port)}/ws/world-stream?world=petri&token={token}"
    shares = [
        args.clients // args.client_procs + (i < args.clients % args.client_procs)
        for i in range(args.client_procs)
    ]
    workers = [
        subprocess.Popen(
            [*me, "--worker", url, "--clients", str(n)], stdout=subprocess.PIPE, text=True, env=env
        )
        for n in shares
        if n
    ]
    per_client: list[dict[str, Any]] = []
    for w in workers:
        out, _ = w.communicate(timeout=args.seconds + 180)
        if w.returncode:
            server.kill()
            raise RuntimeError(f"a client process failed ({w.returncode})")
        per_client += json.loads(out.strip().splitlines()[-1])
    out, _ = server.communicate(timeout=120)
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


def _row(label: str, r: dict[str, Any], budget_ms: float) -> str:
    ok = "met" if r["tick_ms_max"] <= budget_ms and r["ticks_per_s"] >= TICK_HZ - 1 else "MISSED"
    neon = f"{r['neon_ticks_per_s']:>7.2f}" if "neon_ticks_per_s" in r else f"{'-':>7}"
    return (
        f"{label:<11} {r['clients']:>7.0f} {r['entities_median']:>7.0f} {r['fps_client_median']:>10.2f} "
        f"{r['fps_client_min']:>10.2f} {r['frames_dropped']:>8.0f} {r['mb_per_s_total']:>7.1f} "
        f"{r['ticks_per_s']:>7.2f} {r['tick_ms_p50']:>8.2f} {r['tick_ms_p95']:>8.2f} "
        f"{r['tick_ms_max']:>8.2f} {r['tick_frame_ms_max']:>10.2f} {r['encode_ms_per_frame']:>9.3f} {neon}  "
        f"max<{budget_ms:.1f}ms: {ok}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--modes", default="go,bare", help="go (the product), bare (a lone hub), or both")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--molbots", type=int, default=10_000)
    ap.add_argument("--client-procs", type=int, default=2, help="client processes sharing the connections")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="JSON path (default results/stream.json)")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, seconds: make test runs it")
    ap.add_argument("--serve", choices=MODES, help=argparse.SUPPRESS)
    ap.add_argument("--worker", metavar="URL", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick:
        args.clients, args.seconds, args.repeats, args.molbots, args.client_procs = 3, 2.0, 1, 300, 1
    args.out = args.out or REPO / "benchmarks" / "results" / ("quick" if args.quick else "") / "stream.json"
    if args.serve == "go":
        serve_go(args.molbots, args.clients, args.seconds, args.seed)
        return
    if args.serve == "bare":
        serve_bare(args.molbots, args.clients, args.seconds, args.seed)
        return
    if args.worker:
        clients_worker(args.worker, args.clients)
        return
    modes = [m for m in args.modes.split(",") if m]
    if not modes or any(m not in MODES for m in modes):
        ap.error(f"--modes takes {' and/or '.join(MODES)}, comma separated; got {args.modes!r}")
    load_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    results: dict[str, Any] = {}
    for mode in modes:
        rows = [run_once(args, mode, seed) for seed in range(args.seed, args.seed + args.repeats)]
        keys = [k for k in rows[0] if isinstance(rows[0][k], int | float)]
        results[mode] = {"runs": rows, "median": {k: statistics.median(r[k] for r in rows) for k in keys}}
    budget_ms = 1000 / TICK_HZ
    print(
        f"{'mode':<11} {'clients':>7} {'molbots':>7} {'fps/cl med':>10} {'fps/cl min':>10} {'dropped':>8} "
        f"{'MB/s':>7} {'ticks/s':>7} {'tick p50':>8} {'tick p95':>8} {'tick max':>8} {'+hooks max':>10} "
        f"{'encode ms':>9} {'neon t/s':>7}  goal"
    )
    for mode, result in results.items():
        if len(result["runs"]) > 1:
            for i, r in enumerate(result["runs"]):
                print(_row(f"{mode} #{i + 1}", r, budget_ms))
        print(_row(f"{mode} median", result["median"], budget_ms))
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    load_end = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    runs = f"median of {args.repeats}" if args.repeats > 1 else "one run"
    print(
        f"machine: {machine}; 1-min load {load_start} before, {load_end} after; "
        f"{args.seconds:.0f} s windows; {args.molbots} molbots; no deflate; {runs} per mode"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "machine": machine,
        "load_1min_before": load_start,
        "load_1min_after": load_end,
        "seconds": args.seconds,
        "molbots": args.molbots,
        "deflate": False,
        "tick_hz": TICK_HZ,
        "budget_ms": round(budget_ms, 3),
        "modes": results,
    }
    args.out.write_text(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
