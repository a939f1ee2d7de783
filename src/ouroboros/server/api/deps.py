"""What every route shares: the runtime and auth store on the app, the role guards, TOTP checks.

A guard refuses before anything changes: 401 for a missing, unknown or revoked token, 403 for a
role below the route's, 403 for a missing, wrong or replayed TOTP code on an override.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ouroboros.errors import BadInputError, OuroborosError, RejectedError
from ouroboros.server.api.auth import AuthError, AuthStore, User
from ouroboros.server.runtime import Runtime, WorldRunner

bearer = HTTPBearer(auto_error=False, description="An API token (see /api/auth/login).")


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def auth_of(request: Request) -> AuthStore:
    auth: AuthStore = request.app.state.auth
    return auth


def _user(request: Request, credentials: HTTPAuthorizationCredentials | None) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
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
WorldQuery = Annotated[str, Query(description="Which world: neon or petri.", pattern="^(neon|petri)$")]


def check_totp(request: Request, user: User, *codes: str | None) -> None:
    code = next((c for c in codes if c), None)
    try:
        auth_of(request).check_totp(user, code)
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


def council_of(request: Request, world: str) -> Any:
    found = runner(request, world).council
    if found is None:
        raise HTTPException(503, f"the council is not running for {world}")
    return found


__all__ = [
    "Admin",
    "Operator",
    "TotpHeader",
    "Viewer",
    "WorldQuery",
    "auth_of",
    "check_totp",
    "council_of",
    "refused",
    "require",
    "runner",
    "runtime_of",
]
