"""A scripted stretch of play (two runners over real telnet, bounded in real time, the city paced
fast so five game minutes pass in seconds; and every shop in-process): no line shows a template
brace, every shop's stock can be inspected, bought and then used, worn or wielded, and a runner
idling in the starter district is alive after five game minutes."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from neon_harness import City, path
from neon_server import CityProcess, Player

from ouroboros.worlds import build_world
from ouroboros.worlds.neon.city import slots
from ouroboros.worlds.neon.maps import safe_rooms
from ouroboros.worlds.neon.tables import tables

START = "neon.room.st_10_10"
PACE = 400  # ticks a second; the city's own tick_hz (50) is what game time is counted in


def _vendors() -> list[tuple[str, dict]]:
    t = tables(build_world("neon", 0))
    return sorted((n["spawn_room"], n) for n in t.npcs.values() if n.get("stock"))


def _verb_for(item: dict) -> str | None:
    if item["kind"] == "consumable" and item["stats"].get("heal"):
        return "use"
    if item.get("slot") in ("main_hand", "off_hand"):
        return "wield"
    if item.get("slot"):
        return "wear"
    return None


def test_every_shop_item_can_be_bought_and_then_used_worn_or_wielded() -> None:
    city = City()
    city.enter("Alice")
    t = tables(city.world)
    for room, vendor in _vendors():
        city.world.set(city.player("Alice"), "Place", room=slots(city.world).slot("room", room))
        city.world.set(city.player("Alice"), "Actor", target=0)
        for iid in vendor["stock"]:
            item = t.items[iid]
            city.world.set(city.player("Alice"), "Player", credits=10 * t.price(iid) + 10)  # test's wallet
            seen = city.do("Alice", f"look {item['name']}")
            assert f"{item['name']} (" in seen and "for sale here" in seen, seen
            bought = city.do("Alice", f"buy {item['name']}", ticks=70)  # under the guard's 8 buys a 500 ticks
            assert f"You buy {item['name']}" in bought, bought
            verb = _verb_for(item)
            answer = city.do("Alice", f"{verb or 'use'} {item['name']}")
            if verb is None:
                assert "You can't use" in answer  # junk: a clear answer, nothing breaks
            else:
                assert "You can't" not in answer and "Which item" not in answer, (iid, answer)
            city.do("Alice", f"drop {item['name']}") if verb in ("wear", "wield") else None
        assert "{" not in city.text("Alice")


@pytest.mark.slow
def test_over_telnet_two_runners_play_and_the_idle_one_is_alive_five_minutes_on(tmp_path: Path) -> None:
    city = CityProcess(tmp_path / "data", "--ticks-per-second", str(PACE))
    try:
        seen = asyncio.run(asyncio.wait_for(_play(city.telnet_port), timeout=240))
    finally:
        city.stop()
    assert not re.search(r"[{}]", seen)


async def _play(port: int) -> str:
    alice, bob = await Player.connect(port), await Player.connect(port)
    text = await alice.do("create Alice correct-horse", r"Lantern Plaza")
    text += await bob.do("create Bob battery-staple", r"Lantern Plaza")
    world = build_world("neon", 0)
    here = START
    safe = safe_rooms(tables(world))
    # the shops of the starter district, on foot (a level-1 runner walking the whole city meets
    # what can kill a level-1 runner; every shop's stock is bought and used in-process above)
    for room, vendor in [(r, v) for r, v in _vendors() if r in safe]:
        for direction in path(world, here, room):
            text += await alice.do(direction, r"Exits: [^\n]*\n")
            await asyncio.sleep(0.13)  # under the gateway's 8 lines a second
        here = room
        text += await alice.do("list", r"look ITEM")
        for iid in vendor["stock"]:
            name = tables(world).items[iid]["name"]
            text += await alice.do(f"look {name}", rf"{re.escape(name)} \([^)]*\), for sale here")
            await asyncio.sleep(0.13)
    text += await alice.do("score", r"credits \d+")
    # Bob has stood in the plaza all along: wait for five game minutes on his own clock
    deadline = asyncio.get_running_loop().time() + 200
    while True:
        out = await bob.do("profile", r"(\d+) min in the city, (\d+) death")
        text += out
        minutes, deaths = map(int, re.findall(r"(\d+) min in the city, (\d+) death", out)[-1])
        assert deaths == 0, out
        if minutes >= 5:
            break
        assert asyncio.get_running_loop().time() < deadline, f"the city reached only {minutes} min"
        await asyncio.sleep(2)
    return text
