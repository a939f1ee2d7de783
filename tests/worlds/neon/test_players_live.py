"""``ouroboros players move`` against a running ``go``: the stuck player, connected over telnet,
is moved at once and told who moved them and why; an unknown room is exit 2 and nothing moves."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from neon_server import CityProcess, Player


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ouroboros", "players", *args], capture_output=True,
                          text=True, timeout=60)  # fmt: skip


def test_an_operator_moves_a_connected_player_from_the_command_line(tmp_path: Path) -> None:
    data = tmp_path / "city"
    city = CityProcess(data)
    try:
        asyncio.run(_session(city.telnet_port, data))
    finally:
        city.stop()


async def _session(port: int, data: Path) -> None:
    alice = await Player.connect(port)
    await alice.expect("create NAME PASSWORD")
    await alice.do("create Alice correct-horse", r"Lantern Plaza")
    bad = await asyncio.to_thread(_cli, "move", "Alice", "neon.room.nowhere", "--data", str(data))
    assert bad.returncode == 2 and bad.stderr.strip().startswith("error: no room"), bad.stderr
    listed = await asyncio.to_thread(_cli, "list", "--data", str(data), "--json")
    assert listed.returncode == 0, listed.stderr
    (me,) = [p for p in json.loads(listed.stdout) if p["name"] == "Alice"]
    assert me["online"] and me["room"] == "neon.room.st_10_10"
    moved = await asyncio.to_thread(
        _cli, "move", "Alice", "neon.room.market_hall_floor", "--data", str(data), "--actor", "sam",
        "--reason", "stuck in a wall",
    )  # fmt: skip
    assert moved.returncode == 0, moved.stderr
    told = await alice.expect(r"An operator \(local:sam\) moves you to [^\n]*\n")
    assert "stuck in a wall" in told
    assert "Market" in await alice.expect(r"Exits: [^\n]*\n")
    assert "You can't go that way" not in await alice.do("look", r"Exits: [^\n]*\n")
    alice.close()
