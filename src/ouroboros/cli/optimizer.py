"""``ouroboros optimizer``: the engine's self-optimisation, seen and steered by an operator.

``variants`` lists each system's implementations; ``status``, ``history``, ``freeze``,
``unfreeze``, ``force`` and ``release`` work on a data folder (default ``./ouroboros-data``, the
one ``ouroboros go`` uses): a running world reads ``optimizer.json`` between ticks, and its
decisions are appended to ``optimizer-history.jsonl``, which survives restarts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ouroboros.cli.core import _command_boundary, app
from ouroboros.engine.optimizer import CONTROL_FILE, HISTORY_FILE, read_control, read_history
from ouroboros.errors import BadInputError

optimizer_app = typer.Typer(
    help="The engine's self-optimisation: variants, decisions, freeze, force.", no_args_is_help=True
)
app.add_typer(optimizer_app, name="optimizer")

DataOption = Annotated[Path, typer.Option("--data", help="The data folder of a (running) world.")]
DEFAULT_DATA = Path("ouroboros-data")
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
WorldOption = Annotated[str, typer.Option("--world", help="Which world's systems.")]


def _variants(world_name: str) -> dict[str, list[str]]:
    from ouroboros.engine.optimizer import LAYOUT, LAYOUTS
    from ouroboros.worlds import build_world

    return {**build_world(world_name, 0, {"entities": 0}).variants(), LAYOUT: list(LAYOUTS)}


def _control(data: Path) -> dict[str, Any]:
    path = data / CONTROL_FILE
    return read_control(path) if path.exists() else {"frozen": False, "forced": {}}


def _write_control(data: Path, control: dict[str, Any]) -> None:
    from ouroboros.patches.atomic import write_atomic

    if data.exists() and not data.is_dir():
        raise BadInputError(f"--data {data} is not a folder")
    data.mkdir(parents=True, exist_ok=True)
    write_atomic(data / CONTROL_FILE, (json.dumps(control, sort_keys=True, indent=2) + "\n").encode())


@optimizer_app.command("variants")
def variants(world_name: WorldOption = "petri", as_json: JsonFlag = False) -> None:
    """Each system with several implementations, and their names."""
    with _command_boundary():
        table = _variants(world_name)
    if as_json:
        typer.echo(json.dumps(table, sort_keys=True))
    else:
        typer.echo("\n".join(f"{system:<12} {', '.join(names)}" for system, names in table.items()))


@optimizer_app.command("status")
def status(data: DataOption = DEFAULT_DATA, as_json: JsonFlag = False) -> None:
    """Frozen or not, forced variants, and the variant each system runs after the last decisions."""
    with _command_boundary():
        control = _control(data)
        history = read_history(data / HISTORY_FILE)
    current: dict[str, str] = {}
    for entry in history:
        if entry.get("kind") in ("switch", "force") and entry.get("system") and entry.get("to"):
            current[entry["system"]] = entry["to"]
    payload = {
        **control,
        "variants": current,
        "decisions": len(history),
        "last": history[-1] if history else None,
    }
    if as_json:
        typer.echo(json.dumps(payload, sort_keys=True))
        return
    lines = [f"rewriting {'frozen' if control['frozen'] else 'on'}; {len(history)} decisions"]
    lines += [f"  forced {s}={v}" for s, v in control["forced"].items()]
    lines += [f"  {s:<12} {v}" for s, v in current.items()]
    typer.echo("\n".join(lines))


@optimizer_app.command("history")
def history(data: DataOption = DEFAULT_DATA, as_json: JsonFlag = False) -> None:
    """Every decision: what, why, and the times measured before and after."""
    with _command_boundary():
        entries = read_history(data / HISTORY_FILE)
    if as_json:
        typer.echo(json.dumps({"decisions": entries}, sort_keys=True))
        return
    for e in entries:
        measured = ""
        if e.get("before_ms") is not None and e.get("after_ms") is not None:
            measured = f" ({e['before_ms']:.3f} → {e['after_ms']:.3f} ms)"
        change = f"{e.get('system')}: {e.get('from')} → {e.get('to')}" if e.get("system") else ""
        typer.echo(f"tick {e.get('tick'):>7}  {e.get('kind'):<12} {change}{measured}  {e.get('why')}")
    if not entries:
        typer.echo("no decisions yet")


@optimizer_app.command("freeze")
def freeze(data: DataOption = DEFAULT_DATA) -> None:
    """Stop rewriting (variants stay as they are)."""
    with _command_boundary():
        _write_control(data, {**_control(data), "frozen": True})
    typer.echo("rewriting frozen")


@optimizer_app.command("unfreeze")
def unfreeze(data: DataOption = DEFAULT_DATA) -> None:
    """Let the engine rewrite again."""
    with _command_boundary():
        _write_control(data, {**_control(data), "frozen": False})
    typer.echo("rewriting on")


@optimizer_app.command("force")
def force(
    pair: Annotated[str, typer.Argument(help="SYSTEM=VARIANT")],
    data: DataOption = DEFAULT_DATA,
    world_name: WorldOption = "petri",
) -> None:
    """Run a variant from now on and never rewrite that system."""
    from ouroboros.cli.core import parse_forced

    with _command_boundary():
        ((system, variant),) = parse_forced([pair]).items()
        table = _variants(world_name)
        if system not in table or variant not in table[system]:
            raise BadInputError(
                f"{world_name} has no variant {variant!r} of {system!r} (see: ouroboros optimizer variants)"
            )
        control = _control(data)
        _write_control(data, {**control, "forced": {**control["forced"], system: variant}})
    typer.echo(f"forced {system}={variant}")


@optimizer_app.command("release")
def release(system: Annotated[str, typer.Argument()], data: DataOption = DEFAULT_DATA) -> None:
    """Stop forcing a system's variant."""
    with _command_boundary():
        control = _control(data)
        if system not in control["forced"]:
            raise BadInputError(f"{system} is not forced")
        _write_control(
            data, {**control, "forced": {k: v for k, v in control["forced"].items() if k != system}}
        )
    typer.echo(f"released {system}")
