"""What every route shares: the runtime and auth store on the app, the role guards, TOTP checks.

A guard refuses before anything changes: 401 for a missing, unknown or revoked token, 403 for a
role below the route's, 403 for a missing, wrong or replayed TOTP code on an override, 429 while
the account or the client's address is locked out after too many wrong secrets or codes.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ouroboros.errors import AuthError, BadInputError, OuroborosError, RejectedError
from ouroboros.server.api.auth import SESSION_COOKIE, AuthStore, User
from ouroboros.server.gateway.throttle import Lockout, LoginGuard
from ouroboros.server.runtime import Runtime, WorldRunner

log = logging.getLogger("ouroboros.api")
T = TypeVar("T")

bearer = HTTPBearer(auto_error=False, description="An API token (see /api/auth/login).")


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def auth_of(request: Request) -> AuthStore:
    auth: AuthStore = request.app.state.auth
    return auth


def _user(request: Request, credentials: HTTPAuthorizationCredentials | None) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie and credentials is None:  # the dashboard's session (httpOnly, SameSite=Strict)
            try:
                user = auth_of(request).session_user(cookie)
            except AuthError as exc:
                raise HTTPException(401, exc.message, headers={"WWW-Authenticate": "Bearer"}) from exc
            request.state.actor = user.name
            request.state.role = user.role
            request.state.session = cookie
            return user
        raise HTTPException(401, "a bearer token is needed", headers={"WWW-Authenticate": "Bearer"})
    try:
        user = auth_of(request).authenticate(credentials.credentials)
    except AuthError as exc:
        raise HTTPException(401, exc.message, headers={"WWW-Authenticate": "Bearer"}) from exc
    request.state.actor = user.name
    request.state.role = user.role
    return user


def require(role: str) -> Callable[..., User]:
    """A dependency: the caller's user, refused unless their role is at least ``role``."""

    def guard(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> User:
        user = _user(request, credentials)
        if not user.may(role):
            raise HTTPException(403, f"this needs the {role} role; {user.name} is {user.role}")
        return user

    guard.__name__ = f"require_{role}"
    return guard


Viewer = Annotated[User, Depends(require("viewer"))]
Operator = Annotated[User, Depends(require("operator"))]
Admin = Annotated[User, Depends(require("admin"))]
TotpHeader = Annotated[
    str | None, Header(alias="X-TOTP", description="A current TOTP code (privileged overrides).")
]
#: what a world's name looks like on the wire (a registered world's name, checked after it)
WORLD_NAME_PATTERN = "^[a-z][a-z0-9_]{0,39}$"


def world_or_default(
    request: Request,
    world: Annotated[
        str | None,
        Query(description="Which world (default: the first this server runs).", pattern=WORLD_NAME_PATTERN),
    ] = None,
) -> str:
    """The ``world`` query parameter: a registered world's name (422 otherwise), or, left out,
    the first world this server runs."""
    from ouroboros.worlds import world_names

    if world is None:
        running = runtime_of(request).worlds
        if not running:
            raise HTTPException(404, "no world is running here")
        return running[0]
    if world not in world_names():
        raise HTTPException(422, f"unknown world {world!r} (worlds: {', '.join(world_names())})")
    return world


WorldQuery = Annotated[str, Depends(world_or_default)]


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def _alert(request: Request, lockouts: list[Lockout]) -> None:
    """A lockout that began: an audit row, a feed ``security`` event and a warning log line."""
    for lockout in lockouts:
        why = (
            f"{lockout.failures} failed attempts for {lockout.key} (last from {client_address(request)});"
            f" locked out for {lockout.seconds:.0f} s"
        )
        log.warning("lockout: %s", why)
        auth_of(request).audit(
            actor="security",
            role=None,
            method="ALERT",
            path=f"lockout/{lockout.key}",
            status=429,
            reason=why,
            request_id=getattr(request.state, "request_id", "") or "",
        )
        runtime_of(request).feed.publish(
            "security",
            None,
            action="lockout",
            key=lockout.key,
            failures=lockout.failures,
            seconds=lockout.seconds,
        )


def guarded(
    request: Request, keys: list[str], attempt: Callable[[], T], *, counts: Callable[[AuthError], bool]
) -> T:
    """Run one credential ``attempt`` under the login guard: refused with 429 (``Retry-After``)
    while any of ``keys`` is locked out; an ``AuthError`` that ``counts`` is a failure against
    every key (and may start a lockout, alerted); a success clears the account's failures."""
    guard: LoginGuard = request.app.state.login_guard
    wait = guard.begin(keys)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise HTTPException(
            429, f"too many failed attempts: try again in {seconds} s", headers={"Retry-After": str(seconds)}
        )
    ok = True
    try:
        return attempt()
    except AuthError as exc:
        ok = not counts(exc)
        raise
    finally:
        account = [k for k in keys if not k.startswith("address:")]
        _alert(request, guard.end(keys, ok, clear_on_success=account))


def check_totp(request: Request, user: User, *codes: str | None) -> None:
    """A fresh TOTP code of ``user``; wrong or replayed codes count per account and per address."""
    code = next((c for c in codes if c), None)
    keys = [f"totp:{user.name}", f"address:{client_address(request)}"]
    try:
        guarded(request, keys, lambda: auth_of(request).check_totp(user, code), counts=lambda e: e.guess)
    except AuthError as exc:
        raise HTTPException(exc.status, exc.message) from exc


def refused(exc: OuroborosError) -> HTTPException:
    """An error of ours as an HTTP answer: bad input or rejected content is 422 (with the
    reasons), anything else (a state that does not allow it) 409."""
    detail: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if isinstance(exc, RejectedError):
        detail["reasons"] = [r.as_dict() for r in exc.reasons]
    return HTTPException(422 if isinstance(exc, BadInputError | RejectedError) else 409, detail)


def runner(request: Request, world: str) -> WorldRunner:
    try:
        return runtime_of(request).runner(world)
    except KeyError:
        raise HTTPException(404, f"world {world!r} is not running here") from None


def shards_of(r: WorldRunner) -> Any:
    """What a cluster's control process knows of the shards that tick ``r``'s world (their tick,
    version, players), or ``None`` when the world ticks in this process (shards of ``go --shards``,
    a ``ShardSet``, tick here too: its runner answers for them)."""
    from ouroboros.server.runtime.shards import ShardSet

    found = getattr(r, "shards", None)
    return None if isinstance(found, ShardSet) else found


def local_world(request: Request, world: str) -> WorldRunner:
    """The world's runner when it ticks here; 409 ``served_by_shards`` when its shards tick it."""
    r = runner(request, world)
    if shards_of(r) is not None:
        message = f"{world} ticks on its shards, not in this control process: ask a shard"
        raise HTTPException(409, {"code": "served_by_shards", "message": message})
    return r


def council_of(request: Request, world: str) -> Any:
    found = runner(request, world).council
    if found is None:
        raise HTTPException(503, f"the council is not running for {world}")
    return found


__all__ = [
    "WORLD_NAME_PATTERN",
    "Admin",
    "Operator",
    "TotpHeader",
    "Viewer",
    "WorldQuery",
    "auth_of",
    "check_totp",
    "client_address",
    "council_of",
    "guarded",
    "local_world",
    "refused",
    "require",
    "runner",
    "runtime_of",
    "shards_of",
]
