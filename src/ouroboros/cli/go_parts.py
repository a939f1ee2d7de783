"""What ``ouroboros go`` sets up around the runtime: its settings (flags over the settings file),
its logs (the access log, ledger alerts and server errors), the first admin's login file, tracing,
and the local model it may serve (``--llm local``).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from ouroboros import tracing
from ouroboros.cli.core import _note

#: the roles a local model serves under ``--llm local`` (behaviour code stays with the evolution loop)
LOCAL_MODEL_ROLES = ("flavour", "dialogue", "narrative")
#: a small model on a loaded CPU writes ~10 tokens/s: give enrichment time before falling back
LOCAL_ENRICH_TIMEOUT_S = 60.0


class CurrentStderr:
    """``sys.stderr`` as it is when a line is written (not when ``go`` started): a second ``go``
    in one process (tests) must not write to the first one's closed stream."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def release_ledger_log() -> None:
    """Give the ledger's alerts back to whoever runs next in this process (``go`` routes them to
    its JSON log only while it serves; a later command prints its own error line)."""
    logger = logging.getLogger("ouroboros.ledger")
    logger.handlers[:] = [logging.NullHandler()]
    logger.propagate = True


ACCESS_LOG_FILE = "access.log"
LOGIN_FILE = "admin-login.txt"


def configure_logs(access_log: Path | None) -> None:
    """Request lines (logger ``ouroboros.api``) go to ``access_log`` (JSON lines, the owner's
    alone), or to stderr when ``None``; ledger refusals and server errors to stderr: the terminal
    keeps what a person must see (the first login) instead of a line per request."""
    from ouroboros.server.api.logs import JsonFormatter, json_handler

    handler = json_handler(CurrentStderr())  # type: ignore[arg-type]
    access: logging.Handler = handler
    if access_log is not None:
        os.close(os.open(access_log, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600))
        access = logging.FileHandler(access_log, encoding="utf-8")
        access.setFormatter(JsonFormatter())
    for name, level, out in (
        ("ouroboros.api", logging.INFO, access),
        ("ouroboros.ledger", logging.WARNING, handler),  # ledger refusals (alerts)
        ("uvicorn.error", logging.WARNING, handler),
    ):
        logger = logging.getLogger(name)
        for old in logger.handlers:
            if isinstance(old, logging.FileHandler):
                old.close()
        logger.handlers[:] = [out]
        logger.setLevel(level)
        logger.propagate = False


#: go's parameters whose setting (``ouroboros.settings.Settings``) has another name
SETTING_OF = {"world_name": "world", "cors_origin": "cors_origins", "trusted_address": "trusted_addresses"}


def given_flags(ctx: typer.Context, values: dict[str, Any]) -> dict[str, Any]:
    """The flags given on the command line, by setting name (the rest come from the settings)."""
    given: dict[str, Any] = {}
    for param, value in values.items():
        source = ctx.get_parameter_source(param)  # typer's own click: compare by name
        if source is not None and source.name in ("COMMANDLINE", "PROMPT"):
            name = SETTING_OF.get(param, param)
            given[name] = tuple(value) if isinstance(value, list) else value
    return given


def write_login_file(data: Path, first: Any) -> Path:
    """The one-time login, also in ``DATA/admin-login.txt`` (mode 0600): it stays readable after
    the terminal scrolled (``ouroboros admin reset-secret`` rewrites it)."""
    path = data / LOGIN_FILE
    text = f"user: {first.username}\none-time secret (works once): {first.one_time_secret}\n" + (
        f"TOTP (add it to an authenticator app): {first.totp_uri}\n" if first.totp_uri else ""
    )
    fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def start_tracing(console: Console, settings: Any) -> None:
    """Spans in memory (the dashboard's "why was this slow"), or over OTLP with an endpoint."""
    if not settings.tracing and not settings.otlp_endpoint:
        return
    secret = settings.otlp_headers.get_secret_value() if settings.otlp_headers is not None else ""
    headers = dict(part.split("=", 1) for part in secret.split(",") if "=" in part)
    tracing.configure(
        otlp_endpoint=settings.otlp_endpoint, otlp_headers=headers, buffer_spans=settings.trace_buffer_spans
    )
    if settings.otlp_endpoint:
        _note(console, f"traces over OTLP to {settings.otlp_endpoint}")


def go_settings(ctx: typer.Context, values: dict[str, Any], config: Path | None) -> Any:
    """The settings ``go`` runs with: the flags given over the settings file (``--config``)."""
    from ouroboros.settings import load_settings

    params = {p.name for p in ctx.command.params if p.name not in (None, "config")}
    settings, _ = load_settings(given_flags(ctx, {k: v for k, v in values.items() if k in params}), config)
    return settings


def runtime_settings(settings: Any) -> dict[str, Any]:
    """The ``RuntimeOptions`` fields that are settings of their own, by the same names."""
    names = (
        "feed_max_events",
        "tick_samples_max",
        "council_events_max",
        "auto_snapshot_keep_last",
        "auto_snapshot_keep_days",
        "event_log",
        "input_log",
        "input_log_segment_ticks",
        "input_log_keep_segments",
        "trace_tick_every",
    )
    return {name: getattr(settings, name) for name in names}


def parse_shards(text: str | None, worlds: tuple[str, ...], label: str = "--shards") -> dict[str, int]:
    """``--shards neon=2,petri=2``: how many shards each named world runs (1..``MAX_SHARDS``);
    one ``BadInputError`` line for anything else (a world not run, a repeated one, a bad count),
    naming where the value came from (``label``: the flag, or the ``shards`` setting)."""
    from ouroboros.errors import BadInputError
    from ouroboros.server.runtime.options import MAX_SHARDS

    if text is None:
        return {}
    out: dict[str, int] = {}
    for part in text.split(","):
        world, sep, count = part.strip().partition("=")
        if not sep or not world:
            raise BadInputError(f"{label} takes WORLD=N[,WORLD=N], got {text!r}")
        if world not in worlds:
            raise BadInputError(f"{label}: {world!r} is not a world this go runs ({', '.join(worlds)})")
        if world in out:
            raise BadInputError(f"{label} names {world} twice")
        try:
            n = int(count.strip())
        except ValueError:
            raise BadInputError(f"{label} {world}: {count.strip()!r} is not a whole number") from None
        if not 1 <= n <= MAX_SHARDS:
            raise BadInputError(f"{label} {world}: the count must be from 1 to {MAX_SHARDS}, got {n}")
        out[world] = n
    return out


def local_model_roles(model: str, base_url: str) -> dict[str, Any]:
    """The roles ``--llm local`` serves with the local model (Ollama protocol), as registry defaults."""
    from ouroboros.ai.llm import RoleAssignment

    return {role: RoleAssignment(role, "ollama", model, base_url) for role in LOCAL_MODEL_ROLES}


def start_local_model(console: Console, port: int) -> Any:
    """The local model server, started (the model fetched once); a failure is one line, exit 1."""
    from ouroboros.ai.llm.local import LocalServer, ensure_model
    from ouroboros.errors import LocalModelError

    try:
        server = LocalServer(ensure_model(), port=port, threads=1).start()
    except LocalModelError as exc:
        raise LocalModelError(f"--llm local: {exc.message}", code=exc.code) from exc
    _note(console, f"local model {server.model_name} at {server.base_url} ({', '.join(LOCAL_MODEL_ROLES)})")
    return server


__all__ = [
    "ACCESS_LOG_FILE",
    "LOCAL_ENRICH_TIMEOUT_S",
    "LOCAL_MODEL_ROLES",
    "LOGIN_FILE",
    "SETTING_OF",
    "CurrentStderr",
    "configure_logs",
    "given_flags",
    "go_settings",
    "local_model_roles",
    "parse_shards",
    "release_ledger_log",
    "runtime_settings",
    "start_local_model",
    "start_tracing",
    "write_login_file",
]
