"""Routes an operator watches: alerts (rollbacks, kill-switch changes, fault storms, restart
loops, economic holds, lockouts; see ``runtime.alerts``) and the charts' server-side history
(the last hour of each world's tick times and KPIs; see ``runtime.history``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from ouroboros.server.api.deps import Viewer, WorldQuery, local_world, runner

router = APIRouter(tags=["alerts"])


@router.get("/api/alerts", summary="Alerts, oldest first (after=SEQ: only newer ones)")
def alerts(
    request: Request,
    user: Viewer,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    after: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    center = request.app.state.alerts
    return {"alerts": center.recent(limit, after), **center.status()}


@router.get("/api/history", tags=["world"], summary="A world's charts: one sample a second, the last hour")
def history(
    request: Request,
    user: Viewer,
    world: WorldQuery,
    seconds: Annotated[int, Query(ge=1, le=24 * 3600)] = 3600,
) -> dict[str, Any]:
    runner(request, world)  # 404 for a world not running here
    found: dict[str, Any] = request.app.state.history.series(world, seconds)
    return found


@router.get(
    "/api/worlds/{world}/overview",
    tags=["world"],
    summary="A world as a map: rooms, districts, who is where, added rooms (404: it has none)",
)
def overview(request: Request, world: str, user: Viewer) -> dict[str, Any]:
    from fastapi import HTTPException

    from ouroboros.worlds import spec_of

    r = local_world(request, world)
    with r.lock:
        hook = spec_of(r.world).overview
        if hook is None:
            raise HTTPException(404, f"{world} has no map")
        found: dict[str, Any] = hook(r.world)
    return found


__all__ = ["router"]
