"""Rollback on a KPI breach: "decision → every shard and player on the target version" (ADR 0017).

Model half, per repeat, on a fresh governed data folder (a real SQLite ledger, fsync on): a
rollout of a validated patch runs at 50 % over ``--shards`` shards with ``--players`` sessions
spread by the router; a window in which the treatment inflates the economy breaches the
threshold. Measured:

- ``decide``: the controller's poll that judges the breaching window and records the rollback —
  the verdict, the ledger transaction (``rollout_window``, ``rollout_rollback``, the patch moved
  to ``rolled_back``) and the mirror file;
- ``reroute``: ``Router.step`` at the next tick boundary — every shard on the patch switched back
  and every session on it moved (the moves the gateway tells its players);
- ``total``: the two together.

End-to-end half: a real runtime as ``ouroboros go --shards neon=N`` builds it (in this process,
neon at ``--pace`` ticks a second), ``--players`` telnet players created over loopback after a
rollout at 50 % put half the shards on a patch (so about half the players are on it). The
rollback is decided on the world's control thread (the driver's ``guard``: the path a breaching
window takes once judged, whose judging the model half measures) and, from that moment:

- ``shards``: until every shard has ticked on the stable version;
- ``answered``: for each player moved, until their next command (sent when they read the line
  that tells them) is answered by the stable version — p50, p99 and the last of them.

Writes benchmarks/results/rollout.json.

    python benchmarks/bench_rollout.py [--shards 4] [--players 200] [--repeats 30] [--e2e-repeats 3]
                                       [--pace 20] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
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


# -- the end-to-end half ------------------------------------------------------------------------------
ROLLED_BACK_LINE = b"a change was rolled back."
PROMPT = b"cr>"


class TelnetPlayer:
    """A player over loopback telnet: raw bytes in, searched for what a player would read."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, name: str) -> None:
        self.reader, self.writer, self.name = reader, writer, name
        self.seen = bytearray()

    @classmethod
    async def create(cls, port: int, name: str) -> TelnetPlayer:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        player = cls(reader, writer, name)
        await player.until(b"create")
        await player.do(f"create {name} correct-horse", b"Exits:")
        return player

    async def until(self, text: bytes, start: int = 0, timeout_s: float = 60.0) -> int:
        """Read until ``text`` shows up after ``start``; the offset just past it."""
        async with asyncio.timeout(timeout_s):
            while (at := self.seen.find(text, start)) < 0:
                data = await self.reader.read(65536)
                if not data:
                    raise SystemExit(f"{self.name}: the connection closed")
                self.seen += data
        return at + len(text)

    async def do(self, line: str, answer: bytes = PROMPT) -> None:
        start = len(self.seen)
        self.writer.write(line.encode() + b"\r\n")
        await self.until(answer, start)

    def close(self) -> None:
        self.writer.close()


def e2e_repeat(runner: Any, repeat: int, players: int) -> dict[str, Any]:
    """One rollout at 50 % with ``players`` on it, rolled back; the times the docstring names."""
    from ouroboros.rollout.analysis import Check

    shards = runner.shards
    verdict = runner.governance.set_params({"start_credits": 50_000 + repeat}, "bench", "a rich start")
    patch = str(verdict["patch_id"])
    plan = parse_plan(
        "50,100",
        window_ticks=10_000_000,  # no window is judged: the decision is the bench's
        min_exposures=1,
        checks=(Check("money_supply_growth_permille", margin=20.0),),
    )
    runner.call(lambda: RolloutService(runner.governor).start(patch, plan, "bench", "bench"))
    deadline = time.monotonic() + 60
    while sum(v == patch for v in shards.fleet_running().values()) != len(shards.names) // 2:
        if time.monotonic() > deadline:
            raise SystemExit("the treatment shards never switched to the patch")
        time.sleep(0.01)
    on_stable: list[float] = []
    decided = threading.Event()

    def after_tick(world: Any, ms: float) -> None:  # on the tick thread, under the world's lock
        stable = all(w.resources.get("gameplay_version") is None for w in shards.worlds)
        if decided.is_set() and not on_stable and stable:
            on_stable.append(time.perf_counter())

    runner.after_tick.append(after_tick)
    port = runner.ports["telnet"]

    async def play() -> dict[str, Any]:
        made: list[TelnetPlayer] = []
        for batch in range(0, players, 20):  # 20 logins at a time (each one scrypt hash)
            names = [f"Bench{_letters(repeat)}{_letters(i)}" for i in range(batch, min(players, batch + 20))]
            made += await asyncio.gather(*(TelnetPlayer.create(port, n) for n in names))
        game = runner.game
        moved = [p for p in made if game.fleet.sessions[p.name].version == patch]
        answered: list[float] = []

        async def react(player: TelnetPlayer) -> None:
            told = await player.until(ROLLED_BACK_LINE, len(player.seen))
            player.writer.write(b"look\r\n")
            await player.until(PROMPT, told)
            answered.append(time.perf_counter())

        watchers = [asyncio.create_task(react(p)) for p in moved]
        await asyncio.sleep(0.2)
        t0 = await asyncio.to_thread(runner.call, decide)
        await asyncio.wait_for(asyncio.gather(*watchers), 60)
        for p in made:
            p.writer.write(b"quit\r\n")
        await asyncio.sleep(0.3)
        for p in made:
            p.close()
        return {"t0": t0, "answered": answered, "moved": len(moved)}

    def decide() -> float:  # on the control thread: the rollback decided, as a breach decides it
        t0 = time.perf_counter()
        decided.set()
        shards._guard("bench_decision")
        return t0

    try:
        out = asyncio.run(play())
    finally:
        runner.after_tick.remove(after_tick)
    deadline = time.monotonic() + 30
    while runner.game.fleet.sessions:
        if time.monotonic() > deadline:
            raise SystemExit("players did not leave")
        time.sleep(0.02)
    t0 = out["t0"]
    waits = sorted((t - t0) * 1e3 for t in out["answered"])
    if not on_stable:
        raise SystemExit("the shards never all ran the stable version")
    return {
        "moved": out["moved"],
        "shards_ms": (on_stable[0] - t0) * 1e3,
        "answered_p50_ms": statistics.median(waits),
        "answered_p99_ms": p99(waits),
        "answered_last_ms": waits[-1],
    }


def _letters(i: int) -> str:
    return "".join(chr(97 + int(d)) for d in f"{i:03d}")


def end_to_end(shards: int, players: int, repeats: int, pace: float) -> list[dict[str, Any]]:
    from ouroboros.server.gateway.session import SessionLimits
    from ouroboros.server.runtime import Runtime, RuntimeOptions

    with tempfile.TemporaryDirectory() as tmp:
        options = RuntimeOptions(
            ticks_per_second=pace,
            telnet_port=0,
            ws_port=0,
            optimizer=False,
            council=False,
            event_log=False,
            input_log=False,
            shards={"neon": shards},
            governance_budgets={**WORLD["budgets"], "human_domains": ["world_params"]},
            session_limits=SessionLimits(trusted_addresses=("127.0.0.1",), max_sessions=players + 10),
        )
        runtime = Runtime(Path(tmp) / "data", ["neon"], options)
        runtime.start()
        try:
            runner = runtime.runner("neon")
            return [e2e_repeat(runner, r, players) for r in range(repeats)]
        finally:
            runtime.stop()


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-99 * len(ordered) // 100) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--players", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--e2e-repeats", type=int, default=3, help="end-to-end rollouts")
    parser.add_argument("--pace", type=float, default=20.0, help="end to end: neon's ticks a second")
    parser.add_argument(
        "--quick", action="store_true", help="3 repeats; end to end: 2 shards, 6 players, once"
    )
    parser.add_argument("--out", type=Path, default=None, help="JSON path")
    args = parser.parse_args()
    repeats = 3 if args.quick else args.repeats
    runs = [one_run(args.shards, args.players) for _ in range(repeats)]
    e2e_shards, e2e_players = (2, 6) if args.quick else (args.shards, args.players)
    e2e_repeats = 1 if args.quick else args.e2e_repeats
    e2e = end_to_end(e2e_shards, e2e_players, e2e_repeats, args.pace)
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
    print(f"bench_rollout: {args.shards} shards, {args.players} sessions, rollback at 50 %, {repeats} runs")
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
    print(f"moved per rollback: {runs[0]['moved']}")
    print(
        f"end to end: go --shards neon={e2e_shards}, {e2e_players} telnet players, neon at {args.pace:g} "
        f"ticks/s, {e2e_repeats} rollbacks; from the decision, in ms (goal {GOAL_MS:.0f} ms p99)"
    )
    print(f"{'rollback':<10}{'moved':>7}{'shards':>10}{'answered p50':>14}{'p99':>10}{'last':>10}")
    for i, r in enumerate(e2e):
        print(
            f"{i + 1:<10}{r['moved']:>7}{r['shards_ms']:>10.1f}{r['answered_p50_ms']:>14.1f}"
            f"{r['answered_p99_ms']:>10.1f}{r['answered_last_ms']:>10.1f}"
        )
    results = REPO / "benchmarks" / "results" / ("quick" if args.quick else "")
    out = args.out or results / "rollout.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "benchmark": "rollout",
                "scope": "model: decision to routing table; end_to_end: decision to every shard on the "
                "stable version and every moved player's next command answered by it",
                "shards": args.shards,
                "players": args.players,
                "repeats": repeats,
                "machine": machine,
                "load_average": load,
                "goal_ms_p99_end_to_end": GOAL_MS,
                "summary": summary,
                "runs": runs,
                "end_to_end": {
                    "shards": e2e_shards,
                    "players": e2e_players,
                    "pace_hz": args.pace,
                    "rollbacks": e2e,
                },
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
