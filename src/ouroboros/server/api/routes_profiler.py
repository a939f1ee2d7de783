"""Routes over the engine's own profiler and optimizer: what each system costs per tick, what the
optimizer decided and what that changed, and the operator's controls (freeze, force a variant,
release), the same as ``ouroboros optimizer`` (they write the world's ``optimizer.json``, which
the running optimizer reads between ticks; every write is audited and on the feed).

``GET /api/profiler`` reads, under the world's lock (at a tick boundary), the profiler's rings:
the last ``ticks`` ticks of every tick-phase system (ms), the whole tick, the entity count; per
system its share, its allocation counts (Python blocks per tick, sampled) and the bytes of the
columns it declares; the optimizer's decisions (those in the window on the same tick axis) with
their before/after times; and the tick thread's hardware counters (``hwcounters``).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import Field

from ouroboros.server.api import models as m
from ouroboros.server.api.deps import Operator, Viewer, WorldQuery, runner

router = APIRouter(tags=["profiler"])
MAX_TICKS = 512


def _optimized(request: Request, world: str | None) -> str:
    """``world``, or the first world running here whose engine the optimizer rewrites (else the
    first world running here: its control file waits for the optimizer)."""
    if world is not None:
        return world
    runtime = request.app.state.runtime
    for name in runtime.worlds:
        if getattr(runtime.runner(name), "optimizer", None) is not None:
            return str(name)
    if not runtime.worlds:
        raise HTTPException(404, "no world is running here")
    return str(runtime.worlds[0])


class FreezeRequest(m.Body):
    world: m.World | None = None  # None: the first world running here with an optimizer
    frozen: bool
    reason: m.Reason


class ForceRequest(m.Body):
    world: m.World | None = None  # None: the first world running here with an optimizer
    system: str = Field(min_length=1, max_length=64)
    variant: str = Field(min_length=1, max_length=64)
    reason: m.Reason


class ReleaseRequest(m.Body):
    world: m.World | None = None  # None: the first world running here with an optimizer
    system: str = Field(min_length=1, max_length=64)
    reason: m.Reason


def _system_bytes(world: Any, spec: Any) -> int:
    declared = set(spec.reads) | set(spec.writes)
    total = 0
    for arch in world.archetype_order():
        for key, col in arch.columns.items():
            if key.split(".", 1)[0] in declared:
                total += int(getattr(col, "nbytes", 0))
    return total


def _counters(request: Request, name: str) -> dict[str, Any]:
    from ouroboros.server.api.hwcounters import HwCounters, thread_id

    cache: dict[str, Any] = request.app.state.__dict__.setdefault("hwcounters", {})
    tid = thread_id(f"{name}-ticks")
    found = cache.get(name)
    if found is None or found.tid != tid:
        if found is not None:
            found.close()
        found = cache[name] = HwCounters(tid)
    return found.read()  # type: ignore[no-any-return]


def _decisions(r: Any) -> list[dict[str, Any]]:
    from ouroboros.optimizer_files import HISTORY_FILE, read_history

    return read_history(r.folder / HISTORY_FILE)


@router.get("/api/profiler", summary="Per-system time per tick, the optimizer's decisions, memory, counters")
def profiler(
    request: Request,
    user: Viewer,
    world: WorldQuery,
    ticks: Annotated[int, Query(ge=1, le=MAX_TICKS)] = 240,
) -> dict[str, Any]:
    from ouroboros.engine.optimizer import LAYOUT
    from ouroboros.engine.profiler import ENTITIES, TICK
    from ouroboros.engine.schedule import TICK_PHASES
    from ouroboros.optimizer_files import CONTROL_FILE, read_control

    r = runner(request, world)
    with r.lock:
        w = r.world
        prof = w.profiler
        specs = [s for phase in TICK_PHASES for s in w.schedule.phase(phase)]
        total = prof.recent(TICK, ticks)
        n = int(total.size)
        systems: list[dict[str, Any]] = []
        published = prof.published().get("stats", {})
        for spec in specs:
            times = prof.recent(spec.name, n)
            stats = published.get(spec.name, {}) if isinstance(published, dict) else {}
            systems.append(
                {
                    "name": spec.name,
                    "phase": spec.phase,
                    "variant": spec.variant,
                    "ms": [round(int(v) / 1e6, 4) for v in times[-n:]] if times.size >= n else [],
                    "mean_ms": round(float(times.mean()) / 1e6, 4) if times.size else 0.0,
                    "alloc_blocks_mean": stats.get("alloc_blocks_mean"),
                    "column_bytes": _system_bytes(w, spec),
                }
            )
        entities = prof.recent(ENTITIES, n)
        tick_now = w.tick
        variants = {**w.variants()}
        layout = w.default_layout
    first = tick_now - n + 1
    tick_ms = [round(int(v) / 1e6, 4) for v in total]
    whole = sum(tick_ms) or 1.0
    for s in systems:
        ms: list[float] = s["ms"]
        s["share"] = round(sum(ms) / whole, 4) if ms else 0.0
    decisions = _decisions(r)
    by_name = {s["name"]: s["ms"] for s in systems if s["ms"]}
    in_window = [
        _around(d, by_name, first)
        for d in decisions
        if isinstance(d.get("tick"), int) and first <= d["tick"] <= tick_now
    ]
    control_path = r.folder / CONTROL_FILE
    optimizer = getattr(r, "optimizer", None)
    return {
        "world": world,
        "ticks": list(range(first, tick_now + 1)),
        "tick_ms": tick_ms,
        "entities": [int(v) for v in entities],
        "systems": systems,
        "decisions": decisions[-200:],
        "in_window": in_window,
        "variants": {**variants, LAYOUT: ["soa", "aos"]},
        "layout": layout,
        "control": read_control(control_path) if control_path.exists() else {"frozen": False, "forced": {}},
        "optimizer": None if optimizer is None else optimizer.status(),
        "hardware": _counters(request, world),
    }


AROUND_TICKS = 30


def _around(decision: dict[str, Any], ms: dict[str, list[float]], first: int) -> dict[str, Any]:
    """A decision in view with the profiler's own before/after: the system's mean ms over the
    ``AROUND_TICKS`` ticks before its tick and from it on (what the timeline shows)."""
    series = ms.get(str(decision.get("system")))
    if not series:
        return decision
    at = int(decision["tick"]) - first
    before, after = series[max(0, at - AROUND_TICKS) : at], series[at : at + AROUND_TICKS]
    return {
        **decision,
        "measured_before_ms": round(sum(before) / len(before), 4) if before else None,
        "measured_after_ms": round(sum(after) / len(after), 4) if after else None,
        "measured_ticks": [len(before), len(after)],
    }


def _write_control(r: Any, change: Any) -> dict[str, Any]:
    from ouroboros.optimizer_files import CONTROL_FILE, read_control
    from ouroboros.patches import write_atomic

    path = r.folder / CONTROL_FILE
    control = read_control(path) if path.exists() else {"frozen": False, "forced": {}}
    control = change(control)
    write_atomic(path, (json.dumps(control, sort_keys=True, indent=2) + "\n").encode())
    return control


def _publish(r: Any, action: str, actor: str, reason: str, **data: Any) -> None:
    r.feed.publish("optimizer", r.name, action=action, actor=actor, reason=reason, **data)


@router.post("/api/profiler/freeze", summary="Freeze the optimizer's rewriting (or let it rewrite again)")
def freeze(request: Request, body: FreezeRequest, user: Operator) -> dict[str, Any]:
    r = runner(request, _optimized(request, body.world))
    control = _write_control(r, lambda c: {**c, "frozen": body.frozen})
    _publish(r, "freeze" if body.frozen else "unfreeze", user.name, body.reason)
    return {"world": r.name, "control": control}


@router.post("/api/profiler/force", summary="Run a system's variant from now on, never rewritten")
def force(request: Request, body: ForceRequest, user: Operator) -> dict[str, Any]:
    from ouroboros.engine.optimizer import LAYOUT, LAYOUTS

    r = runner(request, _optimized(request, body.world))
    with r.lock:
        table = {**r.world.variants(), LAYOUT: list(LAYOUTS)}
    if body.system not in table or body.variant not in table[body.system]:
        raise HTTPException(
            422, f"{r.name} has no variant {body.variant!r} of {body.system!r} (has: {json.dumps(table)})"
        )
    control = _write_control(r, lambda c: {**c, "forced": {**c["forced"], body.system: body.variant}})
    _publish(r, "force", user.name, body.reason, system=body.system, variant=body.variant)
    return {"world": r.name, "control": control}


@router.post("/api/profiler/release", summary="Stop forcing a system's variant")
def release(request: Request, body: ReleaseRequest, user: Operator) -> dict[str, Any]:
    from ouroboros.optimizer_files import CONTROL_FILE, read_control

    r = runner(request, _optimized(request, body.world))
    path = r.folder / CONTROL_FILE
    if body.system not in (read_control(path) if path.exists() else {"forced": {}})["forced"]:
        raise HTTPException(409, f"{body.system} is not forced")
    control = _write_control(
        r, lambda c: {**c, "forced": {k: v for k, v in c["forced"].items() if k != body.system}}
    )
    _publish(r, "release", user.name, body.reason, system=body.system)
    return {"world": r.name, "control": control}


__all__ = ["router"]
