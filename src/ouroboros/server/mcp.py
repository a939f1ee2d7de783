"""The Model Context Protocol server (the official ``mcp`` SDK): an AI assistant observes and operates
a live runtime as one more actor of the admin API.

``build_mcp(api)`` makes the ``MCPServer``; each tool is one admin API request (``ApiCaller``),
sent with the caller's bearer token and an ``X-MCP-Client`` header naming the MCP client, so the
API's own roles, TOTP rules, lockouts and audit apply unchanged: an operator token may propose,
approve, reject, roll back and engage the kill-switch; a viewer token only reads; a refusal comes
back as the tool's error (``refused (403): ...``), and the audit row names the MCP client.

Two doors:

- ``McpMount(app, auth)``: streamable HTTP at ``/mcp`` on ``go``'s own port (stateless, JSON
  answers); the token is the MCP request's ``Authorization: Bearer``; tool calls go to the same
  app in-process (``AsgiCaller``), from the MCP client's own address.
- ``ouroboros mcp --url URL --token T`` (``cli/mcp.py``): stdio, calling a running ``go``'s API
  over HTTP (``HttpCaller``) with that token.

Read tools: ``world_state`` (tick, KPIs, version, timing), ``queue`` (each waiting proposal with
its diff), ``ledger``, ``killswitch``, ``events`` (the durable event log). Write tools:
``propose``, ``approve``, ``reject``, ``rollback``, ``killswitch_engage``,
``killswitch_release`` (admin, TOTP).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from ouroboros import __version__

CLIENT_NAME = re.compile(r"[^A-Za-z0-9._ -]")
MAX_DIFFS = 20
MCP_PATH = "/mcp"

#: (method, path, token, client, params, body, totp) -> (status, answer)
ApiCaller = Callable[..., Awaitable[tuple[int, Any]]]


def client_label(name: Any) -> str:
    """An MCP client's name as the audit shows it: printable, short."""
    text = CLIENT_NAME.sub("", str(name or "unnamed"))[:64].strip()
    return text or "unnamed"


def _headers(token: str | None, client: str, totp: str | None) -> dict[str, str]:
    headers = {"X-MCP-Client": client_label(client)}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if totp:
        headers["X-TOTP"] = totp
    return headers


def _answer(response: httpx.Response) -> tuple[int, Any]:
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text


class AsgiCaller:
    """Admin API requests to an app in this process (``go``'s, for the ``/mcp`` mount)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(
        self,
        method: str,
        path: str,
        *,
        token: str | None,
        client: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        totp: str | None = None,
        peer: tuple[str, int] = ("127.0.0.1", 0),
    ) -> tuple[int, Any]:
        transport = httpx.ASGITransport(app=self.app, client=peer)
        async with httpx.AsyncClient(transport=transport, base_url="http://ouroboros") as http:
            response = await http.request(
                method, path, params=params, json=body, headers=_headers(token, client, totp)
            )
        return _answer(response)


class HttpCaller:
    """Admin API requests to a running ``go`` over HTTP (``ouroboros mcp`` on stdio)."""

    def __init__(self, url: str, timeout_s: float = 120.0) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s

    async def __call__(
        self,
        method: str,
        path: str,
        *,
        token: str | None,
        client: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        totp: str | None = None,
        peer: tuple[str, int] = ("127.0.0.1", 0),
    ) -> tuple[int, Any]:
        async with httpx.AsyncClient(base_url=self.url, timeout=self.timeout_s) as http:
            response = await http.request(
                method, path, params=params, json=body, headers=_headers(token, client, totp)
            )
        return _answer(response)


def _detail(answer: Any) -> str:
    if isinstance(answer, dict) and "detail" in answer:
        detail = answer["detail"]
        if isinstance(detail, dict):
            return str(detail.get("message") or detail)
        if isinstance(detail, list):
            return "; ".join(f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg')}" for d in detail[:5])
        return str(detail)
    return str(answer)[:500]


def build_mcp(api: ApiCaller, token: str | None = None) -> Any:
    """The MCP server over ``api``. ``token``: the bearer token of every call (stdio); without it,
    each call's HTTP ``Authorization`` header (the ``/mcp`` mount)."""
    # the SDK configures the root logger (logging.basicConfig) unless it has a handler: keep the
    # process's logging as its command set it up
    root, hold = logging.getLogger(), logging.NullHandler()
    root.addHandler(hold)
    try:
        server = MCPServer(
            "ouroboros",
            version=__version__,
            log_level="WARNING",
            instructions="Observe and operate a live ouroboros runtime through its admin API: your token "
            "role decides what you may do; writes need a reason (and a TOTP code where the API asks one).",
        )
    finally:
        root.removeHandler(hold)

    def who(ctx: Context) -> tuple[str | None, str, tuple[str, int]]:
        """The caller's token, the MCP client's name and address."""
        bearer, peer = token, ("127.0.0.1", 0)
        try:
            request = ctx.request_context.request
        except ValueError:
            request = None
        headers = getattr(request, "headers", None)
        if bearer is None and headers is not None:
            scheme, _, value = str(headers.get("authorization", "")).partition(" ")
            bearer = value.strip() if scheme.lower() == "bearer" else None
        client = getattr(request, "client", None)
        if client is not None:
            peer = (str(client.host), int(client.port))
        name = None
        try:
            params = ctx.request_context.session.client_params
            info = getattr(params, "client_info", None) or getattr(params, "clientInfo", None)
            name = getattr(info, "name", None)
        except (ValueError, AttributeError):
            pass
        if name is None and headers is not None:
            name = headers.get("user-agent")
        return bearer, client_label(name), peer

    async def call(
        ctx: Context,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        totp: str | None = None,
    ) -> Any:
        bearer, client, peer = who(ctx)
        status, answer = await api(
            method,
            path,
            token=bearer,
            client=client,
            params={k: v for k, v in (params or {}).items() if v is not None},
            body=body,
            totp=totp,
            peer=peer,
        )
        if status >= 400:
            raise ToolError(f"refused ({status}): {_detail(answer)}")
        return answer

    # -- reading -------------------------------------------------------------------------------
    @server.tool()
    async def world_state(world: str, ctx: Context) -> str:
        """A world's tick, KPIs, gameplay version and tick timing."""
        return json.dumps(await call(ctx, "GET", "/api/world/state", params={"world": world}))

    @server.tool()
    async def queue(world: str, ctx: Context) -> str:
        """The proposals waiting for a person, each with its diff (what it would change)."""
        items = await call(ctx, "GET", "/api/queue", params={"world": world})
        out = []
        for item in (items if isinstance(items, list) else [])[:MAX_DIFFS]:
            pid = item.get("proposal_id")
            diff = await call(ctx, "GET", f"/api/queue/{pid}/diff", params={"world": world})
            out.append({**item, "diff": diff})
        return json.dumps(out)

    @server.tool()
    async def ledger(world: str, ctx: Context, limit: int = 50) -> str:
        """A world's ledger: its active pointer and entries (hash-chained), newest first."""
        return json.dumps(await call(ctx, "GET", "/api/ledger", params={"world": world, "limit": limit}))

    @server.tool()
    async def killswitch(ctx: Context) -> str:
        """Each world's kill-switch: are new AI patches refused."""
        return json.dumps(await call(ctx, "GET", "/api/killswitch"))

    @server.tool()
    async def events(
        ctx: Context, since: int | None = None, kind: str | None = None, limit: int = 100
    ) -> str:
        """The durable event log: after `since` (oldest first), else the newest `limit`."""
        query = {"since": since, "kind": kind, "limit": limit}
        return json.dumps(await call(ctx, "GET", "/api/events", params=query))

    # -- operating (the API decides who may) ------------------------------------------------------
    @server.tool()
    async def propose(world: str, type: str, reason: str, ctx: Context, seed: int | None = None) -> str:
        """Ask the council for one proposal of `type` (ITEM, NPC, QUEST, ...); it waits in the queue."""
        body: dict[str, Any] = {"world": world, "type": type, "reason": reason}
        if seed is not None:
            body["seed"] = seed
        return json.dumps(await call(ctx, "POST", "/api/queue/propose", body=body))

    @server.tool()
    async def approve(
        world: str, proposal_id: str, reason: str, ctx: Context, totp: str | None = None
    ) -> str:
        """Approve a waiting proposal: it goes through the governance pipeline."""
        body = {"world": world, "reason": reason}
        return json.dumps(await call(ctx, "POST", f"/api/queue/{proposal_id}/approve", body=body, totp=totp))

    @server.tool()
    async def reject(world: str, proposal_id: str, reason: str, ctx: Context) -> str:
        """Reject a waiting proposal."""
        body = {"world": world, "reason": reason}
        return json.dumps(await call(ctx, "POST", f"/api/queue/{proposal_id}/reject", body=body))

    @server.tool()
    async def rollback(
        world: str, reason: str, ctx: Context, to: str | None = None, totp: str | None = None
    ) -> str:
        """Go back to a known-good version (default: the one before)."""
        body: dict[str, Any] = {"world": world, "reason": reason}
        if to is not None:
            body["to"] = to
        return json.dumps(await call(ctx, "POST", "/api/rollback", body=body, totp=totp))

    @server.tool()
    async def killswitch_engage(reason: str, ctx: Context, world: str | None = None) -> str:
        """Engage the kill-switch: refuse every new AI patch (the game goes on)."""
        body: dict[str, Any] = {"reason": reason, "world": world}
        return json.dumps(await call(ctx, "POST", "/api/killswitch/engage", body=body))

    @server.tool()
    async def killswitch_release(reason: str, totp: str, ctx: Context, world: str | None = None) -> str:
        """Release the kill-switch (admin, with a fresh TOTP code)."""
        body: dict[str, Any] = {"reason": reason, "world": world}
        return json.dumps(await call(ctx, "POST", "/api/killswitch/release", body=body, totp=totp))

    return server


class McpMount:
    """Streamable HTTP MCP at ``/mcp`` of ``go``'s app (stateless; the session manager starts with
    the first request, on the server's loop, and lives as long as the loop)."""

    def __init__(self, app: Any, auth: Any) -> None:
        from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

        self.auth = auth
        server = build_mcp(AsgiCaller(app))
        self.manager = StreamableHTTPSessionManager(
            server._lowlevel_server, json_response=True, stateless=True
        )
        self._started: asyncio.Event | None = None

    async def _run(self, started: asyncio.Event) -> None:
        async with self.manager.run():
            started.set()
            await asyncio.Event().wait()  # until the loop ends

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if self._started is None:
            self._started = asyncio.Event()
            asyncio.get_running_loop().create_task(self._run(self._started))
        await self._started.wait()
        self._identify(scope)
        await self.manager.handle_request(scope, receive, send)

    def _identify(self, scope: Any) -> None:
        """The audit row of an MCP request names who sent it (the tool's own request is audited too)."""
        headers = dict(scope.get("headers") or [])
        kind, _, value = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        if kind.lower() != "bearer" or not value:
            return
        try:
            user = self.auth.authenticate(value.strip())
        except Exception:  # an unknown token: the tool's API request refuses it
            return
        state = scope.setdefault("state", {})
        state["actor"], state["role"] = f"{user.name} (mcp)", user.role


__all__ = ["MCP_PATH", "AsgiCaller", "HttpCaller", "McpMount", "build_mcp", "client_label"]
