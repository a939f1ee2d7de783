"""Routes: the city's players for an operator — list, look one up, move a stuck one (audited).

An unknown player or room is a 404 and changes nothing; a move lands at the next tick boundary
and the player is told who moved them, where and why.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import Field

from ouroboros.errors import BadInputError, UnknownPlayerError, UnknownRoomError
from ouroboros.server.api.deps import Operator, Viewer, local_world
from ouroboros.server.api.models import Body, Reason

router = APIRouter()
PlayerName = Annotated[str, Path(min_length=1, max_length=40, description="The character's name.")]


class MoveRequest(Body):
    room: str = Field(min_length=1, max_length=200, description="The id of the room to move them to.")
    reason: Reason


def _refused(exc: BadInputError) -> HTTPException:
    if isinstance(exc, UnknownPlayerError | UnknownRoomError):
        return HTTPException(404, exc.message)
    return HTTPException(422, exc.message)


@router.get("/api/worlds/{world}/players", tags=["players"], summary="A played world's characters")
def list_players(request: Request, world: str, user: Viewer) -> list[dict[str, Any]]:
    try:
        return local_world(request, world).players.listed()
    except BadInputError as exc:
        raise _refused(exc) from exc


@router.get("/api/worlds/{world}/feedback", tags=["players"], summary="What players said (a played world)")
def list_feedback(
    request: Request, world: str, user: Viewer, limit: Annotated[int, Query(ge=0, le=500)] = 50
) -> dict[str, Any]:
    try:
        return local_world(request, world).players.feedback(limit)
    except BadInputError as exc:
        raise _refused(exc) from exc


@router.get("/api/worlds/{world}/players/{name}", tags=["players"], summary="One character of a played world")
def show_player(request: Request, world: str, name: PlayerName, user: Viewer) -> dict[str, Any]:
    try:
        return local_world(request, world).players.show(name)
    except BadInputError as exc:
        raise _refused(exc) from exc


@router.post(
    "/api/worlds/{world}/players/{name}/move",
    tags=["players"],
    summary="Move a character to a room at the next tick (operator; audited; they are told why)",
)
def move_player(
    request: Request, world: str, name: PlayerName, body: MoveRequest, user: Operator
) -> dict[str, Any]:
    try:
        return local_world(request, world).players.move(name, body.room, user.name, body.reason)
    except BadInputError as exc:
        raise _refused(exc) from exc
