"""neon while five telnet connections flood it with negotiation bytes (``IAC NOP``).

The city runs in its own process (``ouroboros go --world neon`` at ``--tick-hz``, 50 by default).
One player logs in over telnet and sends a timed ``say NONCE`` every 100 ms (round trip: from the
line sent until ``You say, "NONCE"`` is read back). The city's tick is read from the admin API
every 100 ms. Three phases: ``--calm`` seconds, then ``--flood`` seconds in which a separate
process keeps five unauthenticated connections sending ``IAC NOP`` as fast as the socket takes
it (a dropped or refused flooder reconnects after 50 ms), then ``--after`` seconds.

Reported per phase: ticks/s (from the tick counter over the phase), say round trip p50/p99/max;
and the recovery time: how long after the flooders stop until every following one-second window
ticks at 45/s or more. Goal: >= 45 ticks/s and say p99 < 50 ms during the flood, recovery <= 1 s.

Writes benchmarks/results/telnet_flood.json.

    python benchmarks/bench_telnet_flood.py [--quick] [--tick-hz 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
API = re.compile(r"dashboard and API at http://127\.0\.0\.1:(\d+)/")
TELNET = re.compile(r"telnet 127\.0\.0\.1 (\d+) ")
SECRET = re.compile(r"one-time secret (\S+)")
IAC_NOP = bytes((255, 241))
FLOODERS = 5
GOAL_TICKS, GOAL_P99_MS, GOAL_RECOVERY_S = 45.0, 50.0, 1.0


# -- the flooder process ---------------------------------------------------------------------------
async def _flood_slot(port: int, until: float, stats: dict[str, int]) -> None:
    chunk = IAC_NOP * 2048
    while time.monotonic() < until:
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        stats["connections"] += 1
        try:
            while time.monotonic() < until:
                writer.write(chunk)
                await asyncio.wait_for(writer.drain(), max(0.01, until - time.monotonic()))
                stats["bytes"] += len(chunk)
        except (OSError, TimeoutError):
            pass
        finally:
            writer.close()
        await asyncio.sleep(0.05)  # dropped or refused: come back


async def _flood(port: int, seconds: float) -> dict[str, int]:
    stats = {"connections": 0, "bytes": 0}
    until = time.monotonic() + seconds
    await asyncio.gather(*(_flood_slot(port, until, stats) for _ in range(FLOODERS)))
    return stats


# -- the measuring side ----------------------------------------------------------------------------
async def _until(
    reader: asyncio.StreamReader, buffer: bytearray, needle: bytes, timeout: float = 30.0
) -> None:
    async with asyncio.timeout(timeout):
        while needle not in buffer:
            data = await reader.read(65536)
            if not data:
                raise ConnectionError("the city closed the player's connection")
            buffer += data
    del buffer[: buffer.index(needle) + len(needle)]


async def _player(port: int, stop: asyncio.Event, says: list[tuple[float, float]]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    buffer = bytearray()
    await _until(reader, buffer, b"create NAME PASSWORD")
    writer.write(b"create Floodwatch benchpass1\r\n")
    await _until(reader, buffer, b"Exits:")
    nonce = 0
    while not stop.is_set():
        nonce += 1
        tag = f"fw{nonce}x"
        sent = time.perf_counter()
        writer.write(f"say {tag}\r\n".encode())
        await _until(reader, buffer, f'You say, "{tag}"'.encode())
        says.append((time.monotonic(), (time.perf_counter() - sent) * 1e3))
        await asyncio.sleep(0.1)
    writer.close()


async def _ticks(api_port: int, secret: str, stop: asyncio.Event, samples: list[tuple[float, int]]) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=30) as http:
        token = (await http.post("/api/auth/login", json={"secret": secret})).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        while not stop.is_set():
            state = (await http.get("/api/world/state?world=neon", headers=headers)).json()
            samples.append((time.monotonic(), int(state["tick"])))
            await asyncio.sleep(0.1)


def _rate(samples: list[tuple[float, int]], start: float, end: float) -> float:
    inside = [s for s in samples if start <= s[0] <= end]
    if len(inside) < 2:
        return 0.0
    return (inside[-1][1] - inside[0][1]) / max(1e-9, inside[-1][0] - inside[0][0])


def _quantiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(len(ordered) * q))]  # noqa: E731
    return {"p50": round(pick(0.5), 2), "p99": round(pick(0.99), 2), "max": round(ordered[-1], 2)}


def _recovery_s(samples: list[tuple[float, int]], flood_end: float, end: float) -> float | None:
    """Seconds after ``flood_end`` until every following 1-s window ticks at the goal."""
    starts = [t for t, _ in samples if flood_end <= t <= end - 1.0]
    for t in starts:
        if all(_rate(samples, u, u + 1.0) >= GOAL_TICKS for u in starts if u >= t):
            return round(t - flood_end, 2)
    return None


async def _measure(
    api_port: int, telnet_port: int, secret: str, calm: float, flood: float, after: float
) -> dict[str, Any]:
    stop = asyncio.Event()
    says: list[tuple[float, float]] = []
    samples: list[tuple[float, int]] = []
    tasks = [
        asyncio.create_task(_player(telnet_port, stop, says)),
        asyncio.create_task(_ticks(api_port, secret, stop, samples)),
    ]
    async with asyncio.timeout(60):
        while not says or len(samples) < 2:
            await asyncio.sleep(0.05)
    t0 = time.monotonic()
    await asyncio.sleep(calm)
    flood_start = time.monotonic()
    flooder = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--flooder", str(telnet_port), str(flood), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await flooder.communicate()
    flood_end = time.monotonic()
    await asyncio.sleep(after)
    end = time.monotonic()
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    phases = {"calm": (t0, flood_start), "flood": (flood_start + 0.5, flood_end), "after": (flood_end, end)}
    row: dict[str, Any] = {}
    for name, (a, b) in phases.items():
        q = _quantiles([ms for t, ms in says if a <= t <= b])
        row[name] = {"ticks_per_s": round(_rate(samples, a, b), 1), "say_ms": q}
    row["recovery_s"] = _recovery_s(samples, flood_end, end)
    row["flooders"] = json.loads(out.decode() or "{}")
    return row


def run(tick_hz: float, calm: float, flood: float, after: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as data:
        env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
        server = subprocess.Popen(
            [sys.executable, "-m", "ouroboros", "go", "--world", "neon", "--data", data, "--port", "0",
             "--telnet-port", "0", "--ws-port", "0", "--ticks-per-second", str(tick_hz), "--no-browser"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        assert server.stdout is not None
        found: dict[str, str] = {}
        while len(found) < 3:
            line = server.stdout.readline()
            if not line:
                raise SystemExit(f"the city did not start: {server.stderr.read() if server.stderr else ''}")
            for key, pattern in (("api", API), ("telnet", TELNET), ("secret", SECRET)):
                if match := pattern.search(line):
                    found[key] = match[1]
        try:
            return asyncio.run(
                _measure(int(found["api"]), int(found["telnet"]), found["secret"], calm, flood, after)
            )
        finally:
            server.send_signal(signal.SIGINT)
            server.communicate(timeout=120)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--flooder":
        print(json.dumps(asyncio.run(_flood(int(sys.argv[2]), float(sys.argv[3])))))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 s calm, 5 s flood, 3 s after")
    ap.add_argument("--tick-hz", type=float, default=50.0)
    ap.add_argument("--out", type=Path, default=None, help="JSON path (default results/telnet_flood.json)")
    args = ap.parse_args()
    # --quick never writes over the published figures
    results = REPO / "benchmarks" / "results" / ("quick" if args.quick else "")
    args.out = args.out or results / "telnet_flood.json"
    calm, flood, after = (3.0, 5.0, 3.0) if args.quick else (5.0, 10.0, 5.0)
    row = run(args.tick_hz, calm, flood, after)
    print(f"{'phase':>8} {'ticks/s':>8} {'say p50':>8} {'say p99':>8} {'say max':>8}")
    for name in ("calm", "flood", "after"):
        p = row[name]
        q = p["say_ms"]
        print(f"{name:>8} {p['ticks_per_s']:>8.1f} {q['p50']:>8.2f} {q['p99']:>8.2f} {q['max']:>8.2f}")
    flood_ok = row["flood"]["ticks_per_s"] >= GOAL_TICKS and row["flood"]["say_ms"]["p99"] < GOAL_P99_MS
    recovery = row["recovery_s"]
    recovered = recovery is not None and recovery <= GOAL_RECOVERY_S
    print(
        f"recovery after the flood: {recovery} s; flooders: {row['flooders']}; goal (>= 45 ticks/s, "
        f"say p99 < 50 ms, recovery <= 1 s): {'met' if flood_ok and recovered else 'MISSED'}"
    )
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(
        f"machine: {machine}; load {load}; tick rate {args.tick_hz}/s; {calm:.0f}/{flood:.0f}/{after:.0f} s"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "machine": machine,
        "load_1m": load,
        "tick_hz": args.tick_hz,
        "seconds": [calm, flood, after],
        **row,
    }
    args.out.write_text(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
