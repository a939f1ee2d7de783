"""A character moves between shards at a session boundary and carries everything, and plays in
one shard at a time: real redis-server, two neon shards and their two gateways, each its own
process, a telnet player. The player's client reads where it stands from GMCP ``Room.Info``."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import redis

from ouroboros.characters import RedisCharacters
from ouroboros.cluster import keys
from ouroboros.cluster.redis_server import RedisServer
from tests.cluster.test_cluster_neon import PORTS, Proc, answered, procs
from tests.server.live import RawTelnet

PASSWORD = "razorgirl9"
__all__ = ["procs"]  # the fixture, shared with test_cluster_neon


def room_now(client: RawTelnet) -> dict[str, Any]:
    return next(data for package, data in reversed(client.gmcp) if package == "Room.Info")


def rooms_seen(client: RawTelnet) -> int:
    return sum(package == "Room.Info" for package, _ in client.gmcp)


async def at_login(port: int) -> RawTelnet:
    client = await RawTelnet.connect(port)
    await client.expect("create NAME PASSWORD", timeout_s=30)
    return client


async def wait_for(condition: Any, timeout_s: float = 60.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.05)


def test_a_character_carries_everything_to_another_shard_and_plays_in_one_at_a_time(
    redis_server: RedisServer, tmp_path: Path, procs: list[Proc]
) -> None:
    common = ["--redis", redis_server.url, "--data", str(tmp_path)]
    ports = []
    for n in (0, 1):
        gateway = Proc(["gateway", "--shard", f"neon:{n}", "--telnet-port", "0", "--ws-port", "0",
                        "--name", f"gw-{n}", *common])  # fmt: skip
        shard = Proc(["shard", f"neon:{n}", *common])
        procs += [gateway, shard]
        ports.append(json.loads(gateway.wait_for(PORTS).group(2))["telnet"])
    for proc in procs[1::2]:
        proc.wait_for(re.compile(r"shard neon-\d: boot"))
    store = RedisCharacters(redis_server.url)

    async def scenario() -> dict[str, Any]:
        one = await at_login(ports[0])
        one.send_line(f"create molly {PASSWORD}")
        await one.expect("Exits", timeout_s=60)
        await wait_for(lambda: rooms_seen(one) > 0)
        start = room_now(one)
        direction = sorted(start["exits"])[0]
        await answered(one, direction)
        await wait_for(lambda: room_now(one)["id"] != start["id"])
        moved_to = room_now(one)

        # while Molly plays on shard 0, her login through shard 1's gateway is refused, once
        other = await at_login(ports[1])
        other.send_line(f"connect molly {PASSWORD}")
        await other.expect("playing elsewhere", timeout_s=60)
        refused_lines = [line for line in other.lines if "playing elsewhere" in line]
        other.send_line("help")  # still at the login screen, connection open
        await other.expect("Login commands", timeout_s=30)

        one.send_line("quit")
        await one.until_closed(timeout_s=60)
        await wait_for(lambda: store.holder("Molly") is None)  # shard 0 saved and released her

        # the same connection logs in again and finds her where she left
        before = rooms_seen(other)
        other.send_line(f"connect molly {PASSWORD}")
        await other.expect("Exits", timeout_s=60)
        await wait_for(lambda: rooms_seen(other) > before)
        arrived = room_now(other)
        holder = store.holder("Molly")
        other.send_line("quit")
        await other.until_closed(timeout_s=60)
        return {"start": start, "moved_to": moved_to, "arrived": arrived, "refused": refused_lines,
                "holder": holder, "eof_other": other.eof}  # fmt: skip

    out = asyncio.run(asyncio.wait_for(scenario(), 240))
    assert out["arrived"]["id"] == out["moved_to"]["id"] != out["start"]["id"]
    assert len(out["refused"]) == 1 and "neon-0" in out["refused"][0]
    assert out["holder"] == "neon-1"
    raw = redis.Redis.from_url(redis_server.url, decode_responses=True)
    saved = json.loads(raw.get(keys.character("Molly")) or "{}")
    assert saved["room"] == out["moved_to"]["id"]
    raw.close()
    store.close()
