"""Jobs through workers on Redis Streams: throughput and latency with 1 and 2 worker processes,
and the recovery time after a worker is killed with SIGKILL mid-job.

Each row runs on a private ``redis-server`` (a unix socket, no persistence) started here:

- ``gen jobs, W workers``: ``--jobs`` generation jobs (the council's NPC generator, the same work
  ``ouroboros worker gen`` does) submitted at once; throughput is jobs / (first submit → last
  result) and latency is submit → result written, per job (p50, p99).
- ``recovery after SIGKILL``: a worker holding a job (a 30 s job) is killed; the other worker's
  janitor, on its timer, hands the job on: the time from the kill to the job's result (its lease
  plus the janitor's period bound it: ``--lease-s`` and ``--janitor-every-s``).

- ``players, S shards``: ``--players`` telnet clients over S neon shard processes, each typing
  ``look`` twice a second for ``--seconds``; latency is the line sent → the answer's exits line
  received (p50, p99), all clients together. With 2 shards twice, side by side: a gateway process
  per shard (clients spread over their ports), and one gateway for the world in front of both
  (``gateway --world neon --shards 2``, as ``cluster up`` starts it: it routes each login).
- ``soft restart``: the same clients on one shard, which is restarted (SIGTERM: it saves, a new
  process loads the city); the longest a player waited for an answer across the restart, and the
  connections lost (goal: < 2 s, none).

Medians over ``--repeats``. Writes benchmarks/results/cluster.json (``--quick``: tiny, under
results/quick/).

    python benchmarks/bench_cluster.py [--jobs 400] [--players 200] [--seconds 20] [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from ouroboros.cluster.redis_queue import RedisJobQueue  # noqa: E402
from ouroboros.cluster.redis_server import RedisServer  # noqa: E402

WORKER = """
import pathlib, sys, threading, time
from ouroboros.ai.jobs import HANDLERS
from ouroboros.cluster import Janitor, Worker
from ouroboros.cluster.redis_queue import RedisJobQueue

url, name, lease, every, marks = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
queue = RedisJobQueue(url, ("gen", "hold"))

def hold(payload):
    pathlib.Path(marks, name + "-" + payload["tag"]).write_text("")
    time.sleep(payload["s"])
    return {"by": name}

stop = threading.Event()
threading.Thread(target=Janitor(queue, idle_s=lease, every_s=every).run, args=(stop,), daemon=True).start()
Worker(queue, {"gen": HANDLERS["gen"], "hold": hold}, name, lease_s=lease / 2).run(stop, wait_s=0.05)
"""


def start_workers(
    url: str, n: int, lease_s: float, every_s: float, marks: Path, first: int = 0
) -> list[subprocess.Popen[bytes]]:
    script = marks / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return [
        subprocess.Popen(
            [sys.executable, str(script), url, f"w{i}", str(lease_s), str(every_s), str(marks)], env=env
        )
        for i in range(first, first + n)
    ]


def wait_for(check, timeout_s: float = 120.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError("the cluster did not answer in time")
        time.sleep(0.001)


def jobs_row(workers: int, jobs: int) -> dict[str, float]:
    server = RedisServer().start()
    marks = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    procs = start_workers(server.url, workers, 10.0, 1.0, marks)
    queue = RedisJobQueue(server.url, ("gen", "hold"))
    try:
        # warm up: every worker has imported and served one job
        for i in range(workers * 2):
            queue.submit("gen", {"type": "NPC", "seed": 10_000 + i, "world": "neon"}, f"warm-{i}")
        wait_for(lambda: queue.stats().results >= workers * 2)
        cursor, _ = queue.results_since("", 10_000)
        submitted: dict[str, float] = {}
        t0 = time.perf_counter()
        for i in range(jobs):
            key = f"job-{i}"
            submitted[key] = time.perf_counter()
            queue.submit("gen", {"type": "NPC", "seed": i, "world": "neon"}, key)
        done: dict[str, float] = {}
        while len(done) < jobs:
            cursor, rows = queue.results_since(cursor, 1000)
            now = time.perf_counter()
            for key, _ in rows:
                done.setdefault(key, now)
            if not rows:
                time.sleep(0.001)
        wall = max(done.values()) - t0
        lat = sorted((done[k] - submitted[k]) * 1000 for k in submitted)
        return {
            "jobs_per_s": jobs / wall,
            "p50_ms": lat[len(lat) // 2],
            "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
        }
    finally:
        for p in procs:
            p.kill()
            p.wait()
        queue.close()
        server.stop()


def recovery_row(lease_s: float, every_s: float) -> dict[str, float]:
    server = RedisServer().start()
    marks = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    procs = start_workers(server.url, 1, lease_s, every_s, marks)
    queue = RedisJobQueue(server.url, ("gen", "hold"))
    try:
        queue.submit("hold", {"tag": "a", "s": 30.0}, "held")
        wait_for(lambda: (marks / "w0-a").exists())
        procs += start_workers(server.url, 1, lease_s, every_s, marks, first=1)  # the rescuer, w1
        # the rescuer must be up (it has imported) before the kill, or its start is measured too
        queue.submit("gen", {"type": "NPC", "seed": 1, "world": "neon"}, "ping")
        wait_for(lambda: queue.result("ping"))
        # the held job now takes 30 s wherever it runs: measure until the rescuer *starts* it
        killed = time.perf_counter()
        procs[0].send_signal(signal.SIGKILL)
        wait_for(lambda: (marks / "w1-a").exists())
        return {"recovery_s": time.perf_counter() - killed}
    finally:
        for p in procs:
            p.kill()
            p.wait()
        queue.close()
        server.stop()


class Proc:
    """An ``ouroboros`` child process whose stderr is read on a thread."""

    def __init__(self, args: list[str]) -> None:
        self.args = args
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        argv = [sys.executable, "-m", "ouroboros", *args]
        self.popen = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.popen.stderr is not None
        for line in self.popen.stderr:
            self.lines.append(line)

    def wait_for(self, text: str) -> str:
        return wait_for(lambda: next((x for x in self.lines if text in x), None))  # type: ignore[no-any-return]

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            self.popen.wait(60)


def start_shard(url: str, data: Path, i: int) -> Proc:
    shard = Proc(["shard", f"neon:{i}", "--redis", url, "--data", str(data)])
    shard.wait_for("boot")
    return shard


def start_cluster(
    url: str, data: Path, shards: int, one_gateway: bool = False
) -> tuple[list[Proc], list[int]]:
    """S neon shards and their gateways: one per shard (``--shard``), or one for the world in front
    of them all, routing each login (``--world neon --shards S``, as ``cluster up`` starts it)."""
    procs, ports = [], []
    common = ["--telnet-port", "0", "--ws-port", "0", "--redis", url, "--data", str(data),
              "--trusted-address", "127.0.0.1"]  # fmt: skip
    for i in range(shards):
        procs.append(start_shard(url, data, i))
        if not one_gateway:
            gw = Proc(["gateway", "--shard", f"neon:{i}", *common])
            procs.append(gw)
            ports.append(json.loads(gw.wait_for("gateway ").split(": ", 1)[1])["telnet"])
    if one_gateway:
        gw = Proc(["gateway", "--world", "neon", "--shards", str(shards), *common])
        procs.append(gw)
        ports.append(json.loads(gw.wait_for('"telnet"').split(": ", 1)[1])["telnet"])
    return procs, ports


async def _until_exits(reader: asyncio.StreamReader) -> None:
    while b"Exits" not in await reader.readline():
        pass


async def _players(ports: list[int], players: int, seconds: float, during=None) -> tuple[list[float], int]:  # type: ignore[no-untyped-def]
    """Every player logs in; once all are in, each types ``look`` twice a second for ``seconds``
    (``during`` runs half-way through). Returns the answer latencies (ms) and connections lost."""
    latencies: list[float] = []
    lost = [0]
    logged = [0]
    all_in = asyncio.Event()

    async def one(i: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", ports[i % len(ports)])
        try:
            await asyncio.wait_for(reader.readuntil(b"PASSWORD"), 120)
            name = "runner" + "".join(chr(97 + int(d)) for d in f"{i:04d}")  # names are letters
            writer.write(f"create {name} password99\r\n".encode())
            await asyncio.wait_for(_until_exits(reader), 300)
            logged[0] += 1
            if logged[0] == players:
                all_in.set()
            await all_in.wait()
            until = time.monotonic() + seconds
            while time.monotonic() < until:
                sent = time.monotonic()
                writer.write(b"look\r\n")
                await asyncio.wait_for(_until_exits(reader), 60)
                latencies.append((time.monotonic() - sent) * 1000)
                await asyncio.sleep(max(0.0, sent + 0.5 - time.monotonic()))
        except (OSError, asyncio.IncompleteReadError, TimeoutError):
            lost[0] += 1
            if not all_in.is_set():
                logged[0] += 1
                if logged[0] == players:
                    all_in.set()
        finally:
            writer.close()

    async def middle() -> None:
        await all_in.wait()
        await asyncio.sleep(seconds / 2)
        await asyncio.to_thread(during)

    tasks = [one(i) for i in range(players)] + ([middle()] if during is not None else [])
    await asyncio.gather(*tasks)
    return latencies, lost[0]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


def players_row(shards: int, players: int, seconds: float, one_gateway: bool = False) -> dict[str, float]:
    server = RedisServer().start()
    data = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    procs, ports = start_cluster(server.url, data, shards, one_gateway)
    try:
        lat, lost = asyncio.run(_players(ports, players, seconds))
        return {"p50_ms": _pct(lat, 0.5), "p99_ms": _pct(lat, 0.99), "commands_per_s": len(lat) / seconds,
                "lost": lost}  # fmt: skip
    finally:
        for p in procs:
            p.stop()
        server.stop()


def soft_restart_row(players: int, seconds: float) -> dict[str, float]:
    server = RedisServer().start()
    data = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    procs, ports = start_cluster(server.url, data, 1)

    def restart() -> None:
        # as cluster up does it: the successor starts first (imports, waits for the lease), then
        # the shard is stopped (SIGTERM: it saves and lets go), and the successor loads and serves
        successor = Proc(["shard", "neon:0", "--redis", server.url, "--data", str(data)])
        time.sleep(3.0)  # let it import: what a player would otherwise wait for
        procs[0].stop()
        successor.wait_for("boot")
        procs[0] = successor

    try:
        lat, lost = asyncio.run(_players(ports, players, seconds, during=restart))
        return {"longest_gap_s": max(lat) / 1000 if lat else float("nan"), "lost": lost}
    finally:
        for p in procs:
            p.stop()
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=400)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--lease-s", type=float, default=2.0)
    ap.add_argument("--janitor-every-s", type=float, default=0.5)
    ap.add_argument("--players", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--quick", action="store_true", help="40 jobs, 6 players for 4 s, one repeat")
    ap.add_argument("--out", type=Path, default=None, help="JSON path (default results/cluster.json)")
    args = ap.parse_args()
    results = REPO / "benchmarks" / "results" / ("quick" if args.quick else "")
    args.out = args.out or results / "cluster.json"
    if args.quick:
        args.jobs, args.repeats, args.lease_s, args.janitor_every_s = 40, 1, 1.0, 0.2
        args.players, args.seconds = 6, 4.0
    rows: dict[str, dict[str, float]] = {}
    for workers in (1, 2):
        runs = [jobs_row(workers, args.jobs) for _ in range(args.repeats)]
        rows[f"gen jobs, {workers} worker{'s' if workers > 1 else ''}"] = {
            k: statistics.median(r[k] for r in runs) for k in runs[0]
        }
    runs = [recovery_row(args.lease_s, args.janitor_every_s) for _ in range(args.repeats)]
    recovery = statistics.median(r["recovery_s"] for r in runs)
    players: dict[str, dict[str, float]] = {}
    for shards, one_gateway, what in ((1, False, "1 shard"), (2, False, "2 shards, a gw each"),
                                      (2, True, "2 shards, one gw")):  # fmt: skip
        pruns = [players_row(shards, args.players, args.seconds, one_gateway) for _ in range(args.repeats)]
        row = {k: statistics.median(r[k] for r in pruns) for k in pruns[0]}
        players[f"{args.players} players, {what}"] = row
    sruns = [soft_restart_row(args.players, args.seconds) for _ in range(args.repeats)]
    soft = {k: statistics.median(r[k] for r in sruns) for k in sruns[0]}
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    load = os.getloadavg()[0]
    print(f"{'row':<22}{'jobs/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for name, r in rows.items():
        print(f"{name:<22}{r['jobs_per_s']:>10.1f}{r['p50_ms']:>10.1f}{r['p99_ms']:>10.1f}")
    print(f"\n{'row':<34}{'cmd/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'lost':>6}")
    for name, r in players.items():
        print(
            f"{name:<34}{r['commands_per_s']:>10.1f}{r['p50_ms']:>10.1f}{r['p99_ms']:>10.1f}{r['lost']:>6.0f}"
        )
    print(
        f"soft restart, {args.players} players: longest wait for an answer {soft['longest_gap_s']:.2f} s "
        f"(goal < 2 s), connections lost {soft['lost']:.0f}"
    )
    print(
        f"recovery after SIGKILL: {recovery:.2f} s (lease {args.lease_s:g} s, janitor every "
        f"{args.janitor_every_s:g} s; bound {args.lease_s + args.janitor_every_s:g} s)"
    )
    print(f"machine: {machine}; load average {load:.2f}; medians of {args.repeats}")
    doc = {
        "machine": machine,
        "load_average": load,
        "jobs": args.jobs,
        "repeats": args.repeats,
        "rows": rows,
        "recovery_s": recovery,
        "players": players,
        "soft_restart": soft,
        "players_n": args.players,
        "seconds": args.seconds,
        "lease_s": args.lease_s,
        "janitor_every_s": args.janitor_every_s,
        "quick": args.quick,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
