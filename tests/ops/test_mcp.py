"""The MCP server, with the SDK's own client against the real server (uvicorn on a port, as ``go``
serves it): streamable HTTP at ``/mcp`` and ``ouroboros mcp`` on stdio. Reads for any role;
writes only as the API allows them (role, TOTP), refusals as tool errors; the audit names the MCP
client beside the user."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pyotp
import pytest
import uvicorn
from hypothesis import given, settings
from hypothesis import strategies as st
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.types import Implementation

from ouroboros.server.api import AuthStore, create_app
from ouroboros.server.mcp import client_label
from ouroboros.server.runtime import Runtime, RuntimeOptions

REPO = Path(__file__).resolve().parents[2]
OPTIONS = RuntimeOptions(ticks_per_second=20, telnet_port=0, ws_port=0, optimizer=False)


@dataclass
class Served:
    url: str
    data: Path
    tokens: dict[str, str]
    totp: pyotp.TOTP


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("mcp")
    runtime = Runtime(data, ("neon",), OPTIONS)
    auth = AuthStore(data)
    app = create_app(runtime, auth=auth)
    runtime.start()
    tokens = {role: auth.create_user(f"{role}1", role, "test")["token"] for role in ("viewer", "operator")}
    admin = auth.create_user("admin1", "admin", "test")
    tokens["admin"] = admin["token"]
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    try:
        yield Served(
            f"http://127.0.0.1:{sock.getsockname()[1]}", data, tokens, pyotp.TOTP(admin["totp_secret"])
        )
    finally:
        server.should_exit = True
        thread.join(10)
        runtime.stop()
        auth.close()


def _http(served: Served, role: str | None, name: str = "test-assistant") -> Client:
    headers = {} if role is None else {"Authorization": f"Bearer {served.tokens[role]}"}
    transport = streamable_http_client(f"{served.url}/mcp", http_client=httpx2.AsyncClient(headers=headers))
    return Client(transport, client_info=Implementation(name=name, version="1.0"))


def _text(result: Any) -> str:
    return "".join(getattr(c, "text", "") for c in result.content)


def _audit(served: Served, path: str) -> list[tuple[str, int]]:
    conn = sqlite3.connect(served.data / "server.sqlite3")
    try:
        rows = conn.execute(
            "SELECT actor, status FROM audit WHERE path = ? ORDER BY rowid", (path,)
        ).fetchall()
    finally:
        conn.close()
    return [(str(a), int(s)) for a, s in rows]


def test_tools_are_discovered_and_reads_work_for_a_viewer(served: Served) -> None:
    async def go() -> None:
        async with _http(served, "viewer") as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert {"world_state", "queue", "ledger", "events", "propose", "approve", "reject"} <= names
            assert {"rollback", "killswitch_engage", "killswitch_release"} <= names
            state = await client.call_tool("world_state", {"world": "neon"})
            assert not state.is_error, _text(state)
            doc = json.loads(_text(state))
            assert doc["world"] == "neon" and isinstance(doc["tick"], int) and "kpis" in doc
            events = json.loads(_text(await client.call_tool("events", {"kind": "control"})))
            assert [e["action"] for e in events["events"]] == ["start"]
            ledger = json.loads(_text(await client.call_tool("ledger", {"world": "neon"})))
            assert ledger["entries"]

    asyncio.run(go())


def test_an_operator_proposes_and_approves_and_the_audit_names_the_client(served: Served) -> None:
    async def go() -> str:
        async with _http(served, "operator", "ops-bot") as client:
            made = await client.call_tool(
                "propose", {"world": "neon", "type": "ITEM", "reason": "mcp", "seed": 31}
            )
            assert not made.is_error, _text(made)
            proposal = str(json.loads(_text(made))["proposal_id"])
            queued = json.loads(_text(await client.call_tool("queue", {"world": "neon"})))
            mine = next(q for q in queued if q["proposal_id"] == proposal)
            assert mine["diff"], "each waiting proposal comes with its diff"
            done = await client.call_tool(
                "approve", {"world": "neon", "proposal_id": proposal, "reason": "looks right"}
            )
            assert not done.is_error, _text(done)
            assert json.loads(_text(done))["proposal_state"] != "queued"
            return proposal

    proposal = asyncio.run(go())
    assert ("operator1 via mcp:ops-bot", 201) in _audit(served, "/api/queue/propose")
    assert ("operator1 via mcp:ops-bot", 200) in _audit(served, f"/api/queue/{proposal}/approve")
    # the MCP request itself is audited too, under the same user
    assert ("operator1 (mcp)", 200) in _audit(served, "/mcp")


def test_refusals_come_back_as_tool_errors_and_are_audited(served: Served) -> None:
    async def go() -> None:
        async with _http(served, "viewer", "curious-bot") as client:
            refused = await client.call_tool("killswitch_engage", {"reason": "try"})
            assert refused.is_error and "refused (403)" in _text(refused)
            bad = await client.call_tool("world_state", {"world": "mars"})
            assert bad.is_error and "refused (4" in _text(bad)
            wrong_type = await client.call_tool("events", {"since": "yesterday"})
            assert wrong_type.is_error
            missing = await client.call_tool("world_state", {})
            assert missing.is_error
        async with _http(served, None) as client:
            anonymous = await client.call_tool("world_state", {"world": "neon"})
            assert anonymous.is_error and "refused (401)" in _text(anonymous)
        async with _http(served, "admin", "admin-bot") as client:
            wrong = await client.call_tool("killswitch_release", {"reason": "r", "totp": "000000"})
            assert wrong.is_error and "refused (4" in _text(wrong)

    asyncio.run(go())
    assert ("viewer1 via mcp:curious-bot", 403) in _audit(served, "/api/killswitch/engage")
    assert any(
        a == "admin1 via mcp:admin-bot" and s >= 400 for a, s in _audit(served, "/api/killswitch/release")
    )


def test_an_operator_engages_the_kill_switch_and_an_admin_releases_it_with_totp(served: Served) -> None:
    async def go() -> None:
        async with _http(served, "operator") as client:
            engaged = await client.call_tool("killswitch_engage", {"reason": "drill"})
            assert not engaged.is_error, _text(engaged)
            state = json.loads(_text(await client.call_tool("killswitch", {})))
            assert state["neon"]["engaged"] is True
        async with _http(served, "admin") as client:
            released = await client.call_tool(
                "killswitch_release", {"reason": "drill over", "totp": served.totp.now()}
            )
            assert not released.is_error, _text(released)
            state = json.loads(_text(await client.call_tool("killswitch", {})))
            assert state["neon"]["engaged"] is False

    asyncio.run(go())


def test_stdio_server_over_the_running_api(served: Served) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    args = ["-m", "ouroboros", "mcp", "--url", served.url, "--token", served.tokens["viewer"]]

    async def go() -> None:
        params = StdioServerParameters(command=sys.executable, args=args, env=env)
        async with Client(params, client_info=Implementation(name="stdio-bot", version="1")) as client:
            state = await client.call_tool("world_state", {"world": "neon"})
            assert not state.is_error and json.loads(_text(state))["world"] == "neon"
            refused = await client.call_tool("reject", {"world": "neon", "proposal_id": "p", "reason": "x"})
            assert refused.is_error and "refused (403)" in _text(refused)

    asyncio.run(go())
    assert ("viewer1 via mcp:stdio-bot", 403) in _audit(served, "/api/queue/p/reject")


def test_mcp_without_a_token_or_with_a_bad_url_exits_2() -> None:
    env = {k: v for k, v in os.environ.items() if k != "OUROBOROS_TOKEN"}
    env["PYTHONPATH"] = str(REPO / "src")
    for extra, says in (([], "token"), (["--token", "t", "--url", "ftp://x"], "--url")):
        done = subprocess.run(
            [sys.executable, "-m", "ouroboros", "mcp", *extra],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2 and says in done.stderr


@settings(max_examples=200, deadline=None)
@given(name=st.one_of(st.none(), st.text(max_size=300), st.integers()))
def test_any_client_name_is_shown_printable_and_short(name: object) -> None:
    label = client_label(name)
    assert 1 <= len(label) <= 64
    assert all(c.isascii() and (c.isalnum() or c in "._ -") for c in label)
