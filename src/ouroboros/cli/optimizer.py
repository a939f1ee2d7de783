"""``ouroboros optimizer``: the engine's self-optimisation, seen and steered by an operator.

``variants`` lists each system's implementations; ``status``, ``history``, ``freeze``,
``unfreeze``, ``force`` and ``release`` work on a data folder (default ``./ouroboros-data``, the
one ``ouroboros go`` uses; the optimizer runs petri, whose files are in ``DATA/petri``): a running
world reads ``optimizer.json`` between ticks, and its
decisions are appended to ``optimizer-history.jsonl``, which survives restarts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ouroboros.cli.core import _command_boundary, app
from ouroboros.errors import BadInputError
from ouroboros.optimizer_files import CONTROL_FILE, HISTORY_FILE, read_control, read_history

optimizer_app = typer.Typer(
    help="The engine's self-optimisation: variants, decisions, freeze, force.", no_args_is_help=True
)
app.add_typer(optimizer_app, name="optimizer")

DataOption = Annotated[Path, typer.Option("--data", help="The data folder of a (running) world.")]
DEFAULT_DATA = Path("ouroboros-data")
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
WorldOption = Annotated[
    str | None,
    typer.Option("--world", help="Which world's systems [default: the first live world nobody plays]."),
]


def _world(world_name: str | None) -> str:
    from ouroboros.cli.core import headless_world

    return world_name or headless_world()


def _variants(world_name: str) -> dict[str, list[str]]:
    from ouroboros.engine.optimizer import LAYOUT, LAYOUTS
    from ouroboros.worlds import build_world, world_spec

    config = {"entities": 0} if "entities" in world_spec(world_name).live_config else {}
    return {**build_world(world_name, 0, config).variants(), LAYOUT: list(LAYOUTS)}


def _world_folder(data: Path, world_name: str | None = None) -> Path:
    """Where ``ouroboros go --data DATA`` keeps a world's optimizer files: its own folder (the
    world ``--world`` names, else the first live world nobody plays)."""
    return data / _world(world_name)


def _control(data: Path, world_name: str | None) -> dict[str, Any]:
    path = _world_folder(data, world_name) / CONTROL_FILE
    return read_control(path) if path.exists() else {"frozen": False, "forced": {}}


def _write_control(data: Path, world_name: str | None, control: dict[str, Any]) -> None:
    from ouroboros.patches import write_atomic

    if data.exists() and not data.is_dir():
        raise BadInputError(f"--data {data} is not a folder")
    _world_folder(data, world_name).mkdir(parents=True, exist_ok=True)
    write_atomic(
        _world_folder(data, world_name) / CONTROL_FILE,
        (json.dumps(control, sort_keys=True, indent=2) + "\n").encode(),
    )


@optimizer_app.command("variants")
def variants(world_name: WorldOption = None, as_json: JsonFlag = False) -> None:
    """Each system with several implementations, and their names."""
    with _command_boundary():
        table = _variants(_world(world_name))
    if as_json:
        typer.echo(json.dumps(table, sort_keys=True))
    else:
        typer.echo("\n".join(f"{system:<12} {', '.join(names)}" for system, names in table.items()))


def engine_state(history: list[dict[str, Any]]) -> dict[str, Any]:
    """What the decisions since the engine's last start say it runs: frozen or not (``None``
    when the history has no start), forced variants (a force until its release) and the variant
    of each system a force or switch set (others run their default). A start resets all of it:
    a restarted world begins again from its defaults."""
    frozen: bool | None = None
    forced: dict[str, str] = {}
    variants: dict[str, str] = {}
    since = None
    for entry in history:
        kind, system, to = entry.get("kind"), entry.get("system"), entry.get("to")
        if kind == "start":
            frozen, forced, variants, since = bool(entry.get("frozen")), {}, {}, entry.get("tick")
        elif kind in ("freeze", "unfreeze"):
            frozen = kind == "freeze"
        elif kind in ("switch", "force") and system and to:
            variants[system] = to
            if kind == "force":
                forced[system] = to
        elif kind == "release" and system:
            forced.pop(system, None)
    return {"frozen": frozen, "forced": forced, "variants": variants, "since_tick": since}


@optimizer_app.command("status")
def status(
    data: DataOption = DEFAULT_DATA, world_name: WorldOption = None, as_json: JsonFlag = False
) -> None:
    """What the control file asks (frozen, forced) and what the engine's decisions since its last
    start say it runs."""
    with _command_boundary():
        control = _control(data, world_name)
        history = read_history(_world_folder(data, world_name) / HISTORY_FILE)
    engine = engine_state(history)
    payload = {
        **control,
        "engine": engine,
        "variants": engine["variants"],
        "decisions": len(history),
        "last": history[-1] if history else None,
    }
    if as_json:
        typer.echo(json.dumps(payload, sort_keys=True))
        return
    asked = ", ".join(f"{s}={v}" for s, v in control["forced"].items()) or "nothing"
    lines = [f"control file: rewriting {'frozen' if control['frozen'] else 'on'}; forcing {asked}"]
    if engine["frozen"] is None and not engine["variants"]:
        lines.append(f"engine: no start recorded; {len(history)} decisions")
    else:
        state = {None: "unknown", True: "frozen", False: "on"}[engine["frozen"]]
        since = "" if engine["since_tick"] is None else f" since its start at tick {engine['since_tick']}"
        lines.append(f"engine{since}: rewriting {state}; {len(history)} decisions in all")
        lines += [
            f"  {s:<12} {v}{' (forced)' if engine['forced'].get(s) == v else ''}"
            for s, v in engine["variants"].items()
        ]
    typer.echo("\n".join(lines))


@optimizer_app.command("history")
def history(
    data: DataOption = DEFAULT_DATA, world_name: WorldOption = None, as_json: JsonFlag = False
) -> None:
    """Every decision: what, why, and the times measured before and after."""
    with _command_boundary():
        entries = read_history(_world_folder(data, world_name) / HISTORY_FILE)
    if as_json:
        typer.echo(json.dumps({"decisions": entries}, sort_keys=True))
        return
    for e in entries:
        measured = ""
        if e.get("before_ms") is not None and e.get("after_ms") is not None:
            measured = f" ({e['before_ms']:.3f} → {e['after_ms']:.3f} ms)"
        change = f"{e.get('system')}: {e.get('from')} → {e.get('to')}" if e.get("system") else ""
        typer.echo(f"tick {e.get('tick'):>7}  {e.get('kind'):<12} {change}{measured}  {e.get('why')}")
        if isinstance(e.get("advice"), dict):
            typer.echo(f"{'':>14}advice: {advice_line(e['advice'])}")
    if not entries:
        typer.echo("no decisions yet")


def advice_line(advice: dict[str, Any]) -> str:
    """The advisor's word on one decision, in one line (the decision itself was the rules')."""
    who = f" ({advice['advisor']})" if advice.get("advisor") else ""
    status = advice.get("status")
    if status != "ok":
        if "ranking" in advice:  # a whole answer that came late
            risks = advice.get("risks") or {}
            said = ", ".join(
                f"{c} risk {risks[c]['risk']:.2f}" if c in risks else c for c in advice["ranking"]
            )
            return f"{status}{who}: ranked {said or 'nothing'}"
        return f"{status}{who}: {advice.get('why')}"
    parts = []
    if "rank" in advice:
        parts.append(f"rank {advice['rank']} of {advice.get('of')}")
    if "risk" in advice:
        parts.append(f"risk {advice['risk']:.2f}: {advice.get('reason')}")
    if advice.get("ignored"):
        parts.append(f"{len(advice['ignored'])} ignored ({advice['ignored'][0]})")
    return f"ok{who}: " + "; ".join(parts)


@optimizer_app.command("freeze")
def freeze(data: DataOption = DEFAULT_DATA, world_name: WorldOption = None) -> None:
    """Stop rewriting (variants stay as they are)."""
    with _command_boundary():
        _write_control(data, world_name, {**_control(data, world_name), "frozen": True})
    typer.echo("rewriting frozen")


@optimizer_app.command("unfreeze")
def unfreeze(data: DataOption = DEFAULT_DATA, world_name: WorldOption = None) -> None:
    """Let the engine rewrite again."""
    with _command_boundary():
        _write_control(data, world_name, {**_control(data, world_name), "frozen": False})
    typer.echo("rewriting on")


@optimizer_app.command("force")
def force(
    pair: Annotated[str, typer.Argument(help="SYSTEM=VARIANT")],
    data: DataOption = DEFAULT_DATA,
    world_name: WorldOption = None,
) -> None:
    """Run a variant from now on and never rewrite that system."""
    from ouroboros.cli.core import parse_forced

    with _command_boundary():
        ((system, variant),) = parse_forced([pair]).items()
        world_name = _world(world_name)
        table = _variants(world_name)
        if system not in table or variant not in table[system]:
            raise BadInputError(
                f"{world_name} has no variant {variant!r} of {system!r} (see: ouroboros optimizer variants)"
            )
        control = _control(data, world_name)
        _write_control(data, world_name, {**control, "forced": {**control["forced"], system: variant}})
    typer.echo(f"forced {system}={variant}")


@optimizer_app.command("release")
def release(
    system: Annotated[str, typer.Argument()], data: DataOption = DEFAULT_DATA, world_name: WorldOption = None
) -> None:
    """Stop forcing a system's variant."""
    with _command_boundary():
        control = _control(data, world_name)
        if system not in control["forced"]:
            raise BadInputError(f"{system} is not forced")
        _write_control(
            data,
            world_name,
            {**control, "forced": {k: v for k, v in control["forced"].items() if k != system}},
        )
    typer.echo(f"released {system}")
