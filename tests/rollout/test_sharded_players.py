"""The operator's player tools on a world run as shards (``go --shards neon=2``), with real telnet
players: the list shows every shard's characters with the shard that holds each, looking one up
finds it on its shard, and a move lands on that shard at its next tick (the player is told)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from ouroboros.errors import BadInputError, UnknownPlayerError
from ouroboros.server.runtime import Runtime
from ouroboros.server.runtime.runner import WorldRunner
from tests.rollout.test_sharded_live import Player, city, options, wait_for

__all__ = ["city"]  # the fixture, shared with the sharded live tests

TARGET = "neon.room.market_hall_floor"


def test_the_players_list_shows_every_shard_and_a_move_lands_on_the_holders_shard(city: WorldRunner) -> None:
    async def play() -> None:
        port = city.ports["telnet"]
        alice, bobby = await Player.create(port, "Alice"), await Player.create(port, "Bobby")
        listed = {p["name"]: p for p in city.players.listed()}
        assert {n: (p["shard"], p["online"]) for n, p in listed.items()} == {
            "Alice": ("neon-0", True),
            "Bobby": ("neon-1", True),  # on shard 1: the old tools did not see him at all
        }
        assert city.players.show("Bobby")["shard"] == "neon-1"
        moved = city.players.move("Bobby", TARGET, "ops:kim", "stuck in a wall")
        assert moved["shard"] == "neon-1" and moved["to"] == TARGET
        await bobby.client.read_until(lambda c: any("An operator (ops:kim)" in x for x in c.lines), 15)
        assert city.players.show("Bobby")["room"] == TARGET
        assert city.players.show("Alice")["room"] != TARGET  # shard 0's Alice is left alone
        await bobby.do("quit", "jack out")
        wait_for(lambda: city.players.show("Bobby")["shard"] is None, what="Bobby released")
        offline = city.players.show("Bobby")
        assert offline["online"] is False and offline["room"] == TARGET
        with pytest.raises(BadInputError, match="offline and no shard holds them"):
            city.players.move("Bobby", TARGET, "ops:kim", "again")
        with pytest.raises(UnknownPlayerError):
            city.players.show("Nobody")
        with pytest.raises(UnknownPlayerError):
            city.players.move("Nobody", TARGET, "ops:kim", "why")
        assert [p["name"] for p in city.players.listed()] == ["Alice", "Bobby"]  # each once
        for p in (alice, bobby):
            p.client.close()

    asyncio.run(asyncio.wait_for(play(), 60))


def test_ouroboros_players_asks_the_running_sharded_world_and_sees_every_shard(city: WorldRunner) -> None:
    from tests.cli.conftest import invoke

    async def play() -> None:
        port = city.ports["telnet"]
        alice, bobby = await Player.create(port, "Alice"), await Player.create(port, "Bobby")
        data = city.folder.parent
        code, out, err = await asyncio.to_thread(invoke, "players", "list", "--data", data, "--json")
        assert code == 0, err
        assert {p["name"]: p["shard"] for p in json.loads(out)} == {"Alice": "neon-0", "Bobby": "neon-1"}
        code, out, err = await asyncio.to_thread(invoke, "players", "list", "--data", data)
        assert code == 0 and any("Bobby" in line and "on neon-1" in line for line in out.splitlines())
        args = ("players", "move", "Bobby", TARGET, "--data", data, "--actor", "kim", "--reason", "stuck")
        code, out, err = await asyncio.to_thread(invoke, *args)
        assert code == 0, err
        await bobby.client.read_until(lambda c: any("An operator (local:kim)" in x for x in c.lines), 15)
        for p in (alice, bobby):
            p.client.close()

    asyncio.run(asyncio.wait_for(play(), 60))


def test_with_no_go_running_the_tools_see_every_saved_shard_and_refuse_a_move(tmp_path: Path) -> None:
    """After the sharded go stops, ``ouroboros players`` reads every shard's saved world (it used
    to read shard 0's alone, and Bobby, who played on shard 1, was not there)."""
    from tests.cli.conftest import invoke

    runtime = Runtime(tmp_path / "data", ["neon"], options())
    runtime.start()
    try:

        async def play() -> None:
            port = runtime.runner("neon").ports["telnet"]
            players = [await Player.create(port, "Alice"), await Player.create(port, "Bobby")]
            for p in players:
                p.client.close()

        asyncio.run(asyncio.wait_for(play(), 60))
    finally:
        runtime.stop()
    data = tmp_path / "data"
    code, out, err = invoke("players", "list", "--data", data, "--json")
    assert code == 0, err
    assert {p["name"]: (p["shard"], p["online"]) for p in json.loads(out)} == {
        "Alice": (None, False),
        "Bobby": (None, False),
    }
    code, out, err = invoke("players", "show", "Bobby", "--data", data, "--json")
    assert code == 0 and json.loads(out)["name"] == "Bobby", err
    code, out, err = invoke("players", "move", "Bobby", TARGET, "--data", data, "--actor", "kim")
    assert code == 2 and "no shard holds them" in err
    code, out, err = invoke("players", "show", "Nobody", "--data", data)
    assert code == 2
    code, out, err = invoke("players", "restore-cost", "any", "--data", data)
    assert code == 2 and "shard 0 only" in err, err
