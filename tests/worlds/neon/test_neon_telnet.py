"""The city over a real telnet connection, in a real server process, across a restart."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from neon_harness import path
from neon_server import CityProcess, Player
from websockets.asyncio.client import connect

from ouroboros.worlds import build_world

START = "neon.room.st_10_10"


def _route(start: str, goal: str) -> list[str]:
    return path(build_world("neon", 0), start, goal)


async def _walk(player: Player, start: str, goal: str) -> None:
    for direction in _route(start, goal):
        await player.do(direction, r"Exits: [^\n]*\n")
        await asyncio.sleep(0.13)  # a brisk walker, under the gateway's 8 lines a second


def test_a_scripted_session_survives_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "city"
    city = CityProcess(data)
    try:
        credits, room = asyncio.run(_first_session(city.telnet_port))
    finally:
        printed = city.stop()
    # go keeps each world in its own governed folder: the city under DATA/neon/
    assert "saved the city" in printed and (data / "neon" / "neon.db").is_file()
    assert not (data / "neon.db").exists()

    city = CityProcess(data)
    try:
        assert "resuming the city" in "".join(city.lines)
        asyncio.run(_second_session(city.telnet_port, credits, room))
    finally:
        city.stop()


async def _first_session(port: int) -> tuple[int, list[str]]:
    """Create, talk, take a job and finish it, buy, wield, fight, flee, quit: Alice's credits and
    the room she quit in (title, description, exits)."""
    alice = await Player.connect(port)
    await alice.expect("create NAME PASSWORD")
    await alice.do("create Alice correct-horse", r"Lantern Plaza")
    bob = await Player.connect(port)
    await bob.do("create Bob battery-staple", r"Lantern Plaza")
    # two players in one room see each other's says
    await alice.do("say hello runner", r'You say, "hello runner"')
    await bob.expect(r'Alice says, "hello runner"')
    # a job: the fixer's den, accept, walk to the market hall: done, paid
    await _walk(alice, START, "neon.room.fixer_den_booth")
    await alice.do("talk kestrel", r"Jobs on offer")
    await alice.do("quest accept street legs", r"Job accepted")
    await _walk(alice, "neon.room.fixer_den_booth", "neon.room.market_hall_floor")
    await alice.expect(r"Job done: [^\n]*\n")
    await alice.expect(r"You are paid (\d+) credits")
    # shopping: a switchblade, wielded
    await _walk(alice, "neon.room.market_hall_floor", "neon.room.weapon_shop_showroom")
    await alice.do("buy switchblade", r"You buy Switchblade for \d+ credits")
    await alice.do("wield switchblade", r"You wield Switchblade")
    # a fight, which Bob (standing next to her) sees too
    await _walk(alice, "neon.room.weapon_shop_showroom", "neon.room.helix_tower_lobby")
    await _walk(bob, START, "neon.room.helix_tower_lobby")
    await alice.do("attack officer", r"You attack")
    await alice.expect(r"(hits|misses) [^\n]*\n", timeout=20)
    await bob.expect(r"Alice (attacks|hits|misses)", timeout=20)
    for _ in range(20):
        out = await alice.do("flee", r"(You flee!|You can't get away!|You aren't fighting)")
        if "can't get away" not in out:
            break
        await asyncio.sleep(0.2)
    score = await alice.do("score", r"credits (\d+)")
    room = await alice.do("look", r"Exits: [^\n]*\n")
    await alice.do("quit", r"jack out")
    bob.close()
    return int(score.rsplit("credits ", 1)[1]), room.strip().split("\n")[-3:]


async def _second_session(port: int, credits: int, room: list[str]) -> None:
    """After the restart: the password still guards her, and all she had is there."""
    alice = await Player.connect(port)
    await alice.expect("create NAME PASSWORD")
    await alice.do("connect Alice wrong-password", r"(?i)(wrong|no such|incorrect|invalid)[^\n]*")
    back = await alice.do("connect Alice correct-horse", r"Exits: [^\n]*\n")
    assert back.strip().split("\n")[-3:] == room
    inventory = await alice.do("inventory", r"Credits: (\d+)")
    assert "Switchblade (wielded)" in inventory
    assert int(inventory.rsplit("Credits: ", 1)[1]) == credits
    quests = await alice.do("quest list", r"Done: [^\n]*\n")
    assert "Street Legs" in quests or "street legs" in quests.lower()
    alice.close()


def test_the_same_city_over_websocket_json_frames(tmp_path: Path) -> None:
    city = CityProcess(tmp_path / "city")
    try:
        asyncio.run(_web_session(city.ws_port, city.telnet_port))
    finally:
        city.stop()


async def _web_session(ws_port: int, telnet_port: int) -> None:
    async with connect(f"ws://127.0.0.1:{ws_port}/") as ws:

        async def until(match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
            async with asyncio.timeout(15):
                while True:
                    event = json.loads(await ws.recv())
                    if match(event):
                        return event

        await ws.send(json.dumps({"type": "line", "line": "create Carol neonlight"}))
        room = await until(lambda e: e.get("type") == "gmcp" and e.get("package") == "Room.Info")
        assert room["data"]["id"] == START and "n" in room["data"]["exits"]
        await ws.send("not json at all")
        error = await until(lambda e: e.get("type") == "error")
        assert error["code"] == "bad_json"
        # a telnet player in the same room hears the web player
        dave = await Player.connect(telnet_port)
        await dave.do("create Dave telnetpass", r"Lantern Plaza")
        await ws.send(json.dumps({"type": "line", "line": "say from the browser"}))
        said = await until(lambda e: e.get("type") == "text" and "You say" in e.get("text", ""))
        assert said["style"] == "say"
        await dave.expect(r'Carol says, "from the browser"')
        dave.close()
