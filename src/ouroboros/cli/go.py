"""``ouroboros go``: every world live in one process, with the admin API and the dashboard.

It starts the runtime (``ouroboros.server.runtime``: petri and the neon city, each ticking at its
own pace in its own thread, each in its governed folder ``DATA/<world>/``), the neon telnet and
WebSocket gateways, and the admin API with the dashboard (uvicorn, in this process). It prints
where to open the dashboard and, until the first admin has logged in, a fresh one-time login
secret and TOTP provisioning URI (the earlier ones void). It opens a browser unless
``--no-browser`` or there is no display.

What it promises:

- Every flag is checked and every port bound before the first tick; bad input (a bad flag, a
  ``--data`` that is a file, a port in use, a saved world that contradicts ``--seed``) is one
  ``error:`` line and exit code 2.
- Ctrl-C or SIGTERM stops the API, stops every world at a tick boundary and saves it
  (``DATA/petri/petri.snapshot``, ``DATA/neon/neon.db``); the next ``go`` resumes from there
  (``--fresh`` starts over). ``--max-ticks N`` stops after N ticks of each world.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import math
import os
import signal
import socket
import sys
import threading
import time
import webbrowser
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console

from ouroboros.cli.core import MAX_RUN_TICKS, _command_boundary, _note, app
from ouroboros.errors import BadInputError

WORLD_CHOICES = ("all", "neon", "petri")
LLM_CHOICES = ("offline", "local")
#: the roles a local model serves under ``--llm local`` (behaviour code stays with the evolution loop)
LOCAL_MODEL_ROLES = ("flavour", "dialogue", "narrative")
#: a small model on a loaded CPU writes ~10 tokens/s: give enrichment time before falling back
LOCAL_ENRICH_TIMEOUT_S = 60.0


def _check_port(port: int, flag: str) -> None:
    if not 0 <= port <= 65535:
        raise BadInputError(f"{flag} must be a port number (0-65535), got {port}")


def _bind(host: str, port: int, flag: str) -> socket.socket:
    """Reserve the API's port now, so a taken one is bad input before anything starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise BadInputError(f"{flag} {port} on {host}: {exc.strerror or exc}") from exc
    sock.listen(2048)  # connections made before uvicorn serves wait in the backlog, never refused
    sock.set_inheritable(True)
    return sock


def _has_display() -> bool:
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


class _CurrentStderr:
    """``sys.stderr`` as it is when a line is written (not when ``go`` started): a second ``go``
    in one process (tests) must not write to the first one's closed stream."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _release_ledger_log() -> None:
    """Give the ledger's alerts back to whoever runs next in this process (``go`` routes them to
    its JSON log only while it serves; a later command prints its own error line)."""
    logger = logging.getLogger("ouroboros.ledger")
    logger.handlers[:] = [logging.NullHandler()]
    logger.propagate = True


def _configure_logs() -> None:
    from ouroboros.server.api.logs import json_handler

    handler = json_handler(_CurrentStderr())  # type: ignore[arg-type]
    for name, level in (
        ("ouroboros.api", logging.INFO),
        ("ouroboros.ledger", logging.WARNING),  # ledger refusals (alerts)
        ("uvicorn.error", logging.WARNING),
    ):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


@app.command()
def go(
    world_name: Annotated[str, typer.Option("--world", help="neon, petri or all.")] = "all",
    data: Annotated[Path, typer.Option(help="The data folder (one governed folder per world).")] = Path(
        "ouroboros-data"
    ),
    host: Annotated[str, typer.Option(help="The address the API and the gateways listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The admin API and dashboard's port.")] = 8000,
    telnet_port: Annotated[int, typer.Option(help="neon: the telnet gateway's port.")] = 4000,
    ws_port: Annotated[int, typer.Option(help="neon: the WebSocket gateway's port.")] = 4001,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open a browser.")] = False,
    cors_origin: Annotated[
        list[str] | None, typer.Option("--cors-origin", help="Allow this browser origin (repeatable).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of new worlds (default 0).")] = None,
    entities: Annotated[int | None, typer.Option(help="petri: molbots of a new dish (default 300).")] = None,
    fresh: Annotated[bool, typer.Option(help="Start new worlds even if saved ones exist.")] = False,
    ticks_per_second: Annotated[
        float | None,
        typer.Option(
            help="Pace; 0 runs as fast as it can (default: petri 30, neon its tick_hz).", show_default=False
        ),
    ] = None,
    max_ticks: Annotated[int | None, typer.Option(help="Stop after this many ticks of each world.")] = None,
    optimizer: Annotated[
        str, typer.Option("--optimizer", help="on: petri swaps system variants as it runs; off: never.")
    ] = "on",
    trusted_address: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-address",
            help="neon: an address exempt from the per-address connection limits (a load balancer,"
            " a load test; repeatable). Byte budgets, login deadlines and lockouts still apply.",
        ),
    ] = None,
    witness: Annotated[
        Path | None,
        typer.Option(
            help="A file outside --data that witnesses each world's ledger head "
            "(default: $OUROBOROS_WITNESS).",
            show_default=False,
        ),
    ] = None,
    trust_root: Annotated[
        str | None,
        typer.Option(
            help="The worlds' trust roots, comma-separated (default: $OUROBOROS_TRUST_ROOT).",
            show_default=False,
        ),
    ] = None,
    llm: Annotated[
        str,
        typer.Option(
            "--llm",
            help="offline: grammars only; local: serve the small local model alongside (llm serve) "
            "for the flavour, dialogue and narrative roles no `models set` has assigned.",
        ),
    ] = "offline",
    llm_port: Annotated[int, typer.Option(help="--llm local: the model server's port (0: a free one).")] = 0,
) -> None:
    """Run every world live with the admin API and dashboard until Ctrl-C; save on exit."""
    from ouroboros.server.gateway.session import SessionLimits
    from ouroboros.server.runtime import Runtime, RuntimeOptions

    console = Console()
    with _command_boundary():
        if world_name not in WORLD_CHOICES:
            raise BadInputError(f"--world must be one of {', '.join(WORLD_CHOICES)}, got {world_name!r}")
        for value, flag in ((port, "--port"), (telnet_port, "--telnet-port"), (ws_port, "--ws-port")):
            _check_port(value, flag)
        if ticks_per_second is not None and not (math.isfinite(ticks_per_second) and ticks_per_second >= 0):
            raise BadInputError(f"--ticks-per-second must be 0 or more, got {ticks_per_second}")
        if max_ticks is not None and not 0 <= max_ticks <= MAX_RUN_TICKS:
            raise BadInputError(f"--max-ticks must be between 0 and {MAX_RUN_TICKS:,}, got {max_ticks}")
        if entities is not None and not 1 <= entities <= 1_000_000:
            raise BadInputError(f"--entities must be between 1 and 1,000,000, got {entities}")
        if optimizer not in ("on", "off"):
            raise BadInputError(f"--optimizer must be on or off, got {optimizer!r}")
        for address in trusted_address or ():
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise BadInputError(f"--trusted-address must be an IP address, got {address!r}") from None
        if llm not in LLM_CHOICES:
            raise BadInputError(f"--llm must be one of {', '.join(LLM_CHOICES)}, got {llm!r}")
        _check_port(llm_port, "--llm-port")
        if data.exists() and not data.is_dir():
            raise BadInputError(f"--data {data} is not a folder")
        local = _start_local_model(console, llm_port) if llm == "local" else None
        try:
            api_socket = _bind(host, port, "--port")
        except BaseException:
            if local is not None:
                local.stop()
            raise
        worlds = ("neon", "petri") if world_name == "all" else (world_name,)
        options = RuntimeOptions(
            session_limits=SessionLimits(trusted_addresses=tuple(trusted_address))
            if trusted_address
            else None,
            ticks_per_second=ticks_per_second,
            max_ticks=max_ticks,
            fresh=fresh,
            seed=seed,
            petri_config=None if entities is None else {"entities": entities},
            host=host,
            telnet_port=telnet_port,
            ws_port=ws_port,
            optimizer=optimizer == "on",
            witness=witness,
            trust_root=trust_root,
            model_defaults=None if local is None else local_model_roles(local.model_name, local.base_url),
            enrich_timeout_s=LOCAL_ENRICH_TIMEOUT_S if local is not None else 10.0,
        )
        try:
            runtime = Runtime(data, worlds, options)
        except BaseException:  # a folder that fails its anchors is refused (exit 1) by the boundary
            api_socket.close()
            if local is not None:
                local.stop()
            raise
        try:
            _announce_worlds(console, runtime)
            server, first = _make_server(runtime, api_socket, tuple(cors_origin or ()))
            runtime.start()
        except BaseException:
            runtime.stop()
            api_socket.close()
            _release_ledger_log()
            if local is not None:
                local.stop()
            raise
    try:
        _serve(console, runtime, server, api_socket, first, host, no_browser)
    finally:
        if local is not None:
            local.stop()


def local_model_roles(model: str, base_url: str) -> dict[str, Any]:
    """The roles ``--llm local`` serves with the local model (Ollama protocol), as registry defaults."""
    from ouroboros.ai.llm import RoleAssignment

    return {role: RoleAssignment(role, "ollama", model, base_url) for role in LOCAL_MODEL_ROLES}


def _start_local_model(console: Console, port: int) -> Any:
    """The local model server, started (the model fetched once); a failure is one line, exit 1."""
    from ouroboros.ai.llm.local import LocalServer, ensure_model
    from ouroboros.errors import LocalModelError

    try:
        server = LocalServer(ensure_model(), port=port, threads=1).start()
    except LocalModelError as exc:
        raise LocalModelError(f"--llm local: {exc.message}", code=exc.code) from exc
    _note(console, f"local model {server.model_name} at {server.base_url} ({', '.join(LOCAL_MODEL_ROLES)})")
    return server


def _announce_worlds(console: Console, runtime: Any) -> None:
    from ouroboros.patches import anchor_notes

    for name, r in runtime.runners.items():
        if name == "neon":
            what = "resuming the city" if r.resumed else "new neon city"
            _note(console, f"{what} at tick {r.world.tick}, seed {r.world.seed}")
        elif r.resumed:
            snapshot = r.folder / f"{name}.snapshot"
            _note(console, f"resuming from {snapshot} at tick {r.world.tick} (--fresh starts over)")
        else:
            _note(console, f"new {name} world, seed {r.world.seed}")
    if runtime.runners:
        anchors = next(iter(runtime.runners.values())).anchors
        for note in anchor_notes(anchors, {name: r.trust_root for name, r in runtime.runners.items()}):
            _note(console, note)


def _make_server(runtime: Any, api_socket: socket.socket, cors: tuple[str, ...]) -> tuple[Any, Any]:
    import uvicorn

    from ouroboros.server.api import ApiSettings, AuthStore, create_app
    from ouroboros.server.api.http_deadline import header_deadline_protocol

    auth = AuthStore(runtime.data_dir)
    first = auth.ensure_first_admin()
    web_dist = Path(__file__).resolve().parents[3] / "web" / "dist"
    settings = ApiSettings(cors_origins=cors, web_dist=web_dist if web_dist.is_dir() else None)
    api = create_app(runtime, settings=settings, auth=auth)
    _configure_logs()
    # no per-message deflate: compressing 30 frames a second for every browser costs more CPU than
    # the ticks have (bench_stream: 0.5 frames/s per client with it); 64 KiB caps a client message
    config = uvicorn.Config(
        api,
        http=header_deadline_protocol(),  # slowloris: incomplete request headers are cut off
        log_config=None,
        access_log=False,
        lifespan="off",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        ws_max_size=1 << 16,
    )
    return _Server(config), first


def _server_class() -> type:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn, except that Ctrl-C and SIGTERM only ask it to stop (a second one forces it):
        uvicorn's own handlers re-raise the signal after shutdown, which would kill the process
        before the worlds are saved."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return

            def ask_to_stop(signum: int, frame: FrameType | None) -> None:
                if self.should_exit:
                    self.force_exit = True
                self.should_exit = True

            previous = {sig: signal.signal(sig, ask_to_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server


def _Server(config: Any) -> Any:
    return _server_class()(config)


def _serve(
    console: Console,
    runtime: Any,
    server: Any,
    api_socket: socket.socket,
    first: Any,
    host: str,
    no_browser: bool,
) -> None:
    bound = api_socket.getsockname()
    url = f"http://{'[' + host + ']' if ':' in host else host}:{bound[1]}/"
    lines = [f"dashboard and API at {url} (OpenAPI, with a token: {url}openapi.json)"]
    neon = runtime.runners.get("neon")
    if neon is not None:
        lines.append(f"neon city: telnet {host} {neon.ports['telnet']} · ws://{host}:{neon.ports['ws']}/")
    if first is not None:
        lines += [
            f"first admin login (shown once): user {first.username}, one-time secret {first.one_time_secret}",
            f"admin TOTP (add it to an authenticator app now): {first.totp_uri}",
        ]
    lines.append(f"data in {runtime.data_dir} · Ctrl-C saves and quits")
    for line in lines:
        _note(console, line)
    sys.stdout.flush()
    if not no_browser and _has_display():
        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()

    def stop_when_done() -> None:
        while not server.should_exit:
            if runtime.finished():
                server.should_exit = True
                return
            threading.Event().wait(0.1)

    threading.Thread(target=stop_when_done, name="go-watch", daemon=True).start()
    started = {name: (r.world.tick, time.monotonic()) for name, r in runtime.runners.items()}
    try:
        server.run(sockets=[api_socket])
    except KeyboardInterrupt:
        pass
    finally:
        runtime.stop()
        api_socket.close()
        _release_ledger_log()
    for name, r in runtime.runners.items():
        _note(console, _tick_summary(name, r, *started[name]))
        if name == "neon":
            _note(console, f"saved the city at tick {r.world.tick} to {r.folder / 'neon.db'}")
        else:
            _note(console, f"saved snapshot at tick {r.world.tick} to {r.folder / (name + '.snapshot')}")
    errors = [f"{name}: {r.error}" for name, r in runtime.runners.items() if r.error]
    if errors:
        typer.echo(f"error: {'; '.join(errors)}", err=True)
        raise typer.Exit(1)


def _tick_summary(name: str, runner: Any, first_tick: int, since: float) -> str:
    """One line a benchmark or an operator reads at exit: ticks run, their rate, recent tick times."""
    ticks = runner.world.tick - first_tick
    elapsed = max(time.monotonic() - since, 1e-9)
    times = sorted(runner.tick_ms)
    pick = lambda q: times[min(len(times) - 1, int(len(times) * q))] if times else 0.0  # noqa: E731
    return (
        f"{name}: ran {ticks} ticks in {elapsed:.1f} s ({ticks / elapsed:.1f} ticks/s); "
        f"tick p50 {pick(0.50):.2f} ms, p99 {pick(0.99):.2f} ms"
    )


__all__ = ["go"]
