"""The admin API: ``create_app(runtime, settings=ApiSettings())`` gives the FastAPI app of one runtime.

What it promises:

- ``/health`` and ``/api/auth/login`` are open; every other route needs a bearer token and a
  role (viewer < operator < admin); privileged overrides also a fresh TOTP code. The OpenAPI
  document is ``/openapi.json`` for any role; ``/docs`` and ``/redoc`` are off.
- Every request gets a request id (``X-Request-ID``: the client's when it is sane, else a new
  one), echoed on the response and written in one JSON log line (logger ``ouroboros.api``).
- Every write (POST, PUT, PATCH, DELETE), allowed or refused, is a row of the audit table with
  its actor, status, reason and request id, written before its answer leaves.
- Every body passes ``strict_json`` first: ``NaN``, ``Infinity``, ``1e400``, integers past 64
  bits, lone surrogates and repeated keys are a 422 (``code: bad_json``) before any route runs.
- A body over ``max_body_bytes`` is refused with 413 before it is read whole; a body of the wrong
  shape is 422 with each field's reason; an unknown id 404. A refused request changes nothing.
- CORS is closed unless ``cors_origins`` names origins. The dashboard's built files
  (``web_dist``) are served at ``/`` when the folder exists. The world stream and ``/metrics``
  are mounted when ``ouroboros.server.stream`` / ``metrics`` are there, behind the same tokens:
  the stream takes ``?token=``, ``/metrics`` a bearer token of any role (what a Prometheus
  scrape job's ``authorization`` / ``bearer_token`` setting sends). A stream client (operator or
  above) may send ``{"type": "set_params", "world", "params", "reason"}``: checked like
  ``PUT /api/world/params``, answered on the stream, audited.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Response
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ouroboros import __version__, tracing
from ouroboros.errors import AuthError, BadJsonError
from ouroboros.server.api import strict_json
from ouroboros.server.api.auth import SESSION_COOKIE, AuthStore
from ouroboros.server.gateway.throttle import ACCOUNT_LOCKOUT, ADDRESS_LOCKOUT, LockoutPolicy, LoginGuard
from ouroboros.server.runtime import Runtime

log = logging.getLogger("ouroboros.api")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
MCP_CLIENT = re.compile(r"[^A-Za-z0-9._ -]")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_MAX_BODY_BYTES = 256 * 1024


@dataclass(frozen=True)
class ApiSettings:
    """``account_lockout`` / ``address_lockout``: failed logins and TOTP codes per account and
    per client address before a lockout (429 with ``Retry-After``, an audit row and a feed
    ``security`` event); see ``throttle.LockoutPolicy``."""

    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    web_dist: Path | None = None
    account_lockout: LockoutPolicy = ACCOUNT_LOCKOUT
    address_lockout: LockoutPolicy = ADDRESS_LOCKOUT
    alert_webhook: str | None = None  # alerts are also POSTed here as JSON (retried, off the tick)


class _TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the body is over {limit} bytes")


def _json_of(body: bytes) -> Any:
    """The body as JSON (leniently: only to find the audit reason), ``None`` when it is not."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _reason_of(body: bytes, headers: dict[bytes, bytes], query: bytes) -> str | None:
    """The audit reason: the body's ``reason``, else the ``X-Reason`` header, else ``?reason=``.
    Never raises: a body it cannot read gives no reason (the audit row is written regardless)."""
    reason = headers.get(b"x-reason", b"").decode("utf-8", "replace")[:500] or None
    if body:
        try:
            doc = _json_of(body)
        except Exception:  # whatever the body is, the audit row is still written
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("reason"), str):
            reason = doc["reason"][:500]
    if reason is None and query:
        from urllib.parse import parse_qs

        found = parse_qs(query.decode("latin-1")).get("reason")
        reason = found[0][:500] if found else None
    return reason


class RequestContext:
    """Request id, body limit, JSON access log and the audit of writes (a pure ASGI middleware)."""

    def __init__(self, app: ASGIApp, *, auth: AuthStore, max_body_bytes: int) -> None:
        self.app = app
        self.auth = auth
        self.max_body_bytes = max_body_bytes

    def _identify(self, headers: dict[bytes, bytes], state: dict[str, Any]) -> None:
        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        try:
            if scheme.lower() == "bearer" and token:
                user = self.auth.authenticate(token.strip())
            else:
                from http.cookies import SimpleCookie

                jar: SimpleCookie = SimpleCookie()
                jar.load(headers.get(b"cookie", b"").decode("latin-1"))
                if SESSION_COOKIE not in jar:
                    return
                user = self.auth.session_user(jar[SESSION_COOKIE].value)
        except (AuthError, ValueError, KeyError):
            return
        state["actor"], state["role"] = user.name, user.role

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False
        body = bytearray()

        audited = False

        def audit() -> None:
            """The write's audit row, once: written before its answer leaves, so a client that
            has its answer finds the row."""
            nonlocal audited
            method = scope.get("method", "")
            if audited or method not in WRITE_METHODS:
                return
            audited = True
            try:
                reason = _reason_of(
                    bytes(body[: self.max_body_bytes]), headers, scope.get("query_string", b"")
                )
            except Exception:  # the audit row matters more than its reason
                reason = None
            actor = state.get("actor") or "anonymous"
            client = MCP_CLIENT.sub("", headers.get(b"x-mcp-client", b"").decode("latin-1"))[:64]
            if client:  # an MCP client is one more actor: the audit names it beside the user
                actor = f"{actor} via mcp:{client}"
            try:
                self.auth.audit(
                    actor=actor,
                    role=state.get("role"),
                    method=method,
                    path=scope.get("path", ""),
                    status=status,
                    reason=reason,
                    request_id=request_id,
                )
            except Exception:  # never a traceback to the client; the log line still says it
                log.exception("the audit row of request %s could not be written", request_id)

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                audit()
            await send(message)

        async def read_body() -> bool:
            """Read the whole body (at most the limit) before the app sees it; False: too big."""
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return True
                body.extend(message.get("body", b""))
                if len(body) > self.max_body_bytes:
                    return False
                if not message.get("more_body"):
                    return True

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        length = headers.get(b"content-length", b"0")
        try:
            if not length.isdigit() or int(length) > self.max_body_bytes or not await read_body():
                raise _TooLarge(self.max_body_bytes)
            if body.strip():
                strict_json.loads(bytes(body))  # the one strict door: every body is checked here
            name = f"HTTP {scope.get('method', '')} {scope.get('path', '')}"
            with tracing.span(name, request_id=request_id) as current:
                await self.app(scope, replay, send_with_id)
                if current is not None:
                    current.set_attribute("http.status_code", status)
        except _TooLarge:
            if not response_started:
                await _send_json(
                    send_with_id, 413, {"detail": f"the body is over {self.max_body_bytes} bytes"}
                )
        except BadJsonError as exc:
            self._identify(headers, state)  # refused before any route ran: the audit still names who
            if not response_started:
                where = f" at {exc.path}" if exc.path else ""
                await _send_json(send_with_id, 422, {"detail": f"{exc.message}{where}", "code": exc.code})
        finally:
            method = scope.get("method", "")
            actor = state.get("actor") or "anonymous"
            audit()  # a request that never got an answer (the client left, the app failed)
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": method,
                    "path": scope.get("path", ""),
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1e3, 2),
                    "actor": strict_json.safe_text(actor),
                },
            )


async def _send_json(send: Send, status: int, doc: dict[str, Any]) -> None:
    payload = json.dumps(doc).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def create_app(
    runtime: Runtime, *, settings: ApiSettings | None = None, auth: AuthStore | None = None
) -> FastAPI:
    """The admin API of ``runtime`` (its users in ``<data>/server.sqlite3`` unless ``auth``)."""
    from ouroboros.server.api import (
        routes_ai,
        routes_cluster,
        routes_gov,
        routes_ops,
        routes_players,
        routes_profiler,
        routes_rollout,
        routes_session,
        routes_watch,
        routes_world,
    )

    settings = settings or ApiSettings()
    auth = auth or AuthStore(runtime.data_dir)
    app = FastAPI(
        title="ouroboros",
        version=__version__,
        openapi_url=None,  # served below, behind a token like every route but health and login
        docs_url=None,
        redoc_url=None,
        summary="The admin API of a live ouroboros runtime: worlds, governance, council, snapshots.",
        openapi_tags=[
            {"name": "health", "description": "Liveness; no token needed."},
            {"name": "auth", "description": "Login, users, tokens and the audit of every write."},
            {"name": "world", "description": "World state, parameters and tick timing."},
            {"name": "control", "description": "STOP and GO: pause and resume ticking."},
            {"name": "feed", "description": "What happened: verdicts, director, evolution."},
            {"name": "snapshots", "description": "Save and restore world states."},
            {"name": "governance", "description": "Patches, ledger, rollback, kill-switch."},
            {"name": "director", "description": "The council's director: sliders and stop."},
            {"name": "queue", "description": "Proposals waiting for a person."},
            {"name": "guardrails", "description": "Budgets and bans for generators."},
            {"name": "evolution", "description": "The evolution loop of a world that evolves."},
            {"name": "metrics", "description": "Prometheus metrics; a bearer token of any role."},
            {"name": "profiler", "description": "The engine's profiler and optimizer: timeline, controls."},
            {"name": "alerts", "description": "Rollbacks, kill-switch, fault storms, restart loops, holds."},
        ],
    )
    app.state.runtime = runtime
    app.state.auth = auth
    app.state.settings = settings
    policies = {
        "account": settings.account_lockout,
        "totp": settings.account_lockout,
        "address": settings.address_lockout,
    }
    app.state.login_guard = LoginGuard(policies, clock=auth.clock)
    routers = [routes_world.router, routes_gov.router, routes_ai.router, routes_players.router]
    routers += [routes_rollout.router, routes_ops.router, routes_cluster.router]
    for router in [*routers, routes_session.router, routes_profiler.router, routes_watch.router]:
        app.include_router(router)
    _watch(app, runtime, settings)
    _guard_openapi(app)
    _mount_stream_and_metrics(app, runtime, auth)
    _mount_mcp(app, auth)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID", "X-TOTP", "X-Reason"],
        )
    app.add_middleware(RequestContext, auth=auth, max_body_bytes=settings.max_body_bytes)
    if settings.web_dist is not None and settings.web_dist.is_dir():
        from fastapi.staticfiles import StaticFiles
        from starlette.responses import RedirectResponse
        from starlette.routing import Route

        async def to_admin(request: Any) -> RedirectResponse:
            return RedirectResponse("/admin/", status_code=307)

        app.router.routes.append(Route("/admin", to_admin, methods=["GET"], include_in_schema=False))
        dashboard = StaticFiles(directory=settings.web_dist, html=True)
        app.mount("/admin", dashboard, name="dashboard-admin")  # the seed's path to the dashboard
        app.mount("/", dashboard, name="dashboard")
    return app


def _mount_mcp(app: FastAPI, auth: AuthStore) -> None:
    """The MCP server (streamable HTTP) at ``/mcp``: each tool is a request to this app with the
    caller's token (``ouroboros.server.mcp``), when the ``mcp`` SDK is installed."""
    try:
        from ouroboros.server.mcp import MCP_PATH, McpMount
    except ImportError:
        return
    mount: Any = McpMount(app, auth)  # an ASGI app: Starlette routes to it as it is
    app.add_route(MCP_PATH, mount, methods=["GET", "POST", "DELETE"], include_in_schema=False)


def _watch(app: FastAPI, runtime: Runtime, settings: ApiSettings) -> None:
    """The charts' history (sampled after ticks) and the alert center (listening to the feed)."""
    from ouroboros.server.runtime.alerts import AlertCenter, Webhook
    from ouroboros.server.runtime.history import History

    webhook = Webhook(settings.alert_webhook) if settings.alert_webhook else None
    alerts = AlertCenter(runtime.feed, webhook=webhook)
    history = History()
    for name in runtime.worlds:
        history.attach(runtime.runner(name), on_sample=alerts.observe_kpis)
    app.state.history = history
    app.state.alerts = alerts


def _guard_openapi(app: FastAPI) -> None:
    """``GET /openapi.json`` for a viewer or above (the interactive pages ``/docs`` and ``/redoc``
    are off: they would fetch the document without a token)."""
    from ouroboros.server.api.deps import require

    @app.get(
        "/openapi.json",
        tags=["auth"],
        summary="This API's OpenAPI document; any role's bearer token",
        dependencies=[Depends(require("viewer"))],
    )
    def openapi_document() -> dict[str, Any]:
        return app.openapi()

    _ = openapi_document


def _mount_stream_and_metrics(app: FastAPI, runtime: Runtime, auth: AuthStore) -> None:
    try:
        from ouroboros.server.stream import StreamHub, mount_world_stream
    except ImportError:
        return

    def authenticate(token: str | None) -> Any:
        try:
            if (token or "").startswith("obt_"):  # a signed-in browser's short-lived stream ticket
                return auth.ticket_user(token or "")
            return auth.authenticate(token or "")
        except AuthError:
            return None

    from ouroboros.worlds import world_spec

    hubs = {name: StreamHub(name) for name in runtime.worlds if world_spec(name).stream is not None}

    def to_hubs(event: dict[str, Any]) -> None:
        for hub in hubs.values():
            hub.publish_feed(event)

    runtime.feed.subscribe(to_hubs)
    for name, hub in hubs.items():

        def offer(world: Any, ms: float, hub: StreamHub = hub) -> None:
            hub.offer(world)

        runtime.runner(name).after_tick.append(offer)
    mount_world_stream(app, hubs, authenticate, _client_messages(runtime, auth))
    app.state.hubs = hubs
    try:
        from ouroboros.server.stream.metrics import RuntimeMetrics, mount_metrics
    except ImportError:
        return
    metrics = RuntimeMetrics()
    for name, hub in hubs.items():
        metrics.watch_hub(name, hub)

        def observe(world: Any, ms: float, name: str = name) -> None:
            metrics.observe_tick(name, ms / 1e3)
            if world.tick % 30 == 0:
                metrics.observe_world(name, world)

        runtime.runner(name).after_tick.append(observe)
    mount_metrics(app, metrics)  # its request counting; its open route is replaced below
    _guard_metrics(app, metrics)
    app.state.metrics = metrics


def _client_messages(runtime: Runtime, auth: AuthStore) -> Any:
    """What a stream client may send besides ``ping``: ``{"type": "set_params", "world": W,
    "params": {name: int}, "reason": "..."}`` (operator or above), checked like
    ``PUT /api/world/params`` and applied off the event loop; the answer is ``{"type": "params",
    ...}`` or ``{"type": "error", "code", "message"}`` (the stream stays open). Audited like
    every write (method ``WS``)."""
    import asyncio

    from pydantic import ValidationError

    from ouroboros.errors import BadInputError, OuroborosError, RejectedError
    from ouroboros.server.api.auth import User
    from ouroboros.server.api.models import ParamsUpdate

    async def on_message(user: User, msg: dict[str, Any]) -> dict[str, Any]:
        kind = msg.get("type")
        if kind != "set_params":
            known = "ping, set_params"
            raise BadInputError(f"unknown message type {kind!r} (known: {known})", code="unknown_type")
        request_id = uuid.uuid4().hex
        reason = msg.get("reason") if isinstance(msg.get("reason"), str) else None
        status = 500

        def audit() -> None:
            log.info(
                "stream message",
                extra={
                    "request_id": request_id,
                    "method": "WS",
                    "path": "/ws/world-stream#set_params",
                    "status": status,
                    "actor": user.name,
                },
            )
            auth.audit(
                actor=user.name,
                role=user.role,
                method="WS",
                path="/ws/world-stream#set_params",
                status=status,
                reason=reason[:500] if reason else None,
                request_id=request_id,
            )

        try:
            if not user.may("operator"):
                status = 403
                raise OuroborosError(
                    f"setting parameters needs the operator role; {user.name} is {user.role}",
                    code="forbidden",
                )
            try:
                strict_json.check(msg)  # the same strict JSON as an HTTP body
            except BadJsonError:
                status = 422
                raise
            try:
                body = ParamsUpdate.model_validate({k: v for k, v in msg.items() if k != "type"})
            except ValidationError as exc:
                status = 422
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise BadInputError(f"{where}: {first['msg']}", code="bad_message") from None
            if body.world not in runtime.worlds:
                status = 404
                raise BadInputError(f"world {body.world!r} is not running here", code="unknown_world")
            runner = runtime.runner(body.world)
            try:
                out = await asyncio.to_thread(
                    runner.governance.set_params, body.params, user.name, body.reason
                )
            except OuroborosError as exc:
                status = 422 if isinstance(exc, BadInputError | RejectedError) else 409
                raise
            status = 200
            return {"type": "params", "world": body.world, "request_id": request_id, "result": out}
        finally:
            audit()

    return on_message


def _guard_metrics(app: FastAPI, metrics: Any) -> None:
    """``GET /metrics`` for a viewer or above, in place of the open route ``mount_metrics`` adds
    (still async: served on the event loop, where the stream hubs count)."""
    from ouroboros.server.api.deps import require
    from ouroboros.server.stream.metrics import metrics_response

    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) != "/metrics"]

    @app.get(
        "/metrics",
        tags=["metrics"],
        summary="Prometheus metrics (text exposition); any role's bearer token",
        response_class=Response,
        dependencies=[Depends(require("viewer"))],
    )
    async def metrics_text() -> Response:
        return metrics_response(metrics.registry)

    _ = metrics_text


__all__ = ["ApiSettings", "HTTPException", "RequestContext", "create_app"]
