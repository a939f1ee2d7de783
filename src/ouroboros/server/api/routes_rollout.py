"""Routes over each world's staged rollouts (``rollout``): read by a viewer, started, paused,
resumed, promoted and aborted by an operator; a forced promotion (without a passing window) is an
admin's, with a fresh TOTP code. Every call runs on the world's control thread.

Answers: 422 for a bad plan, an unknown patch or one that is not validated (nothing changes);
409 for a state that does not allow it (the kill-switch, a rollout already under way, a window
that did not pass, a state that disagrees with the ledger); 403 for a forced promotion without
the admin role or a good TOTP code.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import Field, StrictBool, StrictInt

from ouroboros.errors import OuroborosError
from ouroboros.rollout.analysis import Check
from ouroboros.rollout.plan import (
    DEFAULT_MIN_EXPOSURES,
    DEFAULT_PLAN,
    DEFAULT_THRESHOLD,
    DEFAULT_WINDOW_TICKS,
    DEFAULT_WINDOWS_PER_STAGE,
    parse_plan,
)
from ouroboros.server.api import models as m
from ouroboros.server.api.deps import Operator, TotpHeader, Viewer, WorldQuery, check_totp, refused, runner

router = APIRouter(tags=["rollout"])

RolloutId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^ro-[0-9]+-[0-9a-f]{10}$")]


class CheckBody(m.Body):
    metric: str = Field(max_length=64)
    limit: float | None = None
    margin: float | None = None


class RolloutStart(m.Body):
    world: m.World
    patch_id: str = Field(min_length=1, max_length=128)
    plan: str = Field(DEFAULT_PLAN, max_length=200, description="Treatment percentages: 1,10,50,100.")
    window_ticks: StrictInt = DEFAULT_WINDOW_TICKS
    min_exposures: StrictInt = DEFAULT_MIN_EXPOSURES
    threshold: StrictInt = DEFAULT_THRESHOLD
    windows_per_stage: StrictInt = DEFAULT_WINDOWS_PER_STAGE
    scope: Literal["cohort", "shard"] = "cohort"
    checks: list[CheckBody] | None = Field(None, max_length=10, description="Replaces the default checks.")
    reason: m.Reason


class RolloutAction(m.Body):
    world: m.World
    reason: m.Reason
    rollout_id: RolloutId | None = None


class RolloutPromote(RolloutAction):
    force: StrictBool = False
    totp: m.Totp | None = None


def _run(request: Request, world: str, act: Any) -> dict[str, Any]:
    r = runner(request, world)
    try:
        result: dict[str, Any] = r.call(act(r))
    except OuroborosError as exc:
        raise refused(exc) from exc
    r.feed.publish("rollout", r.name, **{k: result.get(k) for k in ("rollout_id", "phase", "pct_bp")})
    return result


def _service(r: Any) -> Any:
    from ouroboros.rollout.service import RolloutService

    return RolloutService(r.governor)


@router.get("/api/rollouts", summary="A world's rollout under way (or its last): stage, checks, windows")
def status(request: Request, user: Viewer, world: WorldQuery = "petri") -> dict[str, Any]:
    r = runner(request, world)
    try:
        report: dict[str, Any] = r.call(lambda: _service(r).status())
    except OuroborosError as exc:
        raise refused(exc) from exc
    return report


@router.post("/api/rollouts", summary="Start a staged rollout of a validated patch (operator)")
def start(request: Request, body: RolloutStart, user: Operator) -> dict[str, Any]:
    try:
        plan = parse_plan(
            body.plan,
            window_ticks=body.window_ticks,
            min_exposures=body.min_exposures,
            threshold=body.threshold,
            windows_per_stage=body.windows_per_stage,
            scope=body.scope,
            **(
                {"checks": tuple(Check(c.metric, c.limit, c.margin) for c in body.checks)}
                if body.checks is not None
                else {}
            ),
        )
    except OuroborosError as exc:
        raise refused(exc) from exc
    return _run(
        request,
        body.world,
        lambda r: lambda: _service(r).start(body.patch_id, plan, user.name, body.reason).as_dict(),
    )


def _action(name: str) -> Any:
    def act(request: Request, body: RolloutAction, user: Operator) -> dict[str, Any]:
        return _run(
            request,
            body.world,
            lambda r: lambda: getattr(_service(r), name)(user.name, body.reason, body.rollout_id).as_dict(),
        )

    act.__name__ = f"rollout_{name}"
    return act


router.post("/api/rollouts/pause", summary="Hold the rollout where it stands (operator)")(_action("pause"))
router.post("/api/rollouts/resume", summary="Let a paused rollout promote again (operator)")(
    _action("resume")
)
router.post("/api/rollouts/abort", summary="Send everyone back to the stable version (operator)")(
    _action("abort")
)


@router.post(
    "/api/rollouts/promote",
    summary="The next stage now: after a passing window (operator), or forced (admin, TOTP)",
)
def promote(
    request: Request, body: RolloutPromote, user: Operator, x_totp: TotpHeader = None
) -> dict[str, Any]:
    if body.force:
        if not user.may("admin"):
            raise HTTPException(403, f"a forced promotion needs the admin role; {user.name} is {user.role}")
        runner(request, body.world)
        check_totp(request, user, body.totp, x_totp)
    return _run(
        request,
        body.world,
        lambda r: (
            lambda: (
                _service(r)
                .promote(user.name, body.reason, force=body.force, rollout_id=body.rollout_id)
                .as_dict()
            )
        ),
    )


__all__ = ["router"]
