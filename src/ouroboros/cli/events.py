"""``ouroboros events``: the durable event log of a ``go`` data folder (``<data>/events.sqlite3``).

``events tail [--since ID] [--kind K] [--limit N] [--json] --data DIR`` prints the newest events
(or, with ``--since``, those after ID), oldest first; ``events export`` prints every matching
event, oldest first. Text is one line an event (id, time, kind, world, the rest as ``k=v``);
``--json`` one JSON object a line. The file is read while ``go`` writes it. Exit codes: 0 done;
2 bad input (no such folder, no event log there, a bad ``--kind``), one ``error:`` line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from ouroboros.cli.boundary import EXIT_BAD_INPUT
from ouroboros.cli.core import app

events_app = typer.Typer(help="The durable event log: what the operators' feed showed, kept.")
app.add_typer(events_app, name="events", no_args_is_help=True)

DataOption = Annotated[Path, typer.Option("--data", help="The go data folder.")]
SinceOption = Annotated[int | None, typer.Option("--since", help="Only events after this id.", min=0)]
KindOption = Annotated[str | None, typer.Option("--kind", help="Only events of this kind.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="One JSON object a line on stdout.")]
DEFAULT_DATA = Path("ouroboros-data")
KIND = re.compile(r"^[a-z_]{1,40}$")


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def _log_file(data: Path, kind: str | None) -> Path:
    from ouroboros.server.runtime.eventlog import EVENTS_FILE

    if kind is not None and not KIND.match(kind):
        _fail(f"--kind must be a lower-case kind such as governance or director, got {kind!r}")
    if not data.is_dir():
        _fail(f"--data {data}: no such folder")
    path = data / EVENTS_FILE
    if not path.is_file():
        _fail(f"--data {data} holds no event log ({EVENTS_FILE}; ouroboros go writes one)")
    return path


VALUE_CHARS = 120  # a text line shows this much of each value (--json shows everything)


def _short(value: Any) -> str:
    text = (
        json.dumps(value, default=str, separators=(",", ":"))
        if isinstance(value, dict | list)
        else str(value)
    )
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def line_of(event: dict[str, Any]) -> str:
    """One event as one line: id, time, kind, world, then ``key=value`` (long values cut short)."""
    rest = " ".join(f"{k}={_short(v)}" for k, v in event.items() if k not in ("seq", "at", "kind", "world"))
    head = f"{event.get('seq')} {event.get('at')} {event.get('kind')} {event.get('world') or '-'}"
    return f"{head} {rest}".rstrip()


def _print(events: Any, json_out: bool) -> None:
    for event in events:
        typer.echo(json.dumps(event, sort_keys=True, default=str) if json_out else line_of(event))


@events_app.command("tail")
def tail(
    data: DataOption = DEFAULT_DATA,
    since: SinceOption = None,
    kind: KindOption = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many events.", min=1, max=5000)] = 20,
    json_out: JsonFlag = False,
) -> None:
    """The newest events (or those after --since), oldest first."""
    from ouroboros.server.runtime.eventlog import read_events

    path = _log_file(data, kind)
    _print(read_events(path, since=since, kind=kind, limit=limit), json_out)


@events_app.command("export")
def export(
    data: DataOption = DEFAULT_DATA,
    since: SinceOption = None,
    kind: KindOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Every event (after --since), oldest first."""
    from ouroboros.server.runtime.eventlog import iter_events

    path = _log_file(data, kind)
    _print(iter_events(path, since=since or 0, kind=kind), json_out)


__all__ = ["line_of"]
