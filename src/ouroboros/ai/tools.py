"""MCP tools for the council: words (lore, names) from tools an operator makes available, made safe.

``<data>/council_tools.json`` (absent: no tools) lists the MCP servers and, per council role, the
tools it may call::

    {"servers": {"lore": {"url": "http://127.0.0.1:9000/mcp"}},
     "roles": {"narrative": {"allow": ["lore.legend"], "timeout_s": 5, "max_result_chars": 600}}}

A server is a streamable HTTP ``url`` or a stdio ``command`` (a list). What ``CouncilTools``
promises:

- A role calls only the tools its allow-list names (``server.tool``); anything else is refused
  before any connection.
- Each call has the role's timeout (``timeout_s``, at most 60) and its answer the role's size cap
  (``max_result_chars``, at most 4000); an answer over the cap is refused, never cut.
- The answer is untrusted text: it goes through the same filter as a model's words
  (``enrich.text_problem``: control characters, markup, braces, banned terms and the
  guardrails' words), and must be words only: no digits (numbers are the generators' to choose)
  and nothing that reads as code. A refused answer is not used.
- Every call, used or refused, is a row of the council's decision log (rule ``mcp_tool``: role,
  server, tool, outcome, the reason of a refusal, latency; never the answer's text beyond 200
  characters).
- The config is strict: an unknown key, a tool named without its server, a server without
  ``url`` or ``command`` is a ``BadInputError`` naming it; the council then runs without tools.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ouroboros.errors import BadInputError

TOOLS_FILE = "council_tools.json"
DIGITS = re.compile(r"[0-9]")
CODE = re.compile(r"[{}\[\];=<>`$\\|]|\b(def|class|import|function|return|lambda|eval|exec)\b|\(\)|=>|::")
SHOWN_CHARS = 200


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerConfig(_Strict):
    url: str | None = Field(None, pattern=r"^https?://")
    command: tuple[str, ...] | None = Field(None, min_length=1)


class RoleConfig(_Strict):
    allow: tuple[str, ...] = ()
    timeout_s: float = Field(5.0, gt=0, le=60)
    max_result_chars: int = Field(600, ge=1, le=4000)

    @field_validator("allow")
    @classmethod
    def _qualified(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        for name in names:
            if not re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_.-]+", name):
                raise ValueError(f"{name!r} is not server.tool")
        return names


class ToolsConfig(_Strict):
    servers: dict[str, ServerConfig] = {}
    roles: dict[str, RoleConfig] = {}


def load_config(path: Path) -> ToolsConfig | None:
    """The operator's council tools (``None`` when there is no file); bad ones name the key."""
    if not path.is_file():
        return None
    try:
        config = ToolsConfig.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            error = exc.errors()[0]
            where = ".".join(map(str, error["loc"]))
            raise BadInputError(f"{path}: {where}: {error['msg']}") from None
        raise BadInputError(f"{path}: {exc}") from None
    for name, server in config.servers.items():
        if (server.url is None) == (server.command is None):
            raise BadInputError(f"{path}: servers.{name}: give a url or a command (one of them)")
    for role, rc in config.roles.items():
        for tool in rc.allow:
            if tool.split(".", 1)[0] not in config.servers:
                raise BadInputError(f"{path}: roles.{role}.allow: {tool!r} names no listed server")
    return config


def words_problem(text: str, banned: Iterable[str] = ()) -> tuple[str, str] | None:
    """Why a tool's answer may not be used, as (code, message); ``None`` when it may."""
    from ouroboros.ai.llm.enrich import text_problem

    problem = text_problem(text, "description", banned)
    if problem is not None:
        return problem
    if DIGITS.search(text):
        return "numbers", "tools give words, never numbers"
    if CODE.search(text):
        return "code", "tools give words, never code"
    return None


#: (server config, tool, arguments, timeout_s) -> the answer's text; the SDK client by default
Caller = Callable[[ServerConfig, str, Mapping[str, Any], float], str]


def sdk_call(server: ServerConfig, tool: str, arguments: Mapping[str, Any], timeout_s: float) -> str:
    """One tool call with the SDK's client (a fresh connection each time), within ``timeout_s``."""

    async def call() -> str:
        from mcp import Client, StdioServerParameters

        target: Any = server.url
        if server.command is not None:
            target = StdioServerParameters(command=server.command[0], args=list(server.command[1:]))
        async with Client(target) as client:
            result = await client.call_tool(tool, dict(arguments))
        text = "".join(getattr(c, "text", "") for c in result.content)
        if result.is_error:
            raise RuntimeError(text[:SHOWN_CHARS] or "the tool failed")
        return text

    return asyncio.run(asyncio.wait_for(call(), timeout_s))


class CouncilTools:
    """The council's door to the operator's MCP tools (see the module docstring)."""

    def __init__(
        self,
        config: ToolsConfig,
        record: Callable[[str, dict[str, Any]], None],
        *,
        banned: Callable[[], Iterable[str]] = tuple,
        caller: Caller = sdk_call,
    ) -> None:
        self.config = config
        self.record = record  # (outcome, why) -> a row of the decision log
        self.banned = banned
        self.caller = caller

    def allowed(self, role: str) -> tuple[str, ...]:
        rc = self.config.roles.get(role)
        return () if rc is None else rc.allow

    def words(
        self,
        role: str,
        tool: str,
        arguments: Mapping[str, Any],
        *,
        record: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> str | None:
        """The tool's answer when the role may call it and it passes every check; else ``None``.
        ``record`` overrides where this call's decision-log row goes."""
        log = record or self.record
        why: dict[str, Any] = {"role": role, "tool": tool, "arguments": _shown(arguments)}
        rc = self.config.roles.get(role)
        if rc is None or tool not in rc.allow:
            log("refused", {**why, "problem": "not_allowed"})
            return None
        server = self.config.servers[tool.split(".", 1)[0]]
        started = time.monotonic()
        try:
            text = self.caller(server, tool.split(".", 1)[1], arguments, rc.timeout_s)
        except TimeoutError:
            log("failed", {**why, "problem": "timeout", "timeout_s": rc.timeout_s})
            return None
        except Exception as exc:  # the tool is outside code: its failure is recorded, not raised
            log("failed", {**why, "problem": f"{type(exc).__name__}: {str(exc)[:SHOWN_CHARS]}"})
            return None
        why["latency_ms"] = int((time.monotonic() - started) * 1000)
        why["result_chars"] = len(text)
        if len(text) > rc.max_result_chars:
            log("refused", {**why, "problem": "too_large", "max_result_chars": rc.max_result_chars})
            return None
        problem = words_problem(text, self.banned())
        if problem is not None:
            log("refused", {**why, "problem": problem[0], "message": problem[1]})
            return None
        log("used", {**why, "text": text[:SHOWN_CHARS]})
        return text


def _shown(arguments: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): str(v)[:SHOWN_CHARS] for k, v in list(arguments.items())[:10]}


__all__ = [
    "TOOLS_FILE",
    "CouncilTools",
    "ServerConfig",
    "ToolsConfig",
    "load_config",
    "sdk_call",
    "words_problem",
]
