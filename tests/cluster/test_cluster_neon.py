"""neon across processes on a real Redis: a gateway holds the telnet players, a shard runs the
city. A shard killed with SIGKILL and started again, or restarted by ``cluster up``'s schedule,
keeps every connection open: the player gets one line and their next command is answered."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ouroboros.cluster.redis_server import RedisServer
from ouroboros.cluster.remote_game import RESTART_NOTICE
from tests.cluster.test_worker_processes import SRC
from tests.server.live import RawTelnet

ENV = {**os.environ, "PYTHONPATH": SRC}
PORTS = re.compile(r"gateway (\S+): (\{.*\})")


class Proc:
    """A child process whose stderr is read on a thread (so it never blocks on a full pipe)."""

    def __init__(self, args: list[str]) -> None:
        argv = [sys.executable, "-m", "ouroboros", *args]
        self.popen = subprocess.Popen(argv, env=ENV, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.popen.stderr is not None
        for line in self.popen.stderr:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()

    def wait_for(self, pattern: re.Pattern[str], timeout_s: float = 60.0) -> re.Match[str]:
        with self.changed:
            found = self.changed.wait_for(
                lambda: next((m for line in self.lines if (m := pattern.search(line))), None), timeout_s
            )
        if not found:
            raise AssertionError(f"no {pattern.pattern!r} in {self.lines[-10:]}")
        return found

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    started: list[Proc] = []
    yield started
    for proc in started:
        proc.stop()


async def login(port: int, name: str) -> RawTelnet:
    client = await RawTelnet.connect(port)
    await client.expect("create NAME PASSWORD", timeout_s=30)
    client.send_line(f"create {name} razorgirl9")
    await client.expect("Exits", timeout_s=60)
    return client


async def answered(client: RawTelnet, line: str, timeout_s: float = 60.0) -> None:
    before = sum("Exits" in x for x in client.lines)
    client.send_line(line)
    await client.read_until(lambda c: sum("Exits" in x for x in c.lines) > before, timeout_s)


def test_a_killed_shard_comes_back_and_its_players_stay_connected(
    redis_server: RedisServer, tmp_path: Path, procs: list[Proc]
) -> None:
    common = ["--redis", redis_server.url, "--data", str(tmp_path)]
    gateway = Proc(["gateway", "--shard", "neon", "--telnet-port", "0", "--ws-port", "0", *common])
    shard = Proc(["shard", "neon", *common])
    procs += [gateway, shard]
    port = json.loads(gateway.wait_for(PORTS).group(2))["telnet"]
    shard.wait_for(re.compile(r"shard neon-0: boot"))

    async def scenario() -> RawTelnet:
        client = await login(port, "molly")
        await answered(client, "look")
        shard.popen.send_signal(signal.SIGKILL)
        shard.popen.wait(10)
        await client.expect(RESTART_NOTICE, timeout_s=30)
        client.send_line("look")  # typed while no shard runs: it waits in the stream
        again = Proc(["shard", "neon", *common])
        procs.append(again)
        before = sum("Exits" in x for x in client.lines)
        await client.read_until(lambda c: sum("Exits" in x for x in c.lines) > before, 90)
        await answered(client, "look")
        client.close()
        return client

    client = asyncio.run(scenario())
    assert sum(RESTART_NOTICE in line for line in client.lines) == 1
    assert not client.eof


def test_cluster_up_soft_restarts_a_shard_on_schedule_without_dropping_players(tmp_path: Path) -> None:
    redis = RedisServer().start()
    up = Proc(["cluster", "up", "--redis", redis.url, "--workers", "0", "--shards", "neon=1",
               "--telnet-port", "0", "--api-port", "0", "--soft-restart-every-s", "15",
               "--data", str(tmp_path)])  # fmt: skip
    try:
        port = json.loads(up.wait_for(PORTS).group(2))["telnet"]

        async def scenario() -> RawTelnet:
            client = await login(port, "case")
            await client.expect(RESTART_NOTICE, timeout_s=60)  # the schedule restarts the shard
            await answered(client, "look", 90)
            client.close()
            return client

        client = asyncio.run(scenario())
        up.wait_for(re.compile(r"neon-0 soft_restart"))
        restarts = sum("neon-0 soft_restart" in line for line in up.lines)
        # one line per restart the player was online for (a slow login may miss the first)
        assert 1 <= sum(RESTART_NOTICE in line for line in client.lines) <= restarts
        assert not client.eof
        up.popen.send_signal(signal.SIGINT)
        assert up.popen.wait(60) == 0
    finally:
        up.stop()
        redis.stop()
