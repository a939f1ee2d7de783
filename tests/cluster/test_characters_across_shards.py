"""A character moves between shards at a session boundary and carries everything, and plays in
one shard at a time: real redis-server, two neon shards and their two gateways, each its own
process, a telnet player. The player's client reads where it stands from GMCP ``Room.Info`` and
its credits from ``Char.Vitals``; ``inventory`` says what it carries. The player's account is
one the gateways kept in the older layout (``<data>/gateways/accounts.db``): it still logs in."""

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
from ouroboros.server.gateway import AccountStore
from ouroboros.worlds import world_spec
from tests.cluster.test_cluster_neon import PORTS, Proc, answered, procs
from tests.server.live import RawTelnet

PASSWORD = "razorgirl9"
__all__ = ["procs"]  # the fixture, shared with test_cluster_neon


def room_now(client: RawTelnet) -> dict[str, Any]:
    return next(data for package, data in reversed(client.gmcp) if package == "Room.Info")


def rooms_seen(client: RawTelnet) -> int:
    return sum(package == "Room.Info" for package, _ in client.gmcp)


def credits_now(client: RawTelnet) -> int | None:
    vitals = [data for package, data in client.gmcp if package == "Char.Vitals"]
    return vitals[-1]["credits"] if vitals else None


async def said(client: RawTelnet, line: str, text: str) -> list[str]:
    """Send ``line``; the lines of the answer, once one of them holds ``text``."""
    before = len(client.lines)
    client.send_line(line)
    await client.read_until(lambda c: any(text in x for x in c.lines[before:]), timeout_s=60)
    return client.lines[before:]


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
    # Molly's account is in the older layout's file; Armitage is in both, with another password
    hook = world_spec("neon").game
    assert hook is not None
    with AccountStore(tmp_path / "gateways" / "accounts.db") as old:
        old.create("molly", PASSWORD)
        old.create("armitage", "colonel-old")
    with AccountStore(tmp_path / "neon" / hook.accounts_file) as shared:
        shared.create("armitage", "colonel-new")
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
        one.send_line(f"connect molly {PASSWORD}")
        await one.expect("Exits", timeout_s=60)
        await wait_for(lambda: rooms_seen(one) > 0 and credits_now(one) is not None)
        start, start_credits = room_now(one), credits_now(one)
        await answered(one, "n")  # Skewer Sam's stall, north of the rebirth booth
        await wait_for(lambda: room_now(one)["id"] != start["id"])
        moved_to = room_now(one)
        # she buys the cheapest thing on sale there: fewer credits, one thing more to carry
        stock = [re.fullmatch(r"  (.+?) +(\d+) cr", x) for x in await said(one, "list", " cr")]
        name, _ = min(((m[1], int(m[2])) for m in stock if m), key=lambda row: row[1])
        await said(one, f"buy {name}", "You buy")
        await wait_for(lambda: credits_now(one) != start_credits)
        paid_credits = credits_now(one)
        carried = await said(one, "inventory", "Credits:")

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
        arrived, arrived_credits = room_now(other), credits_now(other)
        carried_there = await said(other, "inventory", "Credits:")
        holder = store.holder("Molly")
        other.send_line("quit")
        await other.until_closed(timeout_s=60)
        return {"start": start, "moved_to": moved_to, "arrived": arrived, "refused": refused_lines,
                "holder": holder, "eof_other": other.eof, "item": name, "start_credits": start_credits,
                "paid_credits": paid_credits, "arrived_credits": arrived_credits, "carried": carried,
                "carried_there": carried_there}  # fmt: skip

    out = asyncio.run(asyncio.wait_for(scenario(), 240))
    assert [proc.popen.poll() for proc in procs] == [None] * 4  # no shard or gateway died on the way
    # one of the two gateways copied the older file's accounts: Molly's; Armitage kept the shared file's
    copies = [x for gw in procs[0::2] for x in gw.lines if "copied" in x]
    assert len(copies) == 1 and "1 account(s) copied" in copies[0] and "1 name(s)" in copies[0], copies
    with AccountStore(tmp_path / "neon" / hook.accounts_file) as shared:
        assert shared.verify("armitage", "colonel-new") is not None
        assert shared.verify("armitage", "colonel-old") is None
    assert out["arrived"]["id"] == out["moved_to"]["id"] != out["start"]["id"]
    # what she carried and paid on shard 0 is what she has on shard 1
    assert out["arrived_credits"] == out["paid_credits"] < out["start_credits"]
    item_lines = [[x for x in lines if out["item"] in x] for lines in (out["carried"], out["carried_there"])]
    assert item_lines[0] == item_lines[1] != []
    assert f"Credits: {out['paid_credits']}" in out["carried_there"]
    assert len(out["refused"]) == 1 and "neon-0" in out["refused"][0]
    assert out["holder"] == "neon-1"
    raw = redis.Redis.from_url(redis_server.url, decode_responses=True)
    saved = json.loads(raw.get(keys.character("Molly")) or "{}")
    assert saved["room"] == out["moved_to"]["id"] and saved["credits"] == out["paid_credits"]
    raw.close()
    store.close()
