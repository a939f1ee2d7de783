"""Routes over one's own sign-ins: browser sessions (the dashboard's cookie), API tokens, sign-out
and the short-lived ticket a signed-in browser opens the world stream with.

A session is an httpOnly, ``SameSite=Strict`` cookie (``Secure`` over HTTPS) holding a random
secret stored only as its sha256; it lasts ``SESSION_TTL_S`` unless revoked here or signed out.
Every user (viewer and up) sees and revokes their own sessions and tokens; revoking is audited
like every write, with its reason.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, Response

from ouroboros.server.api import models as m
from ouroboros.server.api.auth import SESSION_COOKIE, SESSION_TTL_S, AuthError, User
from ouroboros.server.api.deps import Viewer, auth_of, client_address, runtime_of

router = APIRouter(tags=["auth"])
Id = Annotated[str, Path(pattern="^[0-9a-f]{16}$", description="The id (16 hex digits).")]


def start_session(request: Request, response: Response, user: User) -> str:
    """A new session for ``user``, set as the answer's cookie; returns its id."""
    secret, sid = auth_of(request).create_session(
        user.name, agent=request.headers.get("user-agent", ""), address=client_address(request)
    )
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(SESSION_TTL_S),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return sid


@router.get("/api/auth/sessions", summary="Your own browser sessions and API tokens")
def my_sessions(request: Request, user: Viewer) -> dict[str, Any]:
    from ouroboros.server.api.auth import token_id

    auth = auth_of(request)
    current = getattr(request.state, "session", None)
    return {
        "user": user.name,
        "role": user.role,
        "current": token_id(current) if current else None,
        "sessions": auth.sessions(user.name),
        "tokens": auth.tokens(user.name),
    }


@router.post("/api/auth/sessions/{session_id}/revoke", summary="End one of your sessions now")
def revoke_session(request: Request, session_id: Id, body: m.Reasoned, user: Viewer) -> dict[str, Any]:
    try:
        done = auth_of(request).revoke_session(user.name, session_id)
    except KeyError:
        raise HTTPException(404, f"no live session {session_id} of {user.name}") from None
    runtime_of(request).feed.publish("auth", None, action="revoke_session", actor=user.name, id=session_id)
    return done


@router.post("/api/auth/tokens/{token_id}/revoke", summary="Revoke one of your own API tokens")
def revoke_own_token(request: Request, token_id: Id, body: m.Reasoned, user: Viewer) -> dict[str, Any]:
    try:
        done = auth_of(request).revoke_token(user.name, token_id)
    except KeyError:
        raise HTTPException(404, f"no token {token_id} of {user.name}") from None
    except AuthError as exc:
        raise HTTPException(exc.status, exc.message) from exc
    runtime_of(request).feed.publish("auth", None, action="revoke_token", actor=user.name, **done)
    return done


@router.post("/api/auth/logout", summary="Sign out: this browser's session ends (no token needed)")
def logout(request: Request, response: Response) -> dict[str, bool]:
    secret = request.cookies.get(SESSION_COOKIE)
    ended = bool(secret) and auth_of(request).end_session(secret or "")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return {"signed_out": ended}


@router.get("/api/auth/stream-ticket", summary="A short-lived credential for the world stream's ?token=")
def stream_ticket(request: Request, user: Viewer) -> dict[str, Any]:
    from ouroboros.server.api.auth import TICKET_TTL_S

    return {"ticket": auth_of(request).stream_ticket(user), "expires_in_s": TICKET_TTL_S}


__all__ = ["router", "start_session"]
