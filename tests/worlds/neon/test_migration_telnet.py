"""The stranded player, over a real telnet connection to a real ``ouroboros go``: a player walks
into a room of an approved expansion, the expansion is rolled back (through the ledger of the
running city's folder), and the player is moved out, told why, and walks on."""

from __future__ import annotations

import asyncio
import copy
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from neon_harness import path
from neon_server import CityProcess, Player
from tests.patches.conftest import make_bundle

from ouroboros.ai.generators import generate
from ouroboros.patches import Governor, State
from ouroboros.patches.activation import MIGRATION_ENTRY
from ouroboros.worlds import build_world

START = "neon.room.st_10_10"
ROAD_START = "neon.room.st_18_19"  # the expansion of seed 3 grows north from here, four rooms deep
EXPANSION = generate("WORLD_EXPANSION", 3).payload


def test_a_player_stranded_by_a_rollback_is_moved_out_told_why_and_walks_on(tmp_path: Path) -> None:
    data = tmp_path / "city"
    city = CityProcess(data)
    try:
        moved = asyncio.run(_stranded(city.telnet_port, data / "neon"))
    finally:
        city.stop()
    assert moved == [{"who": "Alice", "kind": "player", "from": moved[0]["from"], "to": ROAD_START}]
    assert moved[0]["from"].startswith("neon.gen.room.")


async def _stranded(port: int, folder: Path) -> list[dict[str, Any]]:
    # the governor's SQLite connections belong to one thread: every call to it runs on this one
    gov_thread = ThreadPoolExecutor(max_workers=1)
    loop = asyncio.get_running_loop()

    async def on_gov(fn: Any, *args: Any) -> Any:
        return await loop.run_in_executor(gov_thread, fn, *args)

    gov: Governor = await on_gov(lambda: Governor(folder))
    try:
        await on_gov(lambda: gov.new_key("op", ["*"]))
        alice = await Player.connect(port)
        await alice.expect("create NAME PASSWORD")
        await alice.do("create Alice correct-horse", r"Lantern Plaza")

        doc = await on_gov(lambda: make_bundle(gov, copy.deepcopy(EXPANSION), gov.local_key("op")))
        verdict = await on_gov(lambda: gov.submit(doc))
        assert verdict.state == State.ACTIVE, verdict.reasons
        await alice.expect(r"New ground opens in the city", timeout=30)

        for direction in path(build_world("neon", 0), START, ROAD_START):
            await alice.do(direction, r"Exits: [^\n]*\n")
            await asyncio.sleep(0.13)  # a brisk walker, under the gateway's 8 lines a second
        for _ in range(4):  # up the new road to its end
            seen = await alice.do("n", r"Exits: [^\n]*\n")
            await asyncio.sleep(0.13)
        assert seen.rstrip().endswith("Exits: south"), seen

        await on_gov(lambda: gov.rollback("operator", "the new road is unsafe"))
        told = await alice.expect(r"Exits: [^\n]*\n", timeout=30)
        assert "is gone (the city was rolled back). You find yourself elsewhere." in told
        assert "Exits: south, east, west" in told  # st_18_19 without its new north exit
        walked = await alice.do("s", r"Exits: [^\n]*\n")
        assert "You can't go that way" not in walked
        await alice.do("quit", r"jack out")

        async def recorded() -> list[Any]:
            deadline = loop.time() + 60  # the control thread may be busy with the council
            while loop.time() < deadline:
                entries = await on_gov(lambda: gov.ledger.entries(kind=MIGRATION_ENTRY))
                if len(entries) >= 2:
                    return list(entries)
                await asyncio.sleep(0.1)
            raise AssertionError("no migration entry for the rollback in the ledger")

        entries = await recorded()
        assert entries[-1].after is None and entries[-1].before == doc["patch_id"]
        return list(entries[-1].evidence["moved"])
    finally:
        await on_gov(gov.close)
        gov_thread.shutdown(wait=True)
