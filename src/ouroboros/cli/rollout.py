"""``ouroboros rollout``: stage a validated patch over cohorts (or shards), watch it, stop it.

``start PATCH_ID --plan 1,10,50,100`` records the rollout and its first stage; a running world
judges its windows and promotes or rolls back (``rollout.controller``). ``status`` shows the
stage, why it holds, and every window's verdict; ``pause``/``resume`` freeze and thaw it,
``promote`` moves on after a passing window (``--force``: without one, the operator's word on the
local machine, like the API's admin with TOTP), ``abort`` sends everyone back to the stable version.

Exit codes as every governance command: 0 done; 1 refused (the kill-switch, a rollout already
under way, a state that does not allow it, or one that disagrees with the ledger); 2 bad input
(a bad plan, an unknown patch, a patch that is not validated, a missing ``--data`` folder). A
refused or bad command changes nothing.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from ouroboros.cli.core import app
from ouroboros.cli.governance import (
    DEFAULT_DATA,
    ActorOption,
    DataOption,
    JsonFlag,
    ReasonOption,
    TrustRootOption,
    WitnessOption,
    _boundary,
    _check_attribution,
    _emit,
    _governor,
)
from ouroboros.rollout.plan import (
    DEFAULT_MIN_EXPOSURES,
    DEFAULT_PLAN,
    DEFAULT_THRESHOLD,
    DEFAULT_WINDOW_TICKS,
    DEFAULT_WINDOWS_PER_STAGE,
    parse_check,
    parse_plan,
)

rollout_app = typer.Typer(
    help="Staged rollout of a patch over cohorts, rolled back on its KPIs.", no_args_is_help=True
)
app.add_typer(rollout_app, name="rollout")

RolloutOption = Annotated[
    str | None,
    typer.Option("--rollout", help="Which rollout (default: the one under way).", show_default=False),
]


def _line(state: dict[str, Any]) -> str:
    return (
        f"rollout {state['rollout_id']} of {state['patch_id']}: {state['phase']}, "
        f"stage {state['stage'] + 1}/{len(state['plan']['stages_bp'])} "
        f"({state['pct_bp'] / 100:g}% treatment), "
        f"failed windows {state['failed_checks']}/{state['plan']['threshold']}"
    )


@rollout_app.command("start")
def start(
    patch_id: Annotated[str, typer.Argument(help="A validated patch.")],
    plan: Annotated[
        str, typer.Option("--plan", help="Treatment percentages, increasing, ending at 100.")
    ] = DEFAULT_PLAN,
    window_ticks: Annotated[
        int, typer.Option("--window-ticks", help="Ticks per analysis window.")
    ] = DEFAULT_WINDOW_TICKS,
    min_exposures: Annotated[
        int, typer.Option("--min-exposures", help="Players (or entities) each arm needs in a window.")
    ] = DEFAULT_MIN_EXPOSURES,
    threshold: Annotated[
        int, typer.Option("--threshold", help="Failed windows that roll back.")
    ] = DEFAULT_THRESHOLD,
    windows_per_stage: Annotated[
        int, typer.Option("--windows-per-stage", help="Passing windows in a row before a promotion.")
    ] = DEFAULT_WINDOWS_PER_STAGE,
    scope: Annotated[
        str, typer.Option("--scope", help="cohort (accounts) or shard (canary shards).")
    ] = "cohort",
    check: Annotated[
        list[str] | None,
        typer.Option(
            "--check",
            help="METRIC[:limit=N][:margin=N], repeatable; replaces the default checks "
            "(a world without players or money, such as a dish, needs its own).",
            show_default=False,
        ),
    ] = None,
    actor: ActorOption = "operator",
    reason: ReasonOption = "staged rollout",
    data: DataOption = DEFAULT_DATA,
    as_json: JsonFlag = False,
    witness: WitnessOption = None,
    trust_root: TrustRootOption = None,
) -> None:
    """Start a staged rollout of a validated patch at its plan's first stage."""
    from ouroboros.rollout.service import RolloutService

    with _boundary():
        _check_attribution(actor, reason)
        staged = parse_plan(
            plan,
            window_ticks=window_ticks,
            min_exposures=min_exposures,
            threshold=threshold,
            windows_per_stage=windows_per_stage,
            scope=scope,
            **({"checks": tuple(parse_check(c) for c in check)} if check else {}),
        )
        with _governor(data, read_only=True, witness=witness, trust_root=trust_root) as gov:
            state = RolloutService(gov).start(patch_id, staged, actor, reason).as_dict()
        _emit(as_json, state, _line(state))


@rollout_app.command("status")
def status(
    rollout: RolloutOption = None,
    data: DataOption = DEFAULT_DATA,
    as_json: JsonFlag = False,
    witness: WitnessOption = None,
    trust_root: TrustRootOption = None,
) -> None:
    """The rollout under way (or the last one): its stage, why it holds, every window's verdict."""
    from ouroboros.rollout.service import RolloutService

    with _boundary(), _governor(data, read_only=True, witness=witness, trust_root=trust_root) as gov:
        report = RolloutService(gov).status(rollout)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, sort_keys=True))
        return
    if report["rollout"] is None:
        typer.echo("no rollout in this data folder")
        return
    lines = [_line(report["rollout"])]
    if report["hold"]:
        lines.append(f"  holds: {report['hold']}")
    version = report["version"]
    lines.append(
        f"  version: scope {version['activation_scope'] or '-'}, rollback target "
        f"{version['rollback_target_id'] or 'base'}, activated {version['activated_at'] or '-'}"
    )
    for h in report["history"]:
        lines.append(f"  {h['seq']:>5} {h['at']} {h['kind']:<16} {h['before']} → {h['after']}: {h['reason']}")
    typer.echo("\n".join(lines))


def _act(
    action: str, data: Any, actor: str, reason: str, rollout: str | None, as_json: bool, **anchors: Any
) -> None:
    from ouroboros.rollout.service import RolloutService

    force = anchors.pop("force", False)
    with _boundary():
        _check_attribution(actor, reason)
        with _governor(data, read_only=True, **anchors) as gov:
            svc = RolloutService(gov)
            if action == "promote":
                state = svc.promote(actor, reason, force=force, rollout_id=rollout)
            else:
                state = getattr(svc, action)(actor, reason, rollout)
        doc = state.as_dict()
        _emit(as_json, doc, _line(doc))


@rollout_app.command("pause")
def pause(
    actor: ActorOption = "operator",
    reason: ReasonOption = "paused by an operator",
    rollout: RolloutOption = None,
    data: DataOption = DEFAULT_DATA,
    as_json: JsonFlag = False,
    witness: WitnessOption = None,
    trust_root: TrustRootOption = None,
) -> None:
    """Hold the rollout where it stands (windows are still judged; a breach still rolls back)."""
    _act("pause", data, actor, reason, rollout, as_json, witness=witness, trust_root=trust_root)


@rollout_app.command("resume")
def resume(
    actor: ActorOption = "operator",
    reason: ReasonOption = "resumed by an operator",
    rollout: RolloutOption = None,
    data: DataOption = DEFAULT_DATA,
    as_json: JsonFlag = False,
    witness: WitnessOption = None,
    trust_root: TrustRootOption = None,
) -> None:
    """Let a paused rollout promote again."""
    _act("resume", data, actor, reason, rollout, as_json, witness=witness, trust_root=trust_root)


@rollout_app.command("promote")
def promote(
    force: Annotated[
        bool, typer.Option("--force", help="Promote without a passing window (never past the kill-switch).")
    ] = False,
    actor: ActorOption = "operator",
    reason: ReasonOption = "promoted by an operator",
    rollout: RolloutOption = None,
    data: DataOption = DEFAULT_DATA,
    as_json: JsonFlag = False,
    witness: WitnessOption = None,
    trust_root: TrustRootOption = None,
) -> None:
    """Move to the next stage now (the last stage makes the patch active for everyone)."""
    _act(
        "promote", data, actor, reason, rollout, as_json, witness=witness, trust_root=trust_root, force=force
    )


@rollout_app.command("abort")
def abort(
    actor: ActorOption = "operator",
    reason: ReasonOption = "aborted by an operator",
    rollout: RolloutOption = None,
    data: DataOption = DEFAULT_DATA,
    as_json: JsonFlag = False,
    witness: WitnessOption = None,
    trust_root: TrustRootOption = None,
) -> None:
    """Stop the rollout: everyone goes back to the stable version (the patch stays validated)."""
    _act("abort", data, actor, reason, rollout, as_json, witness=witness, trust_root=trust_root)


__all__ = ["rollout_app"]
