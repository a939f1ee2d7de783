"""The ``ouroboros`` app and its world commands: ``run``, ``replay``, ``snapshot info`` (``go`` lives
in ``cli/go.py`` and registers itself on this app when this module is imported).

What it promises:

- Exit codes: 0 done, 1 the operation failed (a replay that desyncs), 2 bad input. Bad input is
  one line on stderr starting with ``error: `` and never a traceback.
- Every flag is checked, every input read and every output file reserved *before* the first tick
  runs. Outputs are written to a hidden temporary file beside the target and renamed over it on
  success, so a failed or interrupted command leaves no partial ``--save`` or ``--log`` behind.
- ``--json`` puts exactly one JSON object on stdout; progress bars go to stderr, and only when
  stderr is a terminal.
- The wall clock never reaches a world: progress, pacing and timing happen between ticks.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
import xxhash
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ouroboros import __version__
from ouroboros.cli.boundary import EXIT_FAILED
from ouroboros.cli.boundary import command_boundary as _command_boundary
from ouroboros.cli.boundary import fail as _fail
from ouroboros.engine import LogWriter, World, describe_snapshot, replay
from ouroboros.engine.snapshot import read_header
from ouroboros.errors import BadInputError, LogFormatError, SnapshotError
from ouroboros.worlds import build_world, default_world, spec_of, world_from_meta, world_spec
from ouroboros.worlds import world_kpis as _world_kpis

MAX_RUN_TICKS = 100_000_000
DEFAULT_SEED = 0
DEFAULT_ENTITIES = 500

app = typer.Typer(
    name="ouroboros",
    help="Living game worlds that rewrite themselves, safely.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
snapshot_app = typer.Typer(help="Inspect snapshot files.", no_args_is_help=True)
app.add_typer(snapshot_app, name="snapshot")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


def _read_file(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BadInputError(f"cannot read {what} {path}: {exc.strerror or exc}", path=str(path)) from exc


# -- outputs that appear whole or not at all ---------------------------------------------------
class PendingFile:
    """An output reserved before work starts: a hidden temporary file beside ``path``, renamed
    over it by ``commit`` or removed by ``discard``. Reserving checks the directory now."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        parent = path.parent
        if not parent.is_dir():
            raise BadInputError(f"cannot write {what} {path}: directory {parent} does not exist")
        if path.is_dir():
            raise BadInputError(f"cannot write {what} {path}: it is a directory")
        self.temp = parent / f".{path.name}.{secrets.token_hex(4)}.part"
        try:
            self.temp.open("xb").close()
        except OSError as exc:
            raise BadInputError(f"cannot write {what} {path}: {exc.strerror or exc}") from exc

    def write_bytes(self, data: bytes) -> None:
        with self.temp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    def commit(self) -> None:
        os.replace(self.temp, self.path)

    def discard(self) -> None:
        self.temp.unlink(missing_ok=True)


# -- worlds from flags or snapshots ------------------------------------------------------------
def _new_world(
    world_name: str | None,
    seed: int | None,
    entities: int | None,
    preset: str | None = None,
    init: Path | None = None,
) -> World:
    name = world_name or headless_world()
    config: dict[str, Any] = {}
    # a world whose live config counts entities is sized by --entities (default 500); the others by
    # --preset (or --init)
    sized = "entities" in world_spec(name).live_config
    if entities is not None or (sized and preset is None and init is None):
        config["entities"] = DEFAULT_ENTITIES if entities is None else entities
    if preset is not None:
        config["preset"] = preset
    if init is not None:
        config["init"] = str(init)
    return build_world(name, DEFAULT_SEED if seed is None else seed, config)


def headless_world() -> str:
    """The world ``run`` builds when none is named: the first live world nobody plays."""
    return default_world(lambda spec: spec.game is None)


def load_snapshot(
    path: Path, world_name: str | None = None, seed: int | None = None, entities: int | None = None
) -> tuple[World, bytes]:
    """The world a snapshot file holds, and its bytes. Flags given alongside must agree with it."""
    data = _read_file(path, "snapshot")
    try:
        header, _ = read_header(data)
    except SnapshotError as exc:
        raise SnapshotError(f"snapshot {path}: {exc.message}", code=exc.code) from exc
    meta, recorded_seed = header.get("meta"), header.get("seed")
    if not isinstance(meta, dict) or not isinstance(recorded_seed, int) or isinstance(recorded_seed, bool):
        raise SnapshotError(f"snapshot {path} records no world or seed", code="header")
    config = meta.get("config")
    if not isinstance(config, dict):
        config = {}
    for flag, given, recorded in (
        ("--world", world_name, meta.get("world")),
        ("--seed", seed, recorded_seed),
        ("--entities", entities, config.get("entities")),
    ):
        if given is not None and given != recorded:
            raise BadInputError(f"{flag} {given} conflicts with snapshot {path}, which has {recorded}")
    world = world_from_meta(recorded_seed, meta)
    try:
        world.restore(data)
    except SnapshotError as exc:
        raise SnapshotError(f"snapshot {path}: {exc.message}", code=exc.code) from exc
    return world, data


def world_kpis(world: World) -> dict[str, Any]:
    """The world's KPIs as plain data (empty for a world that defines none)."""
    return _world_kpis(world)


def tick_ms(world: World) -> dict[str, float]:
    stats = world.profiler.tick_stats()
    return {k: round(stats[f"{k}_ms"], 3) for k in ("p50", "p95", "max")}


# -- run ---------------------------------------------------------------------------------------
@app.command()
def run(
    ticks: Annotated[int, typer.Option(help="How many more ticks to run (0 runs none).")] = 100,
    world_name: Annotated[
        str | None,
        typer.Option("--world", help="World to build [default: the first live world nobody plays]."),
    ] = None,
    seed: Annotated[int | None, typer.Option(help=f"World seed [default: {DEFAULT_SEED}].")] = None,
    entities: Annotated[
        int | None, typer.Option(help=f"Entities at the start [default: {DEFAULT_ENTITIES}].")
    ] = None,
    from_: Annotated[Path | None, typer.Option("--from", help="Start from this snapshot file.")] = None,
    save: Annotated[Path | None, typer.Option(help="Write a snapshot of the end state here.")] = None,
    log: Annotated[Path | None, typer.Option(help="Write an input log (for replay) here.")] = None,
    preset: Annotated[
        str | None,
        typer.Option(help="A size the world defines (wolfsheep, flocking: small, large, x10, x100)."),
    ] = None,
    init: Annotated[
        Path | None, typer.Option(help="Start state from this .npz (flocking: pos0, vel0, orders).")
    ] = None,
    dump: Annotated[
        Path | None, typer.Option(help="Write the end state as .npz here (flocking: pos, vel).")
    ] = None,
    optimizer: Annotated[
        str,
        typer.Option(
            "--optimizer", help="on: the engine swaps system variants as it runs; off: it never does."
        ),
    ] = "on",
    force_variant: Annotated[
        list[str] | None,
        typer.Option(
            "--force-variant", help="SYSTEM=VARIANT, repeatable: run that variant, never rewritten."
        ),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Run a world headless for N ticks; print its digest, KPIs and tick times."""
    with _command_boundary():
        if optimizer not in ("on", "off"):
            raise BadInputError(f"--optimizer must be on or off, got {optimizer!r}")
        forced = parse_forced(force_variant or [])
        if not 0 <= ticks <= MAX_RUN_TICKS:
            raise BadInputError(f"--ticks must be between 0 and {MAX_RUN_TICKS:,}, got {ticks}")
        if save is not None and log is not None and save.resolve() == log.resolve():
            raise BadInputError("--save and --log name the same file")
        outputs: list[PendingFile] = []
        try:
            if from_ is not None and (preset is not None or init is not None):
                raise BadInputError("--preset and --init build a new world; they cannot go with --from")
            save_out = _reserve(outputs, save, "snapshot")
            log_out = _reserve(outputs, log, "log")
            dump_out = _reserve(outputs, dump, "dump")
            world, start = _starting_world(from_, world_name, seed, entities, preset, init)
            limit = world.meta.get("tick_limit")
            if isinstance(limit, int) and world.tick + ticks > limit:
                raise BadInputError(
                    f"--ticks {ticks} from tick {world.tick} passes tick {limit}, "
                    "the last its --init file has activation orders for"
                )
            dump_fn = spec_of(world).dump
            if dump_out is not None and dump_fn is None:
                raise BadInputError(f"--dump: world {world.meta.get('world')} has no end state to dump")
            engine_optimizer = make_optimizer(world, optimizer == "on", forced)
            # Startup runs before the log's header digest is taken, as replay's rebuild does.
            world.start()
            _run_ticks(
                world,
                ticks,
                log_out,
                start,
                show_progress=not json_out and sys.stderr.isatty(),
                optimizer=engine_optimizer,
            )
            if save_out is not None:
                save_out.write_bytes(world.snapshot())
            if dump_out is not None and dump_fn is not None:
                buffer = io.BytesIO()
                np.savez(buffer, **dump_fn(world))
                dump_out.write_bytes(buffer.getvalue())
            for out in outputs:
                out.commit()
        except BaseException:
            for out in outputs:
                out.discard()
            raise
    summary = {
        "world": world.meta.get("world"),
        "seed": world.seed,
        "ticks": world.tick,
        "ran": ticks,
        "digest": world.digest().hex,
        "entities": world.entity_count,
        "kpis": world_kpis(world),
        "tick_ms": tick_ms(world),
        "saved": str(save) if save is not None else None,
        "log": str(log) if log is not None else None,
        "dump": str(dump) if dump is not None else None,
        "variants": {**world.active_variants(), "layout": world.default_layout},
        "optimizer": {
            "enabled": optimizer == "on",
            "decisions": [d for d in engine_optimizer.history if d["kind"] != "guard"]
            if engine_optimizer
            else [],
        },
    }
    if json_out:
        typer.echo(json.dumps(summary))
    else:
        _print_run_summary(summary)


def _reserve(outputs: list[PendingFile], path: Path | None, what: str) -> PendingFile | None:
    if path is None:
        return None
    out = PendingFile(path, what)
    outputs.append(out)
    return out


def _starting_world(
    from_: Path | None,
    world_name: str | None,
    seed: int | None,
    entities: int | None,
    preset: str | None = None,
    init: Path | None = None,
) -> tuple[World, dict[str, Any]]:
    """The world to run and how the log names its start: fresh, or a snapshot file and its hash."""
    if from_ is None:
        return _new_world(world_name, seed, entities, preset, init), {"kind": "fresh"}
    world, data = load_snapshot(from_, world_name, seed, entities)
    start = {"kind": "snapshot", "path": str(from_.resolve()), "xxh3": xxhash.xxh3_128_hexdigest(data)}
    return world, start


def parse_forced(pairs: list[str]) -> dict[str, str]:
    """``["eat=numba", ...]`` → ``{"eat": "numba"}``; anything else is bad input."""
    forced: dict[str, str] = {}
    for pair in pairs:
        system, sep, variant = pair.partition("=")
        if not sep or not system or not variant:
            raise BadInputError(f"--force-variant takes SYSTEM=VARIANT, got {pair!r}")
        if forced.get(system, variant) != variant:
            raise BadInputError(f"--force-variant: {system} forced twice ({forced[system]} and {variant})")
        forced[system] = variant
    return forced


def make_optimizer(world: World, enabled: bool, forced: dict[str, str], data: Path | None = None) -> Any:
    """The engine's optimizer for ``world`` (``None`` when off and nothing is forced). Forced
    variants must exist: a wrong name is bad input, said before the first tick."""
    from ouroboros.engine.optimizer import LAYOUT, LAYOUTS, Optimizer

    variants = {**world.variants(), LAYOUT: list(LAYOUTS)}
    for system, variant in forced.items():
        if system not in variants:
            raise BadInputError(
                f"--force-variant: no system {system!r} with variants (have: {', '.join(variants)})"
            )
        if variant not in variants[system]:
            raise BadInputError(
                f"--force-variant: {system} has no variant {variant!r} (has: {', '.join(variants[system])})"
            )
    if not enabled and not forced:
        return None
    from ouroboros.ai.optimizer_advisor import OfflineAdvisor
    from ouroboros.optimizer_files import file_hooks

    hooks = file_hooks(data) if data is not None else None
    opt = Optimizer(world, forced=forced, frozen=not enabled, hooks=hooks, advisor=OfflineAdvisor())
    opt.prepare_all()
    return opt


def _run_ticks(
    world: World,
    ticks: int,
    log_out: PendingFile | None,
    start: dict[str, Any],
    *,
    show_progress: bool,
    optimizer: Any = None,
) -> None:
    writer = LogWriter(log_out.temp, world, start) if log_out is not None else None
    progress = (
        Progress(
            TextColumn("tick {task.fields[tick]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        if show_progress
        else None
    )
    try:
        with progress or nullcontext():
            task = progress.add_task("run", total=ticks, tick=world.tick) if progress else None
            for _ in range(ticks):
                report = world.step()
                if writer is not None:
                    writer.record(report)
                if optimizer is not None:
                    optimizer.after_tick(report)
                if progress is not None and task is not None:
                    progress.update(task, advance=1, tick=report.tick)
    finally:
        if writer is not None:
            writer.close()


def _print_run_summary(summary: dict[str, Any]) -> None:
    ms = summary["tick_ms"]
    lines = [
        f"world     {summary['world']} (seed {summary['seed']})",
        f"tick      {summary['ticks']} (ran {summary['ran']})",
        f"digest    {summary['digest']}",
        f"entities  {summary['entities']}",
        f"tick ms   p50 {ms['p50']:.3f}  p95 {ms['p95']:.3f}  max {ms['max']:.3f}",
    ]
    if summary["kpis"]:
        lines.append("kpis")
        lines += [f"  {name}: {_plain_value(value)}" for name, value in summary["kpis"].items()]
    if summary["saved"]:
        lines.append(f"saved     {summary['saved']}")
    if summary["log"]:
        lines.append(f"log       {summary['log']}")
    typer.echo("\n".join(lines))


def _plain_value(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items()) or "-"
    return "-" if value is None else str(value)


# -- replay ------------------------------------------------------------------------------------
def rebuild_start(header: dict[str, Any]) -> World:
    """The start state a log's header names: a fresh world after startup, or its snapshot."""
    start = header["start"]
    kind = start.get("kind")
    if kind == "fresh":
        world = world_from_meta(header["seed"], header["meta"])
        world.start()
        return world
    if kind == "snapshot":
        path, recorded = start.get("path"), start.get("xxh3")
        if not isinstance(path, str) or not isinstance(recorded, str):
            raise LogFormatError("input log header names no start snapshot path and hash")
        data = _read_file(Path(path), "start snapshot")
        if xxhash.xxh3_128_hexdigest(data) != recorded:
            raise BadInputError(f"start snapshot {path} has changed since the log was written")
        world = world_from_meta(header["seed"], header["meta"])
        world.restore(data)
        return world
    raise LogFormatError(f"input log header has an unknown start kind {kind!r}")


@app.command("replay")
def replay_command(
    log: Annotated[Path, typer.Argument(help="Input log written by `run --log` (or a go segment).")],
    until: Annotated[
        int | None,
        typer.Option(help="Stop after this tick (a stretch of the log).", min=0, show_default=False),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Re-run an input log and check every tick's digest; exit 1 at the first desync."""
    with _command_boundary():
        result = replay(log, rebuild_start, until=until)
    start_tick = result.header["start_tick"]
    desync = result.desync.as_dict() if result.desync is not None else None
    payload = {
        "ok": result.ok,
        "ticks": start_tick + result.ticks,
        "replayed": result.ticks,
        "start_tick": start_tick,
        "final_digest": result.final_digest or result.header["digest"],
        "desync": desync,
    }
    if json_out:
        typer.echo(json.dumps(payload))
    elif desync is None:
        typer.echo(
            f"replay ok: {result.ticks} ticks match (tick {start_tick} to {payload['ticks']}), "
            f"final digest {payload['final_digest']}"
        )
    if desync is not None:
        if desync["sections"] == ["tick"]:
            where = "the tick digest differs though no recorded section does"
        else:
            where = f"{', '.join(desync['components'])} differ ({', '.join(desync['sections'])})"
        _fail(f"replay desync at tick {desync['tick']}: {where}", EXIT_FAILED)


# -- snapshot info -----------------------------------------------------------------------------
@snapshot_app.command("info")
def snapshot_info(
    file: Annotated[Path, typer.Argument(help="Snapshot file.")],
    json_out: JsonFlag = False,
) -> None:
    """Show what a snapshot holds: world, seed, tick, entities by archetype, digest, size."""
    with _command_boundary():
        try:
            info = describe_snapshot(_read_file(file, "snapshot"))
        except SnapshotError as exc:
            raise SnapshotError(f"snapshot {file}: {exc.message}", code=exc.code) from exc
    meta = info["meta"] if isinstance(info["meta"], dict) else {}
    payload = {
        "path": str(file),
        "world": meta.get("world"),
        **{k: v for k, v in info.items() if k != "meta"},
    }
    if json_out:
        typer.echo(json.dumps(payload))
        return
    lines = [
        f"world       {payload['world']}",
        f"seed        {payload['seed']}",
        f"tick        {payload['tick']}",
        f"entities    {payload['entities']}",
        f"digest      {payload['digest']}",
        f"size        {payload['bytes']:,} bytes",
        f"engine      {payload['engine_version']}",
        "archetypes",
    ]
    for arch in payload["archetypes"]:
        components = arch["components"] if isinstance(arch["components"], list) else []
        lines.append(f"  {arch['count']:>9}  {', '.join(map(str, components))}")
    typer.echo("\n".join(lines))


# -- shared with go (cli/go.py) -----------------------------------------------------------------
def _note(console: Console, text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


# -- entry point -------------------------------------------------------------------------------
def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"ouroboros {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Living game worlds that rewrite themselves, safely."""


def main() -> None:
    app(prog_name="ouroboros")


# ``go`` registers itself on ``app``; imported last because it imports this module's names.
from ouroboros.cli import go as _go  # noqa: E402, F401

__all__ = ["app", "load_snapshot", "main", "rebuild_start"]
