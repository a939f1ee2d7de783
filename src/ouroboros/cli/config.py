"""``ouroboros config show [--config FILE] [--json]``: every setting ``go`` would run with, and where
each came from (``env``, ``file`` or ``default``; flags are ``go``'s own). Secrets are masked.
Exit codes: 0 done; 2 bad input (an unknown key, a value out of range), one ``error:`` line
naming the key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ouroboros.cli.core import _command_boundary, app

config_app = typer.Typer(
    help="The settings in force (flags over OUROBOROS_* over a TOML file over defaults)."
)
app.add_typer(config_app, name="config", no_args_is_help=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="A TOML file (default: $OUROBOROS_CONFIG, else ./ouroboros.toml).",
        show_default=False,
    ),
]


@config_app.command("show")
def show(
    config: ConfigOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """Print every setting in force with where it came from."""
    from ouroboros.settings import config_file, load_settings

    with _command_boundary():
        settings, sources = load_settings(config=config)
        path = config_file(config)
    values = settings.shown()
    if json_out:
        doc = {
            "config_file": None if path is None else str(path),
            "settings": {k: {"value": v, "source": sources[k]} for k, v in values.items()},
        }
        typer.echo(json.dumps(doc, sort_keys=True))
        return
    width = max(map(len, values))
    typer.echo(f"# config file: {path if path is not None else '(none)'}")
    for name, value in values.items():
        typer.echo(f"{name:<{width}}  {json.dumps(value):<28}  ({sources[name]})")


__all__ = ["show"]
