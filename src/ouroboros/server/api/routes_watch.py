"""Routes an operator watches: alerts (rollbacks, kill-switch changes, fault storms, restart
loops, economic holds, lockouts; see ``runtime.alerts``) and the charts' server-side history
(the last hour of each world's tick times and KPIs; see ``runtime.history``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from ouroboros.server.api.deps import Viewer, WorldQuery, runner

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
    world: WorldQuery = "petri",
    seconds: Annotated[int, Query(ge=1, le=24 * 3600)] = 3600,
) -> dict[str, Any]:
    runner(request, world)  # 404 for a world not running here
    found: dict[str, Any] = request.app.state.history.series(world, seconds)
    return found


__all__ = ["router"]
