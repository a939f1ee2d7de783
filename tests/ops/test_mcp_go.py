"""The real ``ouroboros go`` serves MCP over streamable HTTP on its own port: the SDK's client,
signed in with the token of the first admin's one-time login, reads and proposes; without a
token every tool is refused."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import Implementation

from tests.server.api.test_go_server import _free_port, _read_until, _rest


def test_go_serves_mcp_on_its_port(tmp_path: Path) -> None:
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "ouroboros",
        "go",
        "--world",
        "neon",
        "--no-browser",
        "--port",
        str(port),
    ]
    command += ["--telnet-port", "0", "--ws-port", "0", "--data", str(tmp_path / "data")]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        out = _read_until(proc, r"one-time secret \S+")  # printed last, after where to connect
        secret = re.search(r"one-time secret (\S+)", out)
        assert secret, out
        base = f"http://127.0.0.1:{port}"
        token = httpx.post(f"{base}/api/auth/login", json={"secret": secret.group(1)}, timeout=10).json()[
            "token"
        ]

        async def talk() -> None:
            auth = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"})
            bot = Implementation(name="go-bot", version="1")
            async with Client(
                streamable_http_client(f"{base}/mcp", http_client=auth), client_info=bot
            ) as client:
                state = await client.call_tool("world_state", {"world": "neon"})
                assert not state.is_error and json.loads(state.content[0].text)["world"] == "neon"  # type: ignore[union-attr]
                made = await client.call_tool(
                    "propose", {"world": "neon", "type": "NPC", "reason": "go", "seed": 3}
                )
                assert not made.is_error, made.content
            async with Client(
                streamable_http_client(f"{base}/mcp", http_client=httpx2.AsyncClient())
            ) as client:
                refused = await client.call_tool("queue", {"world": "neon"})
                assert refused.is_error and "refused (401)" in refused.content[0].text  # type: ignore[union-attr]

        asyncio.run(talk())
        audit = httpx.get(
            f"{base}/api/audit",
            params={"limit": 200},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
        rows = audit if isinstance(audit, list) else audit.get("rows", audit.get("entries", []))
        assert any(
            r.get("actor") == "admin via mcp:go-bot" and r.get("path") == "/api/queue/propose" for r in rows
        )
        proc.send_signal(signal.SIGTERM)
        _, err = _rest(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
