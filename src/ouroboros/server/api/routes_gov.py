"""Routes over each world's governance: mutations (patches and their source), ledger, rollback,
kill-switch and forced activation. Every governor call runs on the world's control thread."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from ouroboros.errors import BadInputError, OuroborosError
from ouroboros.server.api import models as m
from ouroboros.server.api.deps import Admin, Operator, TotpHeader, Viewer, WorldQuery, check_totp, runner

router = APIRouter(tags=["governance"])


def _sources(content: Any) -> list[dict[str, Any]]:
    """The code a patch carries: every object with a ``source`` (scripts, traits)."""
    out = []
    for domain, objects in (content or {}).items():
        for obj in objects if isinstance(objects, list) else []:
            if isinstance(obj, dict) and isinstance(obj.get("source"), str):
                out.append(
                    {
                        "domain": domain,
                        "id": obj.get("id"),
                        "version": obj.get("version"),
                        "language": obj.get("language"),
                        "source": obj["source"],
                    }
                )
    return out


def _what(content: Any) -> str:
    """One line a person reads: per domain, how many objects and the first names (or ids)."""
    parts = []
    for domain, objects in sorted((content or {}).items()):
        if not isinstance(objects, list) or not objects:
            continue
        if domain == "remove":
            parts.append(f"removes {len(objects)}")
            continue
        names = [
            str(o.get("name") or o.get("title") or o.get("id"))
            for o in objects[:3]
            if isinstance(o, dict) and (o.get("name") or o.get("title") or o.get("id"))
        ]
        more = f" +{len(objects) - len(names)}" if len(objects) > len(names) else ""
        parts.append(f"{len(objects)} {domain}: {', '.join(names)}{more}")
    return "; ".join(parts) or "no content"


def _summary(patch: dict[str, Any], bundle: dict[str, Any] | None) -> dict[str, Any]:
    content = (bundle or {}).get("content") or {}
    return {
        **patch,
        "author": (bundle or {}).get("author"),
        "domains": sorted(k for k in content if k != "remove"),
        "what": _what(content),
        "created_at": (bundle or {}).get("created_at"),
        "announcement": ((bundle or {}).get("migration") or {}).get("announcement"),
        "source": _sources(content),
    }


@router.get("/api/mutations", summary="A world's patches, newest first, with the code they carry")
def mutations(
    request: Request,
    user: Viewer,
    world: WorldQuery,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    status: Annotated[
        str | None, Query(max_length=32, description="Only patches in this state (active, rejected, ...).")
    ] = None,
) -> list[dict[str, Any]]:
    from ouroboros.patches import State

    if status is not None and status not in {s.value for s in State}:
        raise HTTPException(422, f"status must be one of {', '.join(s.value for s in State)}")
    r = runner(request, world)

    def read() -> list[dict[str, Any]]:
        ledger = r.governor.ledger
        patches = [p for p in ledger.patches()[::-1] if status is None or str(p["state"]) == status][:limit]
        return [_summary(p, ledger.bundle(p["patch_id"])) for p in patches]

    return r.call(read)


@router.get("/api/mutations/{patch_id}/source", summary="A patch's whole content and code")
def mutation_source(request: Request, patch_id: str, user: Viewer, world: WorldQuery) -> dict[str, Any]:
    r = runner(request, world)

    def read() -> dict[str, Any] | None:
        ledger = r.governor.ledger
        if len(patch_id) > 128 or not ledger.known(patch_id):
            return None
        bundle = ledger.bundle(patch_id) or {}
        return {
            "patch_id": patch_id,
            "state": str(ledger.state_of(patch_id)),
            "author": bundle.get("author"),
            "content": bundle.get("content"),
            "source": _sources(bundle.get("content")),
        }

    found = r.call(read)
    if found is None:
        raise HTTPException(404, f"no patch {patch_id!r} in {world}")
    return found


@router.get("/api/ledger", summary="A world's ledger entries (hash-chained), newest first")
def ledger(
    request: Request,
    user: Viewer,
    world: WorldQuery,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    patch_id: Annotated[str | None, Query(max_length=128)] = None,
) -> dict[str, Any]:
    r = runner(request, world)

    def read() -> dict[str, Any]:
        gov = r.governor
        entries = [e.as_dict() for e in gov.ledger.entries(patch_id=patch_id)][::-1][:limit]
        return {"world": world, "pointer": gov.ledger.pointer().as_dict(), "entries": entries}

    return r.call(read)


@router.post("/api/rollback", summary="Go back to a known-good version (default: the one before)")
def rollback(request: Request, body: m.RollbackRequest, user: Operator) -> dict[str, Any]:
    r = runner(request, body.world)

    def act() -> dict[str, Any]:
        # auto-snapshots when it takes back more than one version
        result = r.governance.rollback(user.name, body.reason, body.to, to_base=body.to_base)
        r.feed.publish("governance", r.name, action="rollback", actor=user.name, result=result)
        return result

    try:
        return r.call(act)
    except OuroborosError as exc:
        raise HTTPException(409, {"code": exc.code, "message": exc.message}) from exc


@router.get("/api/killswitch", summary="Each world's kill-switch: are new AI patches refused")
def killswitch(request: Request, user: Viewer) -> dict[str, Any]:
    from ouroboros.server.api.deps import runtime_of

    runtime = runtime_of(request)
    out: dict[str, Any] = {}
    for name, r in runtime.runners.items():

        def read(r: Any = r) -> dict[str, Any]:
            state: dict[str, Any] = r.governor.killswitch.state().as_dict()
            return state

        out[name] = r.call(read)
    return out


def _set_switch(
    request: Request, world: str | None, engaged: bool, actor: str, reason: str
) -> dict[str, Any]:
    from ouroboros.server.api.deps import runtime_of

    runtime = runtime_of(request)
    names = [world] if world is not None else list(runtime.runners)
    targets = [runner(request, n) for n in names]
    out = {}
    for r in targets:

        def act(r: Any = r) -> dict[str, Any]:
            state: dict[str, Any] = r.governor.killswitch.set(engaged, actor, reason).as_dict()
            return state

        try:
            out[r.name] = r.call(act)
        except OuroborosError as exc:
            raise HTTPException(409, {"code": exc.code, "message": exc.message}) from exc
        r.feed.publish("killswitch", r.name, engaged=engaged, actor=actor, reason=reason)
    return out


@router.post("/api/killswitch/engage", summary="Engage: refuse every new AI patch (the game goes on)")
def killswitch_engage(request: Request, body: m.OptionalWorld, user: Operator) -> dict[str, Any]:
    return _set_switch(request, body.world, True, user.name, body.reason)


@router.post("/api/killswitch/release", summary="Release the kill-switch (admin, TOTP)")
def killswitch_release(
    request: Request, body: m.KillswitchRelease, user: Admin, x_totp: TotpHeader = None
) -> dict[str, Any]:
    if body.world is not None:
        runner(request, body.world)
    check_totp(request, user, body.totp, x_totp)
    return _set_switch(request, body.world, False, user.name, body.reason)


@router.post(
    "/api/patches/{patch_id}/activate",
    summary="Forced activation: approve a patch held for a person (admin, TOTP)",
)
def activate(
    request: Request, patch_id: str, body: m.Override, user: Admin, x_totp: TotpHeader = None
) -> dict[str, Any]:
    r = runner(request, body.world)
    if len(patch_id) > 128 or not r.call(lambda: r.governor.ledger.known(patch_id)):
        raise HTTPException(404, f"no patch {patch_id!r} in {body.world}")
    check_totp(request, user, body.totp, x_totp)

    def act() -> dict[str, Any]:
        verdict: dict[str, Any] = r.governor.approve(patch_id, user.name, body.reason).as_dict()
        r.feed.publish("governance", r.name, action="activate", actor=user.name, verdict=verdict)
        return verdict

    try:
        return r.call(act)
    except BadInputError as exc:
        raise HTTPException(409, {"code": exc.code, "message": exc.message}) from exc
    except OuroborosError as exc:
        raise HTTPException(409, {"code": exc.code, "message": exc.message}) from exc
