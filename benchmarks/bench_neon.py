"""neon under load: many telnet players on loopback, each typing commands at a steady pace.

The city runs in its own process (``ouroboros go --world neon`` at its configured 30 ticks a
second); this process opens ``--clients`` telnet connections, creates a character on each, walks
each a few random steps away from the plaza (players spread over the city), then for ``--seconds``
every client sends ``--rate`` commands a second: a timed ``say NONCE`` (latency: from the line
sent until the echo ``You say, "NONCE"`` is read) alternating with an untimed command (look, a
move, score, inventory, who). Reported: command latency p50/p95/p99/max, commands per second, the
ticks per second the city held and its tick time p50/p99 (printed by the server when it stops).
Goal: p99 under 50 ms with the city ticking at its configured rate.

Writes benchmarks/results/neon.json.

    python benchmarks/bench_neon.py [--clients 500] [--seconds 60] [--rate 2] [--repeats 1] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
READY = re.compile(r"telnet 127\.0\.0\.1 (\d+) ")
STATS = re.compile(
    r"ran (\d+) ticks in ([\d.]+) s \(([\d.]+) ticks/s\); tick p50 ([\d.]+) ms, p99 ([\d.]+) ms"
)
MOVES = ["n", "s", "e", "w"]
UNTIMED = ["look", "score", "inventory", "who", "n", "s", "e", "w"]


class Client:
    def __init__(self, name: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.name, self.reader, self.writer = name, reader, writer
        self.buffer = b""

    async def until(self, needle: bytes, timeout: float = 60.0) -> None:
        async with asyncio.timeout(timeout):
            while needle not in self.buffer:
                data = await self.reader.read(65536)
                if not data:
                    raise ConnectionError(f"{self.name}: closed")
                self.buffer += data
                if len(self.buffer) > 1 << 16:  # keep only the tail; needles are short
                    self.buffer = self.buffer[-4096:]
        self.buffer = self.buffer[self.buffer.index(needle) + len(needle) :]

    def send(self, line: str) -> None:
        self.writer.write(line.encode() + b"\r\n")


async def _open(port: int, i: int, gate: asyncio.Semaphore) -> Client:
    async with gate:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        client = Client(f"Bench{_letters(i)}", reader, writer)
        await client.until(b"create NAME PASSWORD")
        client.send(f"create {client.name} benchpass{i}")
        await client.until(b"Exits:")
        return client


def _letters(i: int) -> str:
    out = ""
    for _ in range(4):
        i, r = divmod(i, 26)
        out += chr(ord("a") + r)
    return out


async def _play(client: Client, seconds: float, rate: float, rng: random.Random, out: list[float]) -> None:
    period = 1.0 / rate
    for _ in range(8):  # spread out from the plaza first
        client.send(rng.choice(MOVES))
        await asyncio.sleep(period)
    await asyncio.sleep(rng.random() * period)
    end = time.monotonic() + seconds
    nonce = 0
    next_at = time.monotonic()
    while time.monotonic() < end:
        nonce += 1
        tag = f"{client.name}x{nonce}"
        sent = time.perf_counter()
        client.send(f"say {tag}")
        await client.until(f'You say, "{tag}"'.encode(), timeout=30)
        out.append((time.perf_counter() - sent) * 1e3)
        next_at += period
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        client.send(rng.choice(UNTIMED))
        next_at += period
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))


async def _load(port: int, clients: int, seconds: float, rate: float, seed: int) -> dict:
    gate = asyncio.Semaphore(32)
    started = time.monotonic()
    conns = await asyncio.gather(*(_open(port, i, gate) for i in range(clients)))
    login_s = time.monotonic() - started
    latencies: list[float] = []
    rng = random.Random(seed)
    t0 = time.monotonic()
    await asyncio.gather(*(_play(c, seconds, rate, random.Random(rng.random()), latencies) for c in conns))
    window = time.monotonic() - t0
    for c in conns:
        c.writer.close()
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(len(latencies) * q))]  # noqa: E731
    return {
        "clients": clients,
        "login_s": round(login_s, 1),
        "commands_per_s": round(2 * len(latencies) / max(window - 8 / rate, 1e-9), 1),
        "samples": len(latencies),
        "latency_ms_p50": round(pick(0.50), 2),
        "latency_ms_p95": round(pick(0.95), 2),
        "latency_ms_p99": round(pick(0.99), 2),
        "latency_ms_max": round(latencies[-1], 2),
    }


def run_once(clients: int, seconds: float, rate: float, seed: int, tick_hz: float | None = None) -> dict:
    with tempfile.TemporaryDirectory() as data:
        env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
        server = subprocess.Popen(
            [sys.executable, "-m", "ouroboros", "go", "--world", "neon", "--data", data,
             "--telnet-port", "0", "--ws-port", "0", "--trusted-address", "127.0.0.1",
             *(["--ticks-per-second", str(tick_hz)] if tick_hz else [])],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        assert server.stdout is not None
        port = None
        while port is None:
            line = server.stdout.readline()
            if not line:
                raise SystemExit(f"the city did not start: {server.stderr.read() if server.stderr else ''}")
            if found := READY.search(line):
                port = int(found[1])
        try:
            row = asyncio.run(_load(port, clients, seconds, rate, seed))
        finally:
            server.send_signal(signal.SIGINT)
            out, err = server.communicate(timeout=120)
        stats = STATS.search(out)
        if stats is None:
            raise SystemExit(f"no stats from the server: {out[-500:]} {err[-2000:]}")
        row.update(
            ticks_per_s=float(stats[3]),
            tick_ms_p50=float(stats[4]),
            tick_ms_p99=float(stats[5]),
            ticks=int(stats[1]),
        )
        return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--rate", type=float, default=2.0, help="commands per second per client")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--tick-hz", type=float, default=None, help="pace the city at this rate instead")
    ap.add_argument("--out", type=Path, default=None, help="JSON path (default results/neon.json)")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, seconds: make test runs it")
    args = ap.parse_args()
    if args.quick:
        args.clients, args.seconds, args.repeats = 3, 3.0, 1
    args.out = args.out or REPO / "benchmarks" / "results" / ("quick" if args.quick else "") / "neon.json"
    rows = [
        run_once(args.clients, args.seconds, args.rate, seed, args.tick_hz) for seed in range(args.repeats)
    ]
    keys = [k for k in rows[0] if isinstance(rows[0][k], int | float)]
    median = {k: statistics.median(r[k] for r in rows) for k in keys}
    header = (
        f"{'clients':>8} {'cmd/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'ticks/s':>8} {'tick p50':>9} {'tick p99':>9}   goal"
    )
    print(header)
    for r in [*rows, median] if len(rows) > 1 else rows:
        ok = "met" if r["latency_ms_p99"] < 50 and r["ticks_per_s"] >= 29 else "MISSED"
        latency = " ".join(f"{r[f'latency_ms_{q}']:>8.2f}" for q in ("p50", "p95", "p99", "max"))
        print(
            f"{r['clients']:>8.0f} {r['commands_per_s']:>8.1f} {latency} {r['ticks_per_s']:>8.1f} "
            f"{r['tick_ms_p50']:>9.2f} {r['tick_ms_p99']:>9.2f}   p99<50ms: {ok}"
        )
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"machine: {machine}; {args.seconds:.0f} s at {args.rate}/s per client; "
          f"{'median of ' + str(len(rows)) if len(rows) > 1 else 'one run'}")  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine, "seconds": args.seconds, "rate": args.rate,
                                    "runs": rows, "median": median}, indent=2) + "\n")  # fmt: skip


if __name__ == "__main__":
    main()
