"""AI commands: ``director``, ``generate``, ``queue``.

``director status|log|pause|resume|stop|set NAME VALUE`` steers the world director of a data
folder; ``generate TYPE --seed S`` prints one proposal (the same seed prints the same proposal;
``--data`` grows it from that folder's active content); ``queue list|show|diff|approve|reject|
edit|undo`` is the approval queue. Every command takes ``--data DIR`` (default
``./ouroboros-data``, which must exist and be governed: see ``keys new``). Exit codes: 0 done;
1 refused (a kill-switch, a pipeline or guardrail rejection, a proposal not in a state for it);
2 bad input (one line on stderr). ``--json`` prints one JSON object on stdout.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from ouroboros.cli.boundary import EXIT_BAD_INPUT, EXIT_FAILED
from ouroboros.cli.core import app
from ouroboros.cli.governance import DEFAULT_DATA, DataOption, JsonFlag, _boundary, _governor
from ouroboros.errors import BadInputError, OuroborosError, PatchError

director_app = typer.Typer(
    help="The world director: status, sliders, pause, emergency stop.", no_args_is_help=True
)
queue_app = typer.Typer(help="The approval queue of generated proposals.", no_args_is_help=True)
app.add_typer(director_app, name="director")
app.add_typer(queue_app, name="queue")

ActorOption = Annotated[str, typer.Option("--actor", help="Who does this (recorded in the audit).")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (recorded in the audit).")]


def _require_governed(data: Path) -> None:
    """A command here never founds a data folder: one without ``world.json`` is bad input (and
    nothing is written into it)."""
    from ouroboros.patches import WORLD_FILE

    if data.exists() and not data.is_dir():
        raise BadInputError(f"--data {data} is not a folder")
    if not data.is_dir():
        raise BadInputError(f"--data {data}: no such folder")
    from ouroboros.cli.governance import refuse_go_folder

    refuse_go_folder(data)
    if not (data / WORLD_FILE).is_file():
        raise BadInputError(f"--data {data} is not a governed data folder (no {WORLD_FILE}; see keys new)")


@contextmanager
def _council(data: Path) -> Iterator[Any]:
    from ouroboros.ai.council import build_council

    _require_governed(data)
    with _governor(data, read_only=True) as gov:
        council = build_council(data, gov, world=gov.world_name)
        try:
            yield council
        finally:
            council.close()


def _emit(as_json: bool, payload: Any, text: str) -> None:
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str))
    else:
        typer.echo(text)


# -- director --------------------------------------------------------------------------------------
def _status_text(status: dict[str, Any]) -> str:
    sliders = ", ".join(f"{k} {v}" for k, v in status["sliders"].items())
    toggles = ", ".join(f"{k} {'on' if v else 'off'}" for k, v in status["toggles"].items())
    in_force = status.get("throttles_in_force", status["throttles"])
    throttles = ", ".join(
        f"{k} {v}"
        + (f" (in force {in_force[k]}: capped by the guardrails)" if in_force.get(k, v) != v else "")
        for k, v in status["throttles"].items()
    )
    text = (
        f"director {status['mode']}\n  sliders: {sliders}\n  toggles: {toggles}\n  throttles: {throttles}\n"
        f"  jobs in the last minute: {status['jobs_in_window']}, "
        f"expansions under way: {status['open_expansions']}"
    )
    if status.get("guardrails_error"):
        text += f"\n  guardrails file INVALID (nothing is proposed or approved): {status['guardrails_error']}"
    return text


@director_app.command("status")
def director_status(data: DataOption = DEFAULT_DATA, as_json: JsonFlag = False) -> None:
    """Mode, sliders, toggles and throttles."""
    with _boundary(), _council(data) as council:
        status = council.director.status()
    _emit(as_json, status, _status_text(status))


def _why_line(row: dict[str, Any]) -> str:
    """The short why of one decision: what suppressed it, why enrich fell back, what the
    storyteller chose, else the job."""
    why = row["why"] if isinstance(row["why"], dict) else {}
    if why.get("suppressed_by"):
        return str(why["suppressed_by"])
    if why.get("why"):
        return str(why["why"])
    if row["rule"] == "ensemble":
        return f"chose {why.get('choice')} (votes {why.get('votes')}, weights {why.get('weights')})"
    if why.get("guardrails_invalid"):
        return f"guardrails file invalid: {why['guardrails_invalid']}"
    return str(row["job_id"] or why.get("proposal_id") or "")


@director_app.command("log")
def director_log(
    limit: Annotated[int, typer.Option("--limit", help="How many decisions, newest first.")] = 20,
    data: DataOption = DEFAULT_DATA,
    as_json: JsonFlag = False,
) -> None:
    """The director's recent decisions and why."""
    with _boundary():
        if not 1 <= limit <= 10_000:
            raise BadInputError("--limit must be between 1 and 10000")
        with _council(data) as council:
            rows = council.director.decisions(limit)
    lines = [
        f"{r['seq']:>6} tick {r['tick']:>8} {r['rule']:<10} {r['outcome']:<15} {r['job_type'] or '':<16} "
        f"{_why_line(r)}"
        for r in rows
    ]
    _emit(as_json, {"decisions": rows}, "\n".join(lines) or "no decisions yet")


def _mode(data: Path, action: str, actor: str, reason: str, as_json: bool) -> None:
    with _boundary(), _council(data) as council:
        director = council.director
        status = {"pause": director.pause, "resume": director.resume, "stop": director.emergency_stop}[
            action
        ](actor, reason)
    _emit(as_json, status, _status_text(status))


@director_app.command("pause")
def director_pause(
    data: DataOption = DEFAULT_DATA,
    actor: ActorOption = "operator",
    reason: ReasonOption = "paused from the CLI",
    as_json: JsonFlag = False,
) -> None:
    """Consider rules but start no jobs (each suppression is logged)."""
    _mode(data, "pause", actor, reason, as_json)


@director_app.command("resume")
def director_resume(
    data: DataOption = DEFAULT_DATA,
    actor: ActorOption = "operator",
    reason: ReasonOption = "resumed from the CLI",
    as_json: JsonFlag = False,
) -> None:
    """Run again (also the only way out of an emergency stop)."""
    _mode(data, "resume", actor, reason, as_json)


@director_app.command("stop")
def director_stop(
    data: DataOption = DEFAULT_DATA,
    actor: ActorOption = "operator",
    reason: ReasonOption = "emergency stop from the CLI",
    as_json: JsonFlag = False,
) -> None:
    """Emergency stop: no jobs and no submissions until an operator resumes."""
    _mode(data, "stop", actor, reason, as_json)


def parse_setting(name: str, text: str) -> Any:
    """A director setting's value from the command line: on/off/true/false for toggles, a whole
    number otherwise. Raises ``BadInputError``."""
    from ouroboros.ai.director import SETTINGS, TOGGLES

    if name not in SETTINGS:
        raise BadInputError(f"unknown director setting {name!r} (one of {', '.join(SETTINGS)})")
    lowered = text.strip().lower()
    if name in TOGGLES:
        if lowered in ("on", "true", "yes", "1"):
            return True
        if lowered in ("off", "false", "no", "0"):
            return False
        raise BadInputError(f"{name} must be on or off, not {text!r}")
    try:
        return int(lowered, 10)
    except ValueError:
        raise BadInputError(f"{name} must be a whole number, not {text!r}") from None


@director_app.command("set")
def director_set(
    name: Annotated[
        str, typer.Argument(help="chaos, aggression, expansion (0-100), a toggle or a throttle.")
    ],
    value: Annotated[str, typer.Argument(help="A whole number, or on/off for a toggle.")],
    data: DataOption = DEFAULT_DATA,
    actor: ActorOption = "operator",
    reason: ReasonOption = "",
    as_json: JsonFlag = False,
) -> None:
    """Change a slider, toggle or throttle (kept across restarts)."""
    with _boundary():
        parsed = parse_setting(name, value)
        with _council(data) as council:
            status = council.director.set(name, parsed, actor, reason)
    _emit(as_json, status, _status_text(status))


# -- generate --------------------------------------------------------------------------------------
@app.command("generate")
def generate_command(
    type_: Annotated[str, typer.Argument(metavar="TYPE", help="NPC, ITEM, QUEST, BUILDING, EVENT, ...")],
    seed: Annotated[int, typer.Option("--seed", help="The seed (same seed, same proposal).")],
    world: Annotated[
        str | None,
        typer.Option("--world", help="The world to generate for [default: the first played world]."),
    ] = None,
    data: Annotated[
        Path | None, typer.Option("--data", help="Grow from this folder's active content (default: base).")
    ] = None,
    context: Annotated[str | None, typer.Option("--context", help="A JSON object for the generator.")] = None,
    queue: Annotated[
        bool, typer.Option("--queue", help="Also put it in --data's approval queue (it is not submitted).")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Print one generated proposal, deterministically; with --queue, also put it in the
    approval queue of --data (it is not submitted)."""
    from ouroboros.ai.generators import generate
    from ouroboros.ai.guardrails import GuardrailsFile
    from ouroboros.worlds import default_world

    with _boundary():
        world = world or default_world(lambda spec: spec.game is not None)
        ctx = None
        if context is not None:
            try:
                ctx = json.loads(context)
            except json.JSONDecodeError as exc:
                raise BadInputError(f"--context is not JSON: {exc.msg}") from None
            except RecursionError:
                raise BadInputError("--context is nested too deeply") from None
            if not isinstance(ctx, dict):
                raise BadInputError("--context must be a JSON object")
        content, guardrails = None, None
        if queue and data is None:
            raise BadInputError("--queue needs --data (the folder whose queue it joins)")
        if data is not None:
            _require_governed(data)
            with _governor(data, read_only=True) as gov:
                if gov.world_name != world:
                    raise BadInputError(f"{data} is governed for world {gov.world_name!r}, not {world!r}")
                content = gov.active_content()
            guardrails_file = GuardrailsFile(data / "guardrails.json")
            guardrails = guardrails_file.current()
            if guardrails_file.last_error and guardrails_file.path.exists():
                raise PatchError(
                    f"the guardrails file is invalid, nothing is generated: {guardrails_file.last_error}",
                    code="guardrails_invalid",
                )
        state, queued_summary = None, ""
        try:
            proposal = generate(
                type_.upper(), seed, world=world, content=content, guardrails=guardrails, context=ctx
            )
            if queue and data is not None:
                with _council(data) as council:
                    record = council.propose(type_.upper(), seed, ctx, queue=True, actor="operator")
                state = record["state"]
                queued_summary = (record["validated"] or record["generated"]).get("summary", "")
                if state == "failed":
                    raise PatchError(
                        f"{record['proposal_id']} not queued: {record['reason']}", code="not_queued"
                    )
        except BadInputError:
            raise
        except OuroborosError as exc:
            if as_json and queue:  # the refusal as data on stdout too, then the one error line
                typer.echo(json.dumps({"queue_state": "failed", "error": exc.as_dict()}, sort_keys=True))
            raise
    body = proposal.model_dump(mode="json") | (
        {"queue_state": state, "queued_summary": queued_summary} if state else {}
    )
    lines = [
        f"{proposal.proposal_id}  {proposal.type.value} seed {proposal.seed} ({proposal.generator})",
        f"  {proposal.summary}",
    ]
    lines += [f"  + {domain} {oid}" for domain, oid in proposal.object_ids()]
    if state:
        lines.append(f"  queued: {state} as {queued_summary!r}")
    if proposal.budget:
        lines.append("  budget " + ", ".join(f"{k} {v}" for k, v in sorted(proposal.budget.items())))
    _emit(as_json, body, "\n".join(lines))


# -- queue -----------------------------------------------------------------------------------------
def _record_text(record: dict[str, Any]) -> str:
    proposal = record["validated"] or record["generated"]
    lines = [
        f"{record['proposal_id']}: {record['state']}  {record['type']} seed {record['seed']}",
        f"  {proposal.get('summary', '')}",
    ]
    if record["reason"]:
        lines.append(f"  reason: {record['reason']}")
    enrich = record.get("enrich") or {}
    if enrich:
        how = f"kept the generated words because {enrich.get('reason')}" if enrich.get("fallback") else "ok"
        if enrich.get("kept_generated"):
            how += f"; {enrich.get('note')}"
        lines.append(f"  enrich: {enrich.get('model') or enrich.get('provider') or '?'}: {how}")
    if record["patch_id"]:
        lines.append(f"  patch {record['patch_id']}")
    lines.append(json.dumps(proposal["payload"], indent=2, ensure_ascii=False, sort_keys=True))
    return "\n".join(lines)


def _verdict_out(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, sort_keys=True, default=str))
    else:
        typer.echo(
            f"{result.get('patch_id') or '(no patch)'}: {result['state']} "
            f"(proposal {result['proposal_state']})"
        )
        for r in result.get("reasons", ()):
            typer.echo(f"  [{r['stage']}] {r['code']} at {r['path'] or '/'}: {r['message']}")
    if not result["ok"]:
        raise typer.Exit(EXIT_FAILED)


@queue_app.command("list")
def queue_list(
    state: Annotated[str | None, typer.Option("--state", help="Only proposals in this state.")] = None,
    data: DataOption = DEFAULT_DATA,
    as_json: JsonFlag = False,
) -> None:
    """Proposals, oldest first, with their state."""
    with _boundary(), _council(data) as council:
        rows = council.queue.list(state)
    lines = [f"{r['proposal_id']}  {r['state']:<9} {r['type']:<16} {r['summary']}" for r in rows]
    _emit(as_json, {"proposals": rows}, "\n".join(lines) or "the queue is empty")


@queue_app.command("show")
def queue_show(
    proposal_id: Annotated[str, typer.Argument()], data: DataOption = DEFAULT_DATA, as_json: JsonFlag = False
) -> None:
    """A proposal: state, reason, patch and payload."""
    with _boundary(), _council(data) as council:
        record = council.queue.get(proposal_id)
    _emit(as_json, record, _record_text(record))


@queue_app.command("diff")
def queue_diff(
    proposal_id: Annotated[str, typer.Argument()], data: DataOption = DEFAULT_DATA, as_json: JsonFlag = False
) -> None:
    """The payload as generated and as validated (enriched, edited), and what differs."""
    with _boundary(), _council(data) as council:
        diff = council.queue.diff(proposal_id)
    lines = [f"{c['path']}: {c['before']!r} -> {c['after']!r}" for c in diff["changes"]]
    _emit(as_json, diff, "\n".join(lines) or "no differences")


@queue_app.command("approve")
def queue_approve(
    proposal_id: Annotated[str, typer.Argument()],
    data: DataOption = DEFAULT_DATA,
    actor: ActorOption = "operator",
    reason: ReasonOption = "approved from the CLI",
    as_json: JsonFlag = False,
) -> None:
    """Sign and submit a queued proposal (or approve one the pipeline holds for a person)."""
    with _boundary(), _council(data) as council:
        result = council.queue.approve(proposal_id, actor, reason)
    _verdict_out(result, as_json)


@queue_app.command("reject")
def queue_reject(
    proposal_id: Annotated[str, typer.Argument()],
    data: DataOption = DEFAULT_DATA,
    actor: ActorOption = "operator",
    reason: ReasonOption = "rejected from the CLI",
    as_json: JsonFlag = False,
) -> None:
    """Close a waiting proposal."""
    with _boundary(), _council(data) as council:
        record = council.queue.reject(proposal_id, actor, reason)
    _emit(as_json, record, f"{proposal_id}: {record['state']}")


def parse_assignments(assignments: list[str]) -> dict[str, Any]:
    """``path=value`` pairs (``items/neon.item.x/price=120``) as one nested merge object; a value
    that reads as JSON is that JSON (``120``, ``"120"``), otherwise it is the text."""
    if not assignments:
        raise BadInputError("give at least one --set path=value")
    merged: dict[str, Any] = {}
    for text in assignments:
        path, sep, raw = text.partition("=")
        parts = [p for p in path.strip().strip("/").split("/") if p]
        if not sep or not parts:
            raise BadInputError(f"--set {text!r}: expected path=value, e.g. items/0/price=120")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        except RecursionError:
            raise BadInputError(f"--set {path.strip()}: the value is nested too deeply") from None
        node = merged
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise BadInputError(f"--set {text!r} conflicts with another --set")
            node = child
        if parts[-1] in node:
            raise BadInputError(f"--set {text!r} sets a field twice")
        node[parts[-1]] = value
    return merged


@queue_app.command("edit")
def queue_edit(
    proposal_id: Annotated[str, typer.Argument()],
    assignments: Annotated[
        list[str], typer.Option("--set", help="path=value, e.g. items/0/name=Widowmaker (repeatable).")
    ],
    data: DataOption = DEFAULT_DATA,
    actor: ActorOption = "operator",
    reason: ReasonOption = "edited from the CLI",
    as_json: JsonFlag = False,
) -> None:
    """Change words and numbers of a queued proposal; re-checked, or nothing changes."""
    with _boundary():
        patch = parse_assignments(assignments)
        with _council(data) as council:
            record = council.queue.edit(proposal_id, patch, actor, reason)
    lines = [f"{proposal_id}: edited"] + [
        f"  {c['path']}: {c['before']!r} -> {c['after']!r}" for c in record["changes"]
    ]
    _emit(as_json, record, "\n".join(lines))


@queue_app.command("undo")
def queue_undo(
    proposal_id: Annotated[str, typer.Argument()],
    data: DataOption = DEFAULT_DATA,
    actor: ActorOption = "operator",
    reason: ReasonOption = "undone from the CLI",
    as_json: JsonFlag = False,
) -> None:
    """Remove exactly this proposal's objects with a new patch (other proposals stay)."""
    with _boundary(), _council(data) as council:
        result = council.queue.undo(proposal_id, actor, reason)
    _verdict_out(result, as_json)


__all__ = ["EXIT_BAD_INPUT", "parse_assignments", "parse_setting"]
