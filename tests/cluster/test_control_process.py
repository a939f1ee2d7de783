"""``cluster up`` with a neon shard starts one ``ouroboros control``: a patch activated through the
control's API reaches the shard, and a telnet player in the city sees the new version. The
control answers world state from what the shard reports and 409 where only a local world could."""

from __future__ import annotations

import asyncio
import json
import re
import signal
from pathlib import Path

import httpx
import pyotp
import pytest
from typer.testing import CliRunner

from ouroboros import cli
from ouroboros.cluster.redis_server import RedisServer
from ouroboros.patches.governor import Governor
from tests.cli.conftest import one_error_line
from tests.cluster.test_cluster_neon import PORTS, Proc, answered, login
from tests.cluster.test_shard_versions import HELD_NEON, held_rooms_patch, wait_until

CONTROL = re.compile(r"control: (\{.*\})")
SECRET = re.compile(r"one-time secret (\S+)")
TOTP = re.compile(r"(otpauth://totp/\S+)")
NEW = "Holographic koi now swim above the plaza."


def test_a_patch_activated_through_the_controls_api_reaches_the_shards_players(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    gov = Governor(tmp_path / "neon", world_defaults=HELD_NEON, environ={})
    try:
        patch = held_rooms_patch(gov, NEW)  # held for a person: the API activates it
    finally:
        gov.close()
    up = Proc(["cluster", "up", "--redis", redis_server.url, "--workers", "0", "--shards", "neon=1",
               "--telnet-port", "0", "--api-port", "0", "--data", str(tmp_path)])  # fmt: skip
    try:
        telnet = json.loads(up.wait_for(PORTS).group(2))["telnet"]
        api = f"http://127.0.0.1:{json.loads(up.wait_for(CONTROL).group(1))['api']}"
        secret, totp = up.wait_for(SECRET).group(1), pyotp.parse_uri(up.wait_for(TOTP).group(1))
        token = httpx.post(f"{api}/api/auth/login", json={"secret": secret, "username": "admin"}).json()[
            "token"
        ]
        auth = {"Authorization": f"Bearer {token}"}

        def state() -> dict[str, object]:
            got = httpx.get(f"{api}/api/world/state", params={"world": "neon"}, headers=auth, timeout=30)
            assert got.status_code == 200, got.text
            return dict(got.json())

        wait_until(lambda: "neon-0" in state()["shards"], timeout_s=90)  # type: ignore[operator]

        async def play() -> list[str]:
            client = await login(telnet, "molly")
            await answered(client, "look")
            assert not any(NEW in line for line in client.lines)
            activated = await asyncio.to_thread(
                httpx.post,
                f"{api}/api/patches/{patch}/activate",
                json={"world": "neon", "reason": "koi over the plaza", "totp": totp.now()},
                headers=auth,
                timeout=60,
            )
            assert activated.status_code == 200, activated.text
            assert activated.json()["state"] == "active"
            for _ in range(60):  # the shard switches at a tick boundary; each look is one more try
                if any(NEW in line for line in client.lines):
                    break
                await answered(client, "look")
            client.close()
            return client.lines

        lines = asyncio.run(play())
        assert any(NEW in line for line in lines)
        shard = wait_until(lambda: state()["shards"]["neon-0"]["version"] == patch and state())  # type: ignore[index]
        assert shard["served_by"] == "shards" and shard["tick"] > 0
        local_only = [
            ("GET", "/api/worlds/neon/players", None),
            ("GET", "/api/worlds/neon/overview", None),
            ("GET", "/api/world/params?world=neon", None),
            ("POST", "/api/snapshots", {"world": "neon", "reason": "keep it"}),
            ("POST", "/api/control/stop", {"world": "neon", "reason": "a break"}),
        ]
        for method, path, body in local_only:  # only a world ticking here could answer: 409, never 500
            got = httpx.request(method, api + path, json=body, headers=auth, timeout=30)
            assert got.status_code == 409 and got.json()["detail"]["code"] == "served_by_shards", path
        stats = httpx.get(f"{api}/api/stats", headers=auth, timeout=30).json()["worlds"]["neon"]
        assert stats["served_by"] == "shards" and stats["running"] and "neon-0" in stats["shards"]
        assert httpx.get(f"{api}/health", timeout=30).json()["worlds"]["neon"] > 0
        # Redis killed mid-run: the activation is denied (409, audited); back: it goes through
        change = {"world": "neon", "params": {"start_credits": 250}, "reason": "a warmer welcome"}
        redis_server.kill()
        denied = httpx.put(f"{api}/api/world/params", json=change, headers=auth, timeout=60)
        assert denied.status_code == 409 and denied.json()["detail"]["code"] == "activation_denied"
        redis_server.start()
        done = httpx.put(f"{api}/api/world/params", json=change, headers=auth, timeout=60)
        assert done.status_code == 200, done.text
        wait_until(lambda: state()["shards"]["neon-0"]["version"] == done.json()["patch_id"], 90)  # type: ignore[index]
        up.popen.send_signal(signal.SIGINT)
        assert up.popen.wait(60) == 0
    finally:
        up.stop()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--redis", "http://localhost:6379"], "--redis"),
        (["--redis", "redis://localhost:6379/0", "--world", "flocking"], "no players"),
        (["--redis", "redis://localhost:6379/0", "--world", "atlantis"], "no world"),
    ],
)
def test_control_refuses_bad_input_with_exit_2(args: list[str], said: str, tmp_path: Path) -> None:
    got = CliRunner().invoke(cli.app, ["control", *args, "--data", str(tmp_path), "--port", "0"])
    assert got.exit_code == 2
    assert said in one_error_line(got.output)
