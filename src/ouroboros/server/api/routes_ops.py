"""Routes for operations (issue 22): the durable event log, and the traces of a proposal or patch."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from ouroboros.server.api.deps import Viewer, runtime_of
from ouroboros.server.runtime.eventlog import MAX_PAGE, read_events

router = APIRouter()
KIND = r"^[a-z_]{1,40}$"


@router.get(
    "/api/events",
    tags=["feed"],
    summary="The durable event log, a page at a time: after `since` (oldest first), else the newest",
)
def events(
    request: Request,
    user: Viewer,
    since: Annotated[int | None, Query(ge=0, description="Events with an id above this one.")] = None,
    kind: Annotated[str | None, Query(pattern=KIND, description="Only events of this kind.")] = None,
    world: Annotated[str | None, Query(pattern=KIND, description="Only events of this world.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> dict[str, Any]:
    """``next`` is the id to pass as ``since`` for the following page; ``more`` says whether a
    full page came back (there may be more after it)."""
    runtime = runtime_of(request)
    log = getattr(runtime, "events", None)
    if log is None:
        raise HTTPException(404, "this runtime keeps no event log (event_log is off)")
    log.flush()
    page = read_events(log.path, since=since, kind=kind, world=world, limit=limit)
    last = int(page[-1]["seq"]) if page else (since or 0)
    return {"events": page, "next": last, "more": len(page) == limit}


ID = r"^[A-Za-z0-9._:-]{1,128}$"


@router.get(
    "/api/traces",
    tags=["feed"],
    summary="Why was this slow: every span of the traces that touched a proposal or a patch",
)
def traces(
    request: Request,
    user: Viewer,
    patch_id: Annotated[str | None, Query(pattern=ID, description="A patch id.")] = None,
    proposal_id: Annotated[str | None, Query(pattern=ID, description="A proposal id.")] = None,
) -> dict[str, Any]:
    """Spans oldest first (name, trace and parent ids, duration in ms, attributes); ``slowest``
    names the longest spans below the roots. Kept in memory (the newest ``trace_buffer_spans``)."""
    from ouroboros import tracing

    if patch_id is None and proposal_id is None:
        raise HTTPException(422, "name a patch_id or a proposal_id")
    buffer = tracing.buffer()
    if buffer is None:
        why = "spans go over OTLP" if tracing.enabled() else "tracing is off"
        raise HTTPException(404, f"no traces kept here: {why}")
    spans = buffer.find(patch_id=patch_id, proposal_id=proposal_id)  # type: ignore[arg-type]
    inner = sorted((s for s in spans if s["parent_id"] is not None), key=lambda s: -s["duration_ms"])
    return {
        "spans": spans,
        "traces": sorted({s["trace_id"] for s in spans}),
        "slowest": [{"name": s["name"], "duration_ms": s["duration_ms"]} for s in inner[:5]],
    }


__all__ = ["router"]
