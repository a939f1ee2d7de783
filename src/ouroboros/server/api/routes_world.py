"""Routes: health, login, users and audit; world state, parameters, stats, STOP/GO, feed, snapshots."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response

from ouroboros.errors import AuthError, OuroborosError
from ouroboros.server.api import models as m
from ouroboros.server.api.auth import token_id as id_of
from ouroboros.server.api.deps import (
    Admin,
    Operator,
    TotpHeader,
    Viewer,
    WorldQuery,
    auth_of,
    check_totp,
    client_address,
    guarded,
    local_world,
    refused,
    runner,
    runtime_of,
    shards_of,
)

router = APIRouter()
RestoreMode = Annotated[Literal["world_only", "everything"], Query(description="What a restore puts back.")]


@router.get("/health", tags=["health"], summary="Is the server up (no token needed)", response_model=m.Health)
def health(request: Request) -> m.Health:
    runtime = runtime_of(request)
    ticks = {
        name: (shards.status()["tick"] if (shards := shards_of(r)) is not None else r.world.tick)
        for name, r in runtime.runners.items()
    }
    return m.Health(status="ok", worlds=ticks)


# -- auth and users ----------------------------------------------------------------------------
@router.post(
    "/api/auth/login",
    tags=["auth"],
    summary="Exchange a one-time secret (single use) or check a token; returns a bearer token",
    response_model=m.LoginResponse,
)
def login(request: Request, response: Response, body: m.LoginRequest) -> m.LoginResponse:
    """Wrong secrets count per client address and per ``username`` (when given): past
    ``ApiSettings.account_lockout`` / ``address_lockout`` the login answers 429 for a while.
    A login also starts a browser session: an httpOnly, SameSite=Strict cookie that lasts a week
    unless revoked (``/api/auth/sessions``) or signed out (``/api/auth/logout``)."""
    keys = [f"address:{client_address(request)}"]
    if body.username is not None:
        keys.append(f"account:{body.username}")
    try:
        user, token = guarded(
            request,
            keys,
            lambda: auth_of(request).login(body.secret, body.username, mint=not body.session_only),
            counts=lambda e: True,
        )
    except AuthError as exc:
        raise HTTPException(401, exc.message) from exc
    request.state.actor, request.state.role = user.name, user.role
    from ouroboros.server.api.routes_session import start_session

    start_session(request, response, user)  # the dashboard's cookie: it survives reloads and closed tabs
    return m.LoginResponse(token=None if body.session_only else token, user=user.name, role=user.role)


@router.get("/api/auth/me", tags=["auth"], summary="Who this token is", response_model=m.Me)
def me(user: Viewer) -> m.Me:
    return m.Me(user=user.name, role=user.role)


@router.get("/api/users", tags=["auth"], summary="Users and their roles (admin)")
def list_users(request: Request, user: Admin) -> list[dict[str, Any]]:
    return auth_of(request).users()


@router.post("/api/users", tags=["auth"], summary="Make a user and its first token (shown once; admin)")
def create_user(request: Request, body: m.NewUser, user: Admin) -> dict[str, Any]:
    try:
        return auth_of(request).create_user(body.name, body.role, user.name)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    except FileExistsError:
        raise HTTPException(409, f"user {body.name} already exists") from None


@router.post(
    "/api/users/{name}/tokens", tags=["auth"], summary="Another token for a user (shown once; admin)"
)
def new_token(request: Request, name: str, body: m.NewToken, user: Admin) -> dict[str, str]:
    try:
        token = auth_of(request).new_token(name, body.label)
    except KeyError:
        raise HTTPException(404, f"no user {name!r}") from None
    return {"user": name, "token": token, "id": id_of(token)}


@router.get("/api/users/{name}/tokens", tags=["auth"], summary="A user's tokens: id, label, revoked (admin)")
def list_tokens(request: Request, name: str, user: Admin) -> list[dict[str, Any]]:
    try:
        return auth_of(request).tokens(name)
    except KeyError:
        raise HTTPException(404, f"no user {name!r}") from None


@router.post(
    "/api/users/{name}/tokens/{token_id}/revoke",
    tags=["auth"],
    summary="Revoke a user's token, refused from then on (admin; audited with its reason)",
)
def revoke_token(
    request: Request,
    name: str,
    token_id: Annotated[str, Path(pattern="^[0-9a-f]{16}$", description="The token's id (16 hex digits).")],
    body: m.Reasoned,
    user: Admin,
) -> dict[str, Any]:
    try:
        revoked = auth_of(request).revoke_token(name, token_id)
    except KeyError:
        raise HTTPException(404, f"no token {token_id} of user {name!r}") from None
    except AuthError as exc:
        raise HTTPException(exc.status, exc.message) from exc
    runtime_of(request).feed.publish("auth", None, action="revoke_token", actor=user.name, **revoked)
    return revoked


@router.get("/api/audit", tags=["auth"], summary="Every write on the API, newest first (admin)")
def audit(
    request: Request,
    user: Admin,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    request_id: Annotated[str | None, Query(max_length=128)] = None,
) -> list[dict[str, Any]]:
    return auth_of(request).audit_rows(limit, request_id)


# -- the worlds --------------------------------------------------------------------------------
@router.get("/api/world/state", tags=["world"], summary="A world's tick, KPIs, version and timing")
def world_state(request: Request, user: Viewer, world: WorldQuery) -> dict[str, Any]:
    """``entities`` counts what lives in the world (petri: molbots; ``food`` its food items apart),
    ``entities_total`` every live engine entity; all read at one tick. A world its shards tick
    (a cluster's control) answers what they last reported: each shard's tick, version, players."""
    r = runner(request, world)
    shards = shards_of(r)
    if shards is not None:
        return {"world": world, **shards.status()}
    with r.lock:
        kpis = r.kpis()
        total = r.world.entity_count
        state = {
            "world": world,
            "tick": r.world.tick,
            "seed": r.world.seed,
            "entities": total,
            "entities_total": total,
            "gameplay_version": r.world.resources.get("gameplay_version"),
            "kpis": kpis,
        }
        if isinstance(kpis.get("food_count"), int) and isinstance(kpis.get("entity_count"), int):
            state["entities"], state["food"] = kpis["entity_count"], kpis["food_count"]
    return {**state, "stats": r.stats(), "ports": r.ports}


@router.get("/api/world/params", tags=["world"], summary="A world's parameters")
def get_params(request: Request, user: Viewer, world: WorldQuery) -> dict[str, Any]:
    return {"world": world, "params": local_world(request, world).governance.params()}


@router.put(
    "/api/world/params",
    tags=["world"],
    summary="Change parameters (a governed world_params patch)",
)
def set_params(request: Request, body: m.ParamsUpdate, user: Operator) -> dict[str, Any]:
    r = runner(request, body.world)
    try:
        return r.governance.set_params(body.params, user.name, body.reason)
    except OuroborosError as exc:
        raise refused(exc) from exc


router.add_api_route(
    "/api/world/params",
    set_params,
    methods=["POST"],
    tags=["world"],
    summary="Change parameters (the same as PUT)",
    operation_id="set_params_post",
)


@router.get("/api/worlds", tags=["world"], summary="The worlds this server runs, and how to draw each")
def worlds(request: Request, user: Viewer) -> list[dict[str, Any]]:
    """Each running world's name, summary, whether people play it (over telnet and WebSocket),
    and its stream (``kind`` code, ``legend``: entity kind code → what it is, ``resource``), or
    ``null`` for a world that is not streamed."""
    from ouroboros.worlds import world_spec

    out = []
    for name in runtime_of(request).worlds:
        spec = world_spec(name)
        stream = spec.stream
        out.append({
            "name": name,
            "summary": spec.summary,
            "played": spec.game is not None,
            "stream": None if stream is None else {
                "kind": stream.kind,
                "legend": {str(code): label for code, label in sorted(stream.legend.items())},
                "resource": stream.resource,
            },
        })  # fmt: skip
    return out


@router.get("/api/stats", tags=["world"], summary="Tick timing (p50/p95 ms), pace and state of every world")
def stats(request: Request, user: Viewer) -> dict[str, Any]:
    runtime = runtime_of(request)
    return {
        "worlds": {
            name: r.stats() if (shards := shards_of(r)) is None else {**r.stats(), **shards.status()}
            for name, r in runtime.runners.items()
        }
    }


@router.post("/api/control/stop", tags=["control"], summary="STOP: pause ticking (one world or all)")
def control_stop(request: Request, body: m.OptionalWorld, user: Operator) -> m.Controlled:
    runtime = runtime_of(request)
    for name in [body.world] if body.world is not None else runtime.worlds:
        local_world(request, name)
    names = runtime.pause(None if body.world is None else [body.world], actor=user.name, reason=body.reason)
    runtime.feed.publish("control", body.world, action="stop", actor=user.name, reason=body.reason)
    return m.Controlled(worlds=names, paused=True)


@router.post("/api/control/go", tags=["control"], summary="GO: resume ticking (one world or all)")
def control_go(request: Request, body: m.OptionalWorld, user: Operator) -> m.Controlled:
    runtime = runtime_of(request)
    for name in [body.world] if body.world is not None else runtime.worlds:
        local_world(request, name)
    names = runtime.resume(None if body.world is None else [body.world], actor=user.name, reason=body.reason)
    runtime.feed.publish("control", body.world, action="go", actor=user.name, reason=body.reason)
    return m.Controlled(worlds=names, paused=False)


@router.get("/api/feed", tags=["feed"], summary="Recent events: verdicts, director, evolution, controls")
def feed(
    request: Request,
    user: Viewer,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    return runtime_of(request).feed.recent(limit, after)


# -- snapshots ---------------------------------------------------------------------------------
@router.get("/api/snapshots", tags=["snapshots"], summary="A world's snapshots, oldest first")
def list_snapshots(request: Request, user: Viewer, world: WorldQuery) -> list[dict[str, Any]]:
    return runner(request, world).snapshots.entries()


@router.post("/api/snapshots", tags=["snapshots"], summary="Snapshot a world now")
def create_snapshot(request: Request, body: m.SnapshotRequest, user: Operator) -> dict[str, Any]:
    return local_world(request, body.world).snapshots.create(body.label, user.name)


@router.post(
    "/api/snapshots/{snapshot_id}/restore",
    tags=["snapshots"],
    summary="Put a world back to a snapshot (admin, TOTP)",
)
def restore_snapshot(
    request: Request,
    snapshot_id: str,
    body: m.Override,
    user: Admin,
    x_totp: TotpHeader = None,
    mode: RestoreMode = "everything",
) -> dict[str, Any]:
    """``mode``: ``everything``, or ``world_only`` (players keep their characters as they are now).
    An automatic snapshot is taken first; the answer carries the cost per player."""
    r = local_world(request, body.world)
    if r.snapshots.meta(snapshot_id) is None:
        raise HTTPException(404, f"no snapshot {snapshot_id!r} of {body.world}")
    check_totp(request, user, body.totp, x_totp)
    try:
        return r.snapshots.restore(snapshot_id, user.name, mode)
    except OuroborosError as exc:
        raise HTTPException(409, exc.message) from exc


@router.get(
    "/api/snapshots/{snapshot_id}/restore-preview",
    tags=["snapshots"],
    summary="What a restore would take from each player (xp, credits, items, jobs), before it happens",
)
def restore_preview(
    request: Request,
    snapshot_id: str,
    user: Viewer,
    world: WorldQuery,
    mode: RestoreMode = "world_only",
) -> dict[str, Any]:
    try:
        return local_world(request, world).snapshots.preview(snapshot_id, mode)
    except KeyError:
        raise HTTPException(404, f"no snapshot {snapshot_id!r} of {world}") from None
    except OuroborosError as exc:
        raise HTTPException(409, exc.message) from exc


@router.delete("/api/snapshots/{snapshot_id}", tags=["snapshots"], summary="Delete a snapshot")
def delete_snapshot(
    request: Request,
    snapshot_id: str,
    user: Operator,
    reason: Annotated[str, Query(min_length=1, max_length=500)],
    world: WorldQuery,
) -> dict[str, Any]:
    try:
        return runner(request, world).snapshots.delete(snapshot_id, user.name)
    except KeyError:
        raise HTTPException(404, f"no snapshot {snapshot_id!r} of {world}") from None
