"""Routes over the council (director and approval queue), the guardrails and petri's evolution loop.

Each world's council lives on its control thread, so every call is handed there. A world whose
council is not running answers 503; an unknown queue item 404.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from ouroboros.errors import OuroborosError
from ouroboros.server.api import models as m
from ouroboros.server.api.deps import (
    Admin,
    Operator,
    TotpHeader,
    Viewer,
    WorldQuery,
    check_totp,
    council_of,
    refused,
    runner,
    runtime_of,
)

router = APIRouter()

QueueAction = Callable[[Any], Any]
_POOL_LOCK = threading.Lock()
ENRICH_WINDOW = 500  # the newest decisions read for the enrich summary


def _on_council(request: Request, world: str, fn: Callable[[Any], Any]) -> Any:
    council = council_of(request, world)
    try:
        return runner(request, world).call(lambda: fn(council))
    except OuroborosError as exc:
        raise refused(exc) from exc


# -- director ----------------------------------------------------------------------------------
@router.get("/api/director", tags=["director"], summary="The director's sliders, toggles and state")
def director_status(request: Request, user: Viewer, world: WorldQuery) -> dict[str, Any]:
    status: dict[str, Any] = _on_council(request, world, lambda c: c.director.status())
    return {
        **status,
        "decisions": _on_council(request, world, lambda c: c.director.decisions(20)),
        "models": _on_council(request, world, _models),
    }


def _models(council: Any) -> dict[str, Any]:
    """The model registry of the active version (who writes each role, calls and latencies per
    role and model) and how recent enrichments went (enriched, or fell back to offline and why)."""
    out: dict[str, Any] = {"version": None, "roles": {}, "stats": [], "enrich": {}}
    live = getattr(council, "models", None)
    if live is not None:
        registry = live.current()
        out["version"] = registry.version
        out["roles"] = {role: a.as_dict() for role, a in sorted(registry.assignments().items())}
        out["stats"] = registry.stats()
    recent = [d for d in council.store.decisions(ENRICH_WINDOW) if d.get("rule") == "enrich"]
    fallbacks = [d for d in recent if d.get("outcome") == "fallback"]
    last = fallbacks[0].get("why") if fallbacks else None
    out["enrich"] = {
        "window": ENRICH_WINDOW,
        "enriched": len(recent) - len(fallbacks),
        "fallback": len(fallbacks),
        "last_fallback_reason": last.get("reason") if isinstance(last, dict) else None,
    }
    return out


@router.post(
    "/api/director",
    tags=["director"],
    summary="Set sliders (0-100) and toggles (human_in_the_loop off: admin, TOTP)",
)
def director_set(
    request: Request, body: m.DirectorUpdate, user: Operator, x_totp: TotpHeader = None
) -> dict[str, Any]:
    if body.toggles.get("human_in_the_loop") is False:
        # generated content would flow unreviewed: a privileged override, checked before any change
        if not user.may("admin"):
            raise HTTPException(
                403, f"turning human_in_the_loop off needs the admin role; {user.name} is {user.role}"
            )
        check_totp(request, user, body.totp, x_totp)

    def act(c: Any) -> dict[str, Any]:
        changes: dict[str, Any] = {**dict(body.sliders.items()), **dict(body.toggles.items())}
        for name, value in changes.items():
            c.director.set(name, value, user.name, body.reason)
        status: dict[str, Any] = c.director.status()
        return status

    out: dict[str, Any] = _on_council(request, body.world, act)
    runtime_of(request).feed.publish(
        "director", body.world, action="set", actor=user.name, reason=body.reason
    )
    return out


def _director_action(action: str) -> Callable[..., dict[str, Any]]:
    def handler(request: Request, body: m.WorldReasoned, user: Operator) -> dict[str, Any]:
        def act(c: Any) -> dict[str, Any]:
            method = {
                "pause": c.director.pause,
                "resume": c.director.resume,
                "stop": c.director.emergency_stop,
            }
            method[action](user.name, body.reason)
            status: dict[str, Any] = c.director.status()
            return status

        out: dict[str, Any] = _on_council(request, body.world, act)
        runtime_of(request).feed.publish(
            "director", body.world, action=action, actor=user.name, reason=body.reason
        )
        return out

    handler.__name__ = f"director_{action}"
    return handler


for _action, _summary in (
    ("pause", "Pause the director (the world keeps ticking)"),
    ("resume", "Resume the director"),
    ("stop", "Emergency stop: the director makes nothing more until resumed"),
):
    router.add_api_route(
        f"/api/director/{_action}",
        _director_action(_action),
        methods=["POST"],
        tags=["director"],
        summary=_summary,
    )


# -- approval queue ----------------------------------------------------------------------------
@router.get("/api/queue", tags=["queue"], summary="Proposals waiting for (or past) a person's decision")
def queue_list(
    request: Request,
    user: Viewer,
    world: WorldQuery,
    state: Annotated[str | None, Query(max_length=32)] = None,
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = _on_council(request, world, lambda c: c.queue.list(state))
    return items


def _item(request: Request, world: str, item_id: str) -> dict[str, Any]:
    found = None if len(item_id) > 128 else _on_council(request, world, lambda c: c.queue.try_get(item_id))
    if found is None:
        raise HTTPException(404, f"no queue item {item_id!r} in {world}")
    return dict(found)


@router.get(
    "/api/queue/{item_id}/diff",
    tags=["queue"],
    summary="A proposal as generated and as validated (enriched, edited, checked), and what differs",
)
def queue_diff(request: Request, item_id: str, user: Viewer, world: WorldQuery) -> dict[str, Any]:
    _item(request, world, item_id)
    diff: dict[str, Any] = _on_council(request, world, lambda c: c.queue.diff(item_id))
    return diff


def _queue_action(action: str) -> Callable[..., dict[str, Any]]:
    def handler(request: Request, item_id: str, body: m.WorldReasoned, user: Operator) -> dict[str, Any]:
        _item(request, body.world, item_id)

        def act(c: Any) -> Any:
            return getattr(c.queue, action)(item_id, user.name, body.reason)

        out = _on_council(request, body.world, act)
        runtime_of(request).feed.publish(
            "queue", body.world, action=action, id=item_id, actor=user.name, reason=body.reason
        )
        return out if isinstance(out, dict) else {"result": out}

    handler.__name__ = f"queue_{action}"
    return handler


for _action, _summary in (
    ("approve", "Approve a proposal: it goes through the pipeline"),
    ("reject", "Reject a proposal"),
    ("undo", "Undo a decision (rolls back what it activated)"),
):
    router.add_api_route(
        f"/api/queue/{{item_id}}/{_action}",
        _queue_action(_action),
        methods=["POST"],
        tags=["queue"],
        summary=_summary,
    )


def _check_request(type_: str, context: dict[str, Any] | None) -> None:
    """The type and context a generator accepts (its own values are checked as it generates)."""
    from ouroboros.ai.generators import GENERATOR_TYPES, check_context
    from ouroboros.ai.proposals import ProposalType

    known = [t.value for t in GENERATOR_TYPES]
    try:
        kind = ProposalType(type_)
    except ValueError:
        kind = None
    if kind is None or kind not in GENERATOR_TYPES:
        raise HTTPException(
            422,
            {"code": "bad_type", "message": f"unknown proposal type {type_!r} (known: {', '.join(known)})"},
        )
    try:
        check_context(kind, context or {})
    except OuroborosError as exc:
        raise refused(exc) from exc


@router.post(
    "/api/queue/propose",
    tags=["queue"],
    summary="Generate one proposal through the council and queue it for a person",
    status_code=201,
    responses={409: {"description": "The council refuses: kill-switch, stopped, bad guardrails."}},
)
def queue_propose(request: Request, body: m.QueuePropose, user: Operator) -> dict[str, Any]:
    """The council generates (seeded), enriches and checks one proposal and queues it; a bad
    type, seed or context is 422 with nothing stored; a refusing council 409."""
    r = runner(request, body.world)
    council_of(request, body.world)
    state = r.call(r.governor.killswitch.state)
    if state.engaged:
        raise HTTPException(
            409,
            {
                "code": "killswitch_engaged",
                "message": f"the kill-switch is engaged ({state.reason or state.cause})",
            },
        )
    context = dict(body.context) if body.context is not None else None
    _check_request(body.type, context)  # before the council runs: a refused request stores nothing
    record: dict[str, Any] = _on_council(
        request,
        body.world,
        lambda c: c.propose(body.type, body.seed, context, queue=True, actor=user.name),
    )
    if record.get("proposal_id") is None:
        error = record.get("error") or {}
        raise HTTPException(422, {"code": error.get("code", "bad_input"), "message": record.get("reason")})
    if record.get("state") != "queued":
        raise HTTPException(
            409,
            {
                "code": "proposal_" + str(record.get("state")),
                "message": record.get("reason") or "the council did not queue it",
                "proposal_id": record["proposal_id"],
            },
        )
    r.feed.publish(
        "queue", body.world, action="propose", id=record["proposal_id"], actor=user.name, reason=body.reason
    )
    shown = record.get("validated") or record.get("generated") or {}
    return {**record, "summary": shown.get("summary", "") if isinstance(shown, dict) else ""}


@router.post("/api/queue/{item_id}/edit", tags=["queue"], summary="Edit a waiting proposal's payload")
def queue_edit(request: Request, item_id: str, body: m.QueueEdit, user: Operator) -> dict[str, Any]:
    _item(request, body.world, item_id)
    out = _on_council(
        request, body.world, lambda c: c.queue.edit(item_id, body.payload_patch, user.name, body.reason)
    )
    runtime_of(request).feed.publish("queue", body.world, action="edit", id=item_id, actor=user.name)
    return out if isinstance(out, dict) else {"result": out}


# -- guardrails --------------------------------------------------------------------------------
def _guardrails_file(request: Request) -> Any:
    try:
        from ouroboros.ai.guardrails import GuardrailsFile
    except ImportError:
        raise HTTPException(503, "guardrails are not available in this build") from None
    return GuardrailsFile(runtime_of(request).data_dir / "guardrails.json")


def _as_dict(value: Any) -> dict[str, Any]:
    dumped = value.model_dump(mode="json") if hasattr(value, "model_dump") else dict(value)
    return dict(dumped)


@router.get("/api/guardrails", tags=["guardrails"], summary="The budgets and bans generators must keep")
def guardrails_get(request: Request, user: Viewer) -> dict[str, Any]:
    return _as_dict(_guardrails_file(request).current())


@router.put(
    "/api/guardrails", tags=["guardrails"], summary="Change guardrails (checked; applies without restart)"
)
def guardrails_put(request: Request, body: m.GuardrailsUpdate, user: Admin) -> dict[str, Any]:
    file = _guardrails_file(request)
    try:
        file.write(body.guardrails)
    except (OuroborosError, ValueError) as exc:
        raise HTTPException(422, str(getattr(exc, "message", exc))) from exc
    runtime_of(request).feed.publish("guardrails", None, actor=user.name, reason=body.reason)
    return _as_dict(file.current())


# -- evolution ---------------------------------------------------------------------------------
def _evolution(request: Request) -> tuple[Any, Any]:
    """The first running world that evolves (``spec.evolution``), and its loop."""
    r = next((r for r in runtime_of(request).runners.values() if r.spec.evolution is not None), None)
    if r is None:
        raise HTTPException(404, "no world that evolves is running here")
    if r.evolution.loop is None:
        raise HTTPException(503, "the evolution loop is not running")
    return r, r.evolution.loop


def _trigger_pool(request: Request) -> ThreadPoolExecutor:
    """The app's one worker that waits for operators' evolution cycles (one at a time)."""
    state = request.app.state
    with _POOL_LOCK:
        pool: ThreadPoolExecutor | None = getattr(state, "evolution_triggers", None)
        if pool is None:
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="api-evolution-trigger")
            state.evolution_triggers = pool
            state.evolution_pending = []
    return pool


@router.post(
    "/api/evolution/trigger",
    tags=["evolution"],
    summary="Start an evolution cycle now (202: its progress comes on the feed and history)",
    status_code=202,
    responses={409: {"description": "An operator's trigger is already waiting for its cycle."}},
)
def evolution_trigger(request: Request, body: m.EvolutionTrigger, user: Operator) -> dict[str, Any]:
    """Accepted at once: the cycle is planned between two ticks, evaluated while the dish ticks
    on and delivered at a boundary. Its events (``trigger_requested``, ``trigger``, the outcome)
    come on ``/api/evolution/history`` and the feed; the feed's ``evolution`` event with this
    ``trigger_id`` (the request's id) carries the cycle's number and outcome when it ends."""
    r, _ = _evolution(request)
    trigger_id = str(getattr(request.state, "request_id", "")) or uuid.uuid4().hex
    pool = _trigger_pool(request)
    pending: list[Future[Any]] = request.app.state.evolution_pending
    with _POOL_LOCK:
        pending[:] = [f for f in pending if not f.done()]
        if pending:
            raise HTTPException(
                409, {"code": "trigger_pending", "message": "an operator's trigger is already waiting"}
            )

        def run() -> None:
            try:
                out = r.evolution.evolve(body.reason, user.name)
            except Exception as exc:  # the outcome goes to the feed; the world goes on
                message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
                r.feed.publish("evolution", r.name, action="failed", trigger_id=trigger_id, message=message)
                return
            outcome = out if isinstance(out, dict) else {"result": out}
            r.feed.publish(
                "evolution",
                r.name,
                action="outcome",
                trigger_id=trigger_id,
                cycle=outcome.get("cycle"),
                outcome=outcome.get("type"),
            )

        pending.append(pool.submit(run))
    r.feed.publish(
        "evolution", r.name, action="trigger", actor=user.name, reason=body.reason, trigger_id=trigger_id
    )
    return {"accepted": True, "trigger_id": trigger_id, "world": r.name}


@router.get("/api/evolution/history", tags=["evolution"], summary="Past evolution cycles, newest first")
def evolution_history(
    request: Request, user: Viewer, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[dict[str, Any]]:
    _, loop = _evolution(request)
    history: list[dict[str, Any]] = loop.history(limit)  # thread-safe; never waits for a cycle
    return history[::-1]  # the loop keeps them oldest first
