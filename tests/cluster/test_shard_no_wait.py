"""No tick waits on Redis: a shard over real redis-servers keeps its pace while the Redis holding
its characters, or the one carrying its players' operations, is stopped (``SIGSTOP``: a stalled
server that answers nothing, the worst case for a socket timeout). A player entering meanwhile
enters once the store answers, with its stored record and what it typed in order; a leave is
saved with what the leaving tick did, once the store is back. The characters live in a second
redis-server here so that the operations still arrive while the store is stalled."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest
import redis

from ouroboros.characters import RedisCharacters
from ouroboros.cluster import keys
from ouroboros.cluster.redis_server import RedisServer
from ouroboros.cluster.seats import Seats
from ouroboros.cluster.shard import ShardHost, run_shard
from tests.server.fakegame import FakeGame

HZ = 100.0


def wait_until(check: Callable[[], Any], what: str, timeout_s: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


class LedgerGame(FakeGame):
    """The fake world with characters' records (``earn`` adds a credit at the tick that runs it)
    and the two calls a shard makes besides the LiveGame ones."""

    def __init__(self) -> None:
        super().__init__()
        self.records: dict[str, dict[str, Any]] = {}

    def step(self) -> None:
        for kind, character, line in self._pending:
            if kind == "command" and line == "earn" and character in self.records:
                self.records[character]["credits"] += 1
        self.tick()

    def save(self) -> None:
        pass

    # WorldCharacters
    def read(self) -> dict[str, dict[str, Any]]:
        return {k: dict(v) for k, v in self.records.items()}

    def put(self, records: Mapping[str, dict[str, Any]]) -> None:
        self.records.update({k: dict(v) for k, v in records.items()})


@pytest.fixture
def store_redis(redis_server: RedisServer) -> Iterator[RedisServer]:
    server = RedisServer().start()
    try:
        yield server
    finally:
        resume(server)
        server.stop()


def pid(server: RedisServer) -> int:
    assert server.proc is not None
    return server.proc.pid


def resume(server: RedisServer) -> None:
    if server.proc is not None:
        os.kill(pid(server), signal.SIGCONT)


@contextmanager
def stalled(server: RedisServer) -> Iterator[None]:
    os.kill(pid(server), signal.SIGSTOP)
    try:
        yield
    finally:
        resume(server)


@contextmanager
def shard(url: str, store_url: str) -> Iterator[tuple[LedgerGame, ShardHost, RedisCharacters]]:
    game = LedgerGame()
    store = RedisCharacters(store_url, socket_timeout_s=2.0)
    host = ShardHost(game, url, "fake-0", seats=Seats(store, "fake-0", game))
    stop = threading.Event()
    thread = threading.Thread(target=run_shard, args=(game, host, stop, HZ))
    thread.start()
    try:
        yield game, host, store
    finally:
        stop.set()
        thread.join(30)
        assert not thread.is_alive()


def send(url: str, op: str, character: str, line: str = "") -> None:
    r = redis.Redis.from_url(url, decode_responses=True)
    r.xadd(keys.shard_in("fake-0"), {"op": op, "c": character, "line": line, "gw": "gw-test"})
    r.close()


def keeps_its_pace(game: LedgerGame, ticks: int = 100) -> None:
    """``ticks`` more ticks within twice their time (plus slack for a loaded machine); a tick held
    by a stalled Redis's 2 s socket timeout could not."""
    start = game.ticks
    wait_until(lambda: game.ticks >= start + ticks, f"{ticks} ticks", timeout_s=2 * ticks / HZ + 2.0)


def stored(store: RedisCharacters, name: str) -> dict[str, Any] | None:
    """The record the store keeps for ``name`` (claimed by an onlooker, then let go)."""
    record = store.claim(name, "onlooker", 5.0)
    store.release(name, "onlooker")
    return record


def test_a_player_entering_while_the_store_is_stalled_enters_when_it_is_back(
    redis_server: RedisServer, store_redis: RedisServer
) -> None:
    keeper = RedisCharacters(store_redis.url)
    keeper.claim("Molly", "neon-1", 10.0)
    keeper.release("Molly", "neon-1", {"credits": 7})  # she last played on another shard
    with shard(redis_server.url, store_redis.url) as (game, host, _):
        wait_until(lambda: game.ticks > 5, "the shard to tick")
        with stalled(store_redis):
            send(redis_server.url, "enter", "Molly")
            send(redis_server.url, "command", "Molly", "earn")
            wait_until(lambda: host.applied >= 2, "the operations to reach the tick")
            keeps_its_pace(game)
            assert not game.present("Molly") and "Molly" not in game.records
        wait_until(lambda: game.present("Molly"), "Molly to enter")
        wait_until(lambda: game.records["Molly"]["credits"] == 8, "her command to run")
        kinds = [(k, line) for k, c, line in game.applied if c == "Molly"]
        assert kinds == [("enter", ""), ("enter", ""), ("command", "earn")]  # typed before she was in: after
    keeper.close()


def test_a_player_held_elsewhere_is_refused_once_and_never_enters(
    redis_server: RedisServer, store_redis: RedisServer
) -> None:
    keeper = RedisCharacters(store_redis.url)
    keeper.claim("Molly", "neon-1", 30.0)
    out = redis.Redis.from_url(redis_server.url, decode_responses=True)
    with shard(redis_server.url, store_redis.url) as (game, _, _):
        send(redis_server.url, "enter", "Molly")
        got = wait_until(lambda: out.xrange(keys.gateway_out("gw-test")), "the refusal")
        keeps_its_pace(game, 20)
        assert not game.present("Molly")
    assert len(got) == 1 and '"refused"' in got[0][1]["events"] and "neon-1" in got[0][1]["events"]
    out.close()
    keeper.close()


def test_a_leave_is_saved_with_what_its_tick_did_once_the_store_is_back(
    redis_server: RedisServer, store_redis: RedisServer
) -> None:
    with shard(redis_server.url, store_redis.url) as (game, host, store):
        game.records["Molly"] = {"credits": 0}
        send(redis_server.url, "enter", "Molly")
        wait_until(lambda: game.present("Molly"), "Molly to enter")
        with stalled(store_redis):
            send(redis_server.url, "command", "Molly", "earn")
            send(redis_server.url, "leave", "Molly")  # applied in the same tick as the earn
            wait_until(lambda: "Molly" not in host.seated, "her leave to be settled")
            game.records["Molly"]["credits"] = 100  # after her leaving tick: not hers to keep
            keeps_its_pace(game)
        wait_until(lambda: store.holder("Molly") is None, "the release")
    assert stored(RedisCharacters(store_redis.url), "Molly") == {"credits": 1}


def test_the_shard_keeps_its_pace_while_its_one_redis_is_stalled_and_serves_after(
    redis_server: RedisServer,
) -> None:
    with shard(redis_server.url, redis_server.url) as (game, _, _):
        game.records["Molly"] = {"credits": 0}
        send(redis_server.url, "enter", "Molly")
        wait_until(lambda: game.present("Molly"), "Molly to enter")
        with stalled(redis_server):
            keeps_its_pace(game)
        send(redis_server.url, "command", "Molly", "earn")
        wait_until(lambda: game.records["Molly"]["credits"] == 1, "her command after Redis is back")
