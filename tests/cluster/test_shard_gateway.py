"""A gateway and a shard joined over a real Redis, in one process: a telnet player's commands
reach the shard and its answers come back; when the shard restarts the connection stays open,
the player is told once, commands typed meanwhile wait, and the next command is answered by the
new shard. (``FakeGame`` stands in for the world here; the process-level test runs neon.)"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ouroboros.cluster.redis_server import RedisServer
from ouroboros.cluster.remote_game import RESTART_NOTICE, RemoteGame
from ouroboros.cluster.shard import ShardHost, run_shard
from ouroboros.server.gateway.accounts import AccountStore
from ouroboros.server.gateway.session import SessionRegistry
from ouroboros.server.gateway.telnet import serve_telnet
from tests.server.conftest import FAST_LIMITS, FAST_SCRYPT
from tests.server.fakegame import FakeGame
from tests.server.live import RawTelnet


class ShardGame(FakeGame):
    """The fake world with the two calls a shard makes besides the LiveGame ones."""

    def step(self) -> None:
        self.tick()

    def save(self) -> None:
        pass


class ShardThread:
    def __init__(self, url: str, boot: str) -> None:
        self.game = ShardGame()
        self.host = ShardHost(self.game, url, "fake-0", boot_id=boot)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=run_shard, args=(self.game, self.host, self.stop, 100.0))
        self.thread.start()

    def halt(self) -> None:
        self.stop.set()
        self.thread.join(10)


@pytest.fixture
def accounts(tmp_path: Path) -> Iterator[AccountStore]:
    store = AccountStore(tmp_path / "accounts.db", params=FAST_SCRYPT)
    yield store
    store.close()


def test_players_stay_connected_across_a_shard_restart(
    redis_server: RedisServer, accounts: AccountStore
) -> None:
    async def scenario() -> dict[str, Any]:
        game = RemoteGame(redis_server.url, "fake-0", "gw-1", name="Fake City", grace_s=0.3)
        registry = SessionRegistry(game, accounts, limits=FAST_LIMITS)  # type: ignore[arg-type]
        pump = asyncio.create_task(game.run_ticks())
        server = await serve_telnet(game, registry, "127.0.0.1", 0, 60.0)  # type: ignore[arg-type]
        shard = ShardThread(redis_server.url, "boot-1")
        client = await RawTelnet.connect(server.sockets[0].getsockname()[1])
        try:
            await client.expect("create NAME PASSWORD")
            client.send_line("create molly razorgirl")
            await client.expect("Neon Alley", timeout_s=40)  # the shard's look on entering
            client.send_line("hello shard")
            await client.expect("You typed: hello shard", timeout_s=40)
            first_applied = list(shard.game.applied)
            await asyncio.to_thread(shard.halt)  # the shard goes away (a crash or an upgrade)
            await client.expect(RESTART_NOTICE, timeout_s=40)
            client.send_line("typed while it was down")
            await asyncio.sleep(0)  # nothing to wait for: the line sits in the stream
            shard2 = ShardThread(redis_server.url, "boot-2")
            try:
                await client.expect("You typed: typed while it was down", timeout_s=40)
                client.send_line("and after")
                await client.expect("You typed: and after", timeout_s=40)
            finally:
                await asyncio.to_thread(shard2.halt)
            return {
                "notices": sum(RESTART_NOTICE in line for line in client.lines),
                "eof": client.eof,
                "first": first_applied,
                "second": list(shard2.game.applied),
            }
        finally:
            client.close()
            registry.close_all()
            server.close()
            pump.cancel()
            await asyncio.gather(pump, return_exceptions=True)
            if shard.thread.is_alive():
                shard.halt()

    out = asyncio.run(asyncio.wait_for(scenario(), 90))
    assert out["notices"] == 1 and not out["eof"]
    assert ("command", "Molly", "hello shard") in out["first"]
    # the new shard entered molly on her first command, then ran what she typed, in order
    kinds = [(k, line) for k, c, line in out["second"] if c == "Molly"]
    assert kinds[:3] == [("enter", ""), ("command", "typed while it was down"), ("command", "and after")]


def test_a_quick_restart_is_told_once_by_its_new_boot_id() -> None:
    told: list[tuple[str, list[dict[str, Any]]]] = []
    now = [0.0]
    game = RemoteGame("redis://127.0.0.1:1", "s", "g", grace_s=1.0, clock=lambda: now[0])
    game.subscribe(lambda c, events: told.append((c, events)))
    game._present.update({"a", "b"})
    game.observe("boot-1")
    now[0] += 0.5
    game.observe(None)  # a lapse shorter than the grace: nothing yet
    game.observe("boot-2")  # back under a new id: one notice
    now[0] += 5
    game.observe(None)
    now[0] += 5
    game.observe(None)  # a long lapse of boot-2: one notice, however long it lasts
    game.observe("boot-3")  # and its end tells nothing more
    assert [c for c, _ in told] == ["a", "b", "a", "b"]
    assert game.notices == 2
