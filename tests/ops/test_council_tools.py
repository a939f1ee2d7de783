"""MCP tools for the council: only allowed tools are called, each within its timeout and size cap;
answers are untrusted words (filtered like a model's, no numbers, no code); every call is in the
decision log. The tools run on a real MCP server over streamable HTTP (the SDK's own server)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from mcp.server.mcpserver import MCPServer

from ouroboros.ai.director import Job
from ouroboros.ai.proposals import ProposalType
from ouroboros.ai.tools import CouncilTools, ServerConfig, ToolsConfig, load_config, words_problem
from ouroboros.errors import BadInputError
from ouroboros.patches.governor import Governor
from tests.ai.test_council import council_for
from tests.ai.test_queue import NEON


@pytest.fixture
def gov(tmp_path: Path) -> Iterator[Governor]:
    governor = Governor(tmp_path / "data", world_defaults=NEON, environ={})
    governor.new_key("op", ["*"])
    yield governor
    governor.close()


def _lore_server() -> MCPServer:
    server = MCPServer("lore")

    @server.tool()
    def legend(world: str, event: str) -> str:
        return f"The old harbour of {world} still whispers of the {event}"

    @server.tool()
    def numbers(world: str, event: str) -> str:
        return "Take 7 swords and 300 credits"

    @server.tool()
    def code(world: str, event: str) -> str:
        return "import os; os.system('rm')"

    @server.tool()
    async def slow(world: str, event: str) -> str:
        await asyncio.sleep(10)
        return "too late"

    @server.tool()
    def big(world: str, event: str) -> str:
        return "rust " * 200

    @server.tool()
    def markup(world: str, event: str) -> str:
        return "<b>neon</b> words"

    return server


@pytest.fixture(scope="module")
def lore_url() -> Iterator[str]:
    app = _lore_server().streamable_http_app()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
    server.should_exit = True
    thread.join(10)


def _config(url: str) -> ToolsConfig:
    names = ["legend", "numbers", "code", "slow", "big", "markup"]
    return ToolsConfig.model_validate(
        {
            "servers": {"lore": {"url": url}},
            "roles": {
                "narrative": {"allow": [f"lore.{n}" for n in names], "timeout_s": 2, "max_result_chars": 200}
            },
        }
    )


def test_allowed_tools_give_filtered_words_and_every_call_is_logged(lore_url: str) -> None:
    rows: list[tuple[str, dict[str, Any]]] = []
    tools = CouncilTools(_config(lore_url), lambda outcome, why: rows.append((outcome, why)))
    args = {"world": "neon", "event": "blackout"}
    assert (
        tools.words("narrative", "lore.legend", args)
        == "The old harbour of neon still whispers of the blackout"
    )
    for tool in ("numbers", "code", "big", "markup", "slow"):
        assert tools.words("narrative", f"lore.{tool}", args) is None, tool
    problems = [why.get("problem") for _, why in rows]
    assert [outcome for outcome, _ in rows] == ["used", "refused", "refused", "refused", "refused", "failed"]
    assert problems[1:] == ["numbers", "code", "too_large", "markup", "timeout"]
    assert all(why["role"] == "narrative" and why["tool"].startswith("lore.") for _, why in rows)
    assert "rust rust" not in json.dumps(rows[3][1])  # a refused answer's text is not kept


def test_a_tool_off_the_allow_list_is_refused_before_any_connection(lore_url: str) -> None:
    rows: list[tuple[str, dict[str, Any]]] = []

    def never(server: ServerConfig, tool: str, arguments: Mapping[str, Any], timeout_s: float) -> str:
        raise AssertionError("no call may be made")

    tools = CouncilTools(_config(lore_url), lambda o, w: rows.append((o, w)), caller=never)
    assert tools.words("flavour", "lore.legend", {}) is None  # the role has no tools
    assert tools.words("narrative", "lore.secret", {}) is None  # not on its list
    assert [(o, w["problem"]) for o, w in rows] == [("refused", "not_allowed")] * 2


def test_guardrail_words_are_refused_too(lore_url: str) -> None:
    rows: list[tuple[str, dict[str, Any]]] = []
    tools = CouncilTools(_config(lore_url), lambda o, w: rows.append((o, w)), banned=lambda: ("harbour",))
    assert tools.words("narrative", "lore.legend", {"world": "neon", "event": "x"}) is None
    assert rows[-1][1]["problem"] == "banned_term"


@pytest.mark.parametrize(
    ("doc", "says"),
    [
        ({"servers": {}, "roles": {}, "extra": 1}, "extra"),
        ({"servers": {"a": {"url": "ftp://x"}}}, "servers.a.url"),
        ({"servers": {"a": {}}}, "servers.a"),
        ({"servers": {"a": {"url": "http://x", "command": ["y"]}}}, "servers.a"),
        ({"servers": {}, "roles": {"narrative": {"allow": ["nodot"]}}}, "roles.narrative.allow"),
        ({"servers": {}, "roles": {"narrative": {"allow": ["ghost.tool"]}}}, "ghost.tool"),
        ({"servers": {}, "roles": {"narrative": {"timeout_s": 600}}}, "roles.narrative.timeout_s"),
        ({"servers": {}, "roles": {"narrative": {"max_result_chars": 10**6}}}, "max_result_chars"),
    ],
)
def test_a_bad_tools_file_names_the_key(tmp_path: Path, doc: dict[str, Any], says: str) -> None:
    path = tmp_path / "council_tools.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(BadInputError, match=says.replace(".", r"\.")):
        load_config(path)
    assert load_config(tmp_path / "absent.json") is None


@pytest.mark.parametrize(
    ("text", "ok"),
    [("A bell rings under the water", True), ("Level 9 boss", False), ("x = y", False), ("def f", False)],
)
def test_words_only(text: str, ok: bool) -> None:
    assert (words_problem(text) is None) is ok


def test_the_council_keeps_tool_lore_with_the_narrative_and_logs_the_call(
    gov: Governor, lore_url: str
) -> None:
    council = council_for(gov)
    council.tools = CouncilTools(_config(lore_url), lambda o, w: None)
    council.tools.config = ToolsConfig.model_validate(
        {
            "servers": {"lore": {"url": lore_url}},
            "roles": {"narrative": {"allow": ["lore.legend", "lore.numbers"]}},
        }
    )
    job = Job("job-1", ProposalType.EVENT, 5, "chaos", 42)
    assert council._tool_lore(job, "blackout") == ["The old harbour of neon still whispers of the blackout"]
    rows = [d for d in council.store.decisions(10) if d["rule"] == "mcp_tool"]
    assert sorted(d["outcome"] for d in rows) == ["refused", "used"]
    assert all(d["tick"] == 42 and d["job_id"] == "job-1" for d in rows)
