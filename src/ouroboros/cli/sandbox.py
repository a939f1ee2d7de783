"""``ouroboros sandbox``: static checks of a script, and a trial run as a trait in a fresh world.

What it promises:

- ``check FILE`` runs the static checks on a ``.lua`` script or a ``.py`` trait: prints ``ok`` or
  one line per fault; exit 0 ok, 1 refused.
- ``run FILE`` runs the script as the only trait of a fresh petri world and stops at the first
  fault. With ``--json``, exactly one object with ``ok``, ``fault`` (``null`` or ``{code,
  message, budget_used}``), ``faults`` and ``ticks_run``. Refused or stopped: ``ok`` false, exit 1.
- Bad input (a missing file, an unknown extension, text that is not UTF-8, flags out of range):
  one ``error:`` line on stderr, exit 2. Whatever the script does, the command neither crashes
  nor hangs: every script runs under the sandbox's budgets.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ouroboros.cli.core import EXIT_FAILED, JsonFlag, _command_boundary, _read_file, app
from ouroboros.errors import BadInputError
from ouroboros.sandbox import Fault, check_script

MAX_TICKS = 100_000
MAX_ENTITIES = 100_000
LANGUAGE_OF = {".lua": "lua", ".py": "python"}

sandbox_app = typer.Typer(help="Check sandboxed scripts and try them in a fresh world.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")


def _load_script(path: Path) -> tuple[str, str]:
    """(language, source) of a script file, or ``BadInputError``."""
    language = LANGUAGE_OF.get(path.suffix.lower())
    if language is None:
        raise BadInputError(f"{path}: unknown script type {path.suffix or '(none)'!r} (use .lua or .py)")
    data = _read_file(path, "script")
    try:
        return language, data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInputError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def _fault_json(fault: Fault | None) -> dict[str, Any] | None:
    if fault is None:
        return None
    return {"code": str(fault.code), "message": fault.message, "budget_used": dict(fault.budget_used)}


def _fault_line(fault: Fault) -> str:
    return f"{fault.code}: {fault.message}"


@sandbox_app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="A .lua script or a .py trait.")],
    json_out: JsonFlag = False,
) -> None:
    """Run the static checks on a script; exit 1 when it is refused."""
    with _command_boundary():
        language, source = _load_script(file)
    faults = check_script(language, source, script_id=file.stem, version="file")
    if json_out:
        payload = {"ok": not faults, "language": language, "faults": [f.as_dict() for f in faults]}
        typer.echo(json.dumps(payload))
    else:
        typer.echo("\n".join(_fault_line(f) for f in faults) if faults else "ok")
    if faults:
        raise typer.Exit(EXIT_FAILED)


@sandbox_app.command("run")
def run(
    file: Annotated[Path, typer.Argument(help="A .lua script or a .py trait.")],
    world_name: Annotated[
        str | None, typer.Option("--world", help="World to run it in [default: the first that runs scripts].")
    ] = None,
    entities: Annotated[int, typer.Option(help="Molbots at the start.")] = 200,
    ticks: Annotated[int, typer.Option(help="Ticks to run.")] = 100,
    seed: Annotated[int, typer.Option(help="World seed.")] = 0,
    json_out: JsonFlag = False,
) -> None:
    """Run a script as the only trait of a fresh world; stop at its first fault."""
    with _command_boundary():
        from ouroboros.worlds import default_world, registry

        runs_scripts = [name for name, spec in registry().items() if spec.trait_world is not None]
        world_name = world_name or default_world(lambda spec: spec.trait_world is not None)
        if world_name not in runs_scripts:
            raise BadInputError(
                f"--world {world_name!r}: scripts run in {', '.join(runs_scripts)} only for now"
            )
        if not 0 <= ticks <= MAX_TICKS:
            raise BadInputError(f"--ticks must be between 0 and {MAX_TICKS:,}, got {ticks}")
        if not 1 <= entities <= MAX_ENTITIES:
            raise BadInputError(f"--entities must be between 1 and {MAX_ENTITIES:,}, got {entities}")
        if not 0 <= seed < 1 << 63:
            raise BadInputError("--seed must be a non-negative 64-bit integer")
        language, source = _load_script(file)
    result = _trial(world_name, language, source, file.stem, entities, ticks, seed)
    if json_out:
        typer.echo(json.dumps(result))
    else:
        _print_trial(result)
    if not result["ok"]:
        raise typer.Exit(EXIT_FAILED)


def _trial(
    world_name: str, language: str, source: str, script_id: str, entities: int, ticks: int, seed: int
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ok": False,
        "script": script_id,
        "language": language,
        "fault": None,
        "faults": [],
        "ticks_run": 0,
        "ticks": ticks,
        "digest": None,
        "entities": None,
        "log": [],
    }
    faults = check_script(language, source, script_id=script_id, version="file")
    if faults:
        result["fault"] = _fault_json(faults[0])
        result["faults"] = [f.as_dict() for f in faults]
        return result
    trait = _make_trait(language, source, script_id)
    try:
        from ouroboros.worlds import world_spec

        make = world_spec(world_name).trait_world
        if make is None:
            raise BadInputError(f"scripts do not run in {world_name!r}")
        world = make(seed, entities, trait)
        world.start()
        while not trait.faults and result["ticks_run"] < ticks:
            world.step()
            result["ticks_run"] += 1
        result["digest"] = world.digest().hex
        result["entities"] = world.entity_count
        result["log"] = list(getattr(trait, "log", []))[:100]
    finally:
        trait.close()
    faults = list(trait.faults)
    result["ok"] = not faults
    result["fault"] = _fault_json(faults[0] if faults else None)
    result["faults"] = [f.as_dict() for f in faults]
    return result


def _make_trait(language: str, source: str, script_id: str) -> Any:
    if language == "lua":
        from ouroboros.sandbox import LuaTrait

        return LuaTrait(script_id, "file", source)
    from ouroboros.sandbox import PythonTrait

    return PythonTrait(script_id, "file", source)


def _print_trial(result: dict[str, Any]) -> None:
    lines = [f"script    {result['script']} ({result['language']})"]
    lines.append(f"ticks     {result['ticks_run']} of {result['ticks']}")
    if result["digest"] is not None:
        lines.append(f"digest    {result['digest']}")
        lines.append(f"entities  {result['entities']}")
    for line in result["log"][:10]:
        lines.append(f"log       {line}")
    fault = result["fault"]
    lines.append("ok" if fault is None else f"fault     {fault['code']}: {fault['message']}")
    typer.echo("\n".join(lines))
