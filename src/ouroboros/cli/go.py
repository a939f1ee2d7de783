"""``ouroboros go``: every world live in one process, with the admin API and the dashboard.

It starts the runtime (``ouroboros.server.runtime``: the live worlds, ``--world``, each ticking at
its own pace in its own thread, each in its governed folder ``DATA/<world>/``), the telnet and
WebSocket gateways of a world people play, and the admin API with the dashboard (uvicorn, in
this process). It prints where to open the dashboard and, until the first admin has logged in, a
fresh one-time login secret and TOTP provisioning URI (the earlier ones void), last, so nothing
scrolls it away, and writes them to ``DATA/admin-login.txt`` (0600). Request lines go to
``DATA/access.log`` (JSON lines; ``--access-log -``: stderr). ``--alert-webhook URL`` POSTs every
alert there as JSON. It opens a browser unless ``--no-browser`` or there is no display.

What it promises:

- Every flag is checked and every port bound before the first tick; bad input (a bad flag, a
  ``--data`` that is a file, a port in use, a saved world that contradicts ``--seed``) is one
  ``error:`` line and exit code 2.
- Ctrl-C or SIGTERM stops the API, stops every world at a tick boundary and saves it
  (``DATA/<world>/<world>.snapshot``, or a played world's own store); the next ``go`` resumes
  from there (``--fresh`` starts over). ``--max-ticks N`` stops after N ticks of each world.
"""

from __future__ import annotations

import contextlib
import ipaddress
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

from ouroboros import tracing
from ouroboros.cli.core import MAX_RUN_TICKS, _command_boundary, _note, app
from ouroboros.cli.go_parts import (
    ACCESS_LOG_FILE,
    LOCAL_ENRICH_TIMEOUT_S,
    LOGIN_FILE,
    configure_logs,
    go_settings,
    local_model_roles,
    parse_shards,
    release_ledger_log,
    runtime_settings,
    start_local_model,
    start_tracing,
    write_login_file,
)
from ouroboros.errors import BadInputError

#: ``--world all``: every live world (``ouroboros.worlds.live_worlds()``)
ALL_WORLDS = "all"
LLM_CHOICES = ("offline", "local")


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


@app.command()
def go(
    ctx: typer.Context,
    world_name: Annotated[
        str,
        typer.Option("--world", help="A world's name, several comma-separated, or all (the live worlds)."),
    ] = ALL_WORLDS,
    data: Annotated[Path, typer.Option(help="The data folder (one governed folder per world).")] = Path(
        "ouroboros-data"
    ),
    host: Annotated[str, typer.Option(help="The address the API and the gateways listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The admin API and dashboard's port.")] = 8000,
    telnet_port: Annotated[int, typer.Option(help="A played world's telnet gateway's port.")] = 4000,
    ws_port: Annotated[int, typer.Option(help="A played world's WebSocket gateway's port.")] = 4001,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open a browser.")] = False,
    cors_origin: Annotated[
        list[str] | None, typer.Option("--cors-origin", help="Allow this browser origin (repeatable).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of new worlds (default 0).")] = None,
    entities: Annotated[
        int | None, typer.Option(help="Entities of a new world that counts them (default: its own).")
    ] = None,
    fresh: Annotated[bool, typer.Option(help="Start new worlds even if saved ones exist.")] = False,
    ticks_per_second: Annotated[
        float | None,
        typer.Option(
            help="Pace; 0 runs as fast as it can (default: 30, a played world its own).", show_default=False
        ),
    ] = None,
    max_ticks: Annotated[int | None, typer.Option(help="Stop after this many ticks of each world.")] = None,
    optimizer: Annotated[
        str,
        typer.Option("--optimizer", help="on: unplayed worlds swap system variants as they run; off: never."),
    ] = "on",
    trusted_address: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-address",
            help="An address exempt from the gateways' per-address connection limits (a load balancer,"
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
    otlp_endpoint: Annotated[
        str | None,
        typer.Option(help="Export traces over OTLP/HTTP here (default: kept in memory).", show_default=False),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            help="Settings from this TOML file (default: $OUROBOROS_CONFIG, else ./ouroboros.toml); "
            "flags over OUROBOROS_* over the file (`ouroboros config show`).",
            show_default=False,
        ),
    ] = None,
    access_log: Annotated[
        str | None,
        typer.Option(
            help="Where request lines go (JSON lines; default DATA/access.log; '-': stderr).",
            show_default=False,
        ),
    ] = None,
    alert_webhook: Annotated[
        str | None,
        typer.Option(
            help="POST every alert (rollback, kill-switch, fault storm...) here as JSON, retried.",
            show_default=False,
        ),
    ] = None,
    shards: Annotated[
        str | None,
        typer.Option(
            help="Run a world as N shards (threads of this process, 1-16), each on the version a "
            "staged rollout gives it: WORLD=N[,WORLD=N], e.g. neon=2 (default: one each).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run every world live with the admin API and dashboard until Ctrl-C; save on exit."""
    from ouroboros.server.gateway.session import SessionLimits
    from ouroboros.server.runtime import Runtime, RuntimeOptions
    from ouroboros.worlds import live_worlds, world_names, world_spec

    console = Console()
    with _command_boundary():

        def worlds_of(world_name: str) -> tuple[str, ...]:
            choices = [ALL_WORLDS, *world_names()]
            asked = world_name.split(",")
            if world_name != ALL_WORLDS and not all(name in world_names() for name in asked):
                listed = ", ".join(choices)
                raise BadInputError(
                    f"--world must be one of {listed} (or a comma-separated list), got {world_name!r}"
                )
            return tuple(live_worlds()) if world_name == ALL_WORLDS else tuple(dict.fromkeys(asked))

        worlds = worlds_of(world_name)
        counted = [name for name in worlds if "entities" in world_spec(name).live_config]
        for value, flag in ((port, "--port"), (telnet_port, "--telnet-port"), (ws_port, "--ws-port")):
            _check_port(value, flag)
        if ticks_per_second is not None and not (math.isfinite(ticks_per_second) and ticks_per_second >= 0):
            raise BadInputError(f"--ticks-per-second must be 0 or more, got {ticks_per_second}")
        if max_ticks is not None and not 0 <= max_ticks <= MAX_RUN_TICKS:
            raise BadInputError(f"--max-ticks must be between 0 and {MAX_RUN_TICKS:,}, got {max_ticks}")
        if entities is not None and not 1 <= entities <= 1_000_000:
            raise BadInputError(f"--entities must be between 1 and 1,000,000, got {entities}")
        if entities is not None and not counted:
            raise BadInputError(f"--entities: {', '.join(worlds)} is not sized by a count of entities")
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
        # the settings in force: the flags given, over OUROBOROS_*, over the TOML file, over defaults
        settings = go_settings(ctx, locals(), config)
        world_name, data, host, port = settings.world, settings.data, settings.host, settings.port
        telnet_port, ws_port, seed, entities = (
            settings.telnet_port,
            settings.ws_port,
            settings.seed,
            settings.entities,
        )
        fresh, ticks_per_second, max_ticks = settings.fresh, settings.ticks_per_second, settings.max_ticks
        optimizer, witness, trust_root, llm = (
            settings.optimizer,
            settings.witness,
            settings.trust_root,
            settings.llm,
        )
        llm_port, no_browser = settings.llm_port, settings.no_browser
        access_log, alert_webhook = settings.access_log, settings.alert_webhook
        trusted_address, cors_origin = list(settings.trusted_addresses), list(settings.cors_origins)
        worlds = worlds_of(world_name)  # the settings may name them (OUROBOROS_WORLD, the TOML file)
        shards_from = (
            "--shards" if shards is not None else "the shards setting (OUROBOROS_SHARDS or the file)"
        )
        shard_counts = parse_shards(settings.shards, worlds, shards_from)
        counted = [name for name in worlds if "entities" in world_spec(name).live_config]
        for address in trusted_address or ():
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise BadInputError(f"--trusted-address must be an IP address, got {address!r}") from None
        if data.exists() and not data.is_dir():
            raise BadInputError(f"--data {data} is not a folder")
        if alert_webhook is not None:
            from ouroboros.server.runtime.alerts import check_webhook_url

            check_webhook_url(alert_webhook)
        log_path = None if access_log == "-" else Path(access_log) if access_log else data / ACCESS_LOG_FILE
        if log_path is not None and log_path.is_dir():
            raise BadInputError(f"--access-log {log_path} is a folder")
        local = start_local_model(console, llm_port) if llm == "local" else None
        try:
            api_socket = _bind(host, port, "--port")
        except BaseException:
            if local is not None:
                local.stop()
            raise
        options = RuntimeOptions(
            session_limits=SessionLimits(trusted_addresses=tuple(trusted_address))
            if trusted_address
            else None,
            ticks_per_second=ticks_per_second,
            max_ticks=max_ticks,
            fresh=fresh,
            seed=seed,
            world_configs=None
            if entities is None
            else {name: {**world_spec(name).live_config, "entities": entities} for name in counted},
            host=host,
            telnet_port=telnet_port,
            ws_port=ws_port,
            optimizer=optimizer == "on",
            witness=witness,
            trust_root=trust_root,
            shards=shard_counts or None,
            model_defaults=None if local is None else local_model_roles(local.model_name, local.base_url),
            enrich_timeout_s=settings.enrich_timeout_s
            or (LOCAL_ENRICH_TIMEOUT_S if local is not None else 10.0),
            **runtime_settings(settings),
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
            server, first = _make_server(
                runtime, api_socket, tuple(cors_origin or ()), log_path=log_path, webhook=alert_webhook
            )
            start_tracing(console, settings)
            runtime.start()
        except BaseException:
            runtime.stop()
            api_socket.close()
            release_ledger_log()
            tracing.shutdown()
            if local is not None:
                local.stop()
            raise
    try:
        _serve(console, runtime, server, api_socket, first, host, no_browser)
    finally:
        tracing.shutdown()  # spans on their way over OTLP are sent first
        if local is not None:
            local.stop()


def _announce_worlds(console: Console, runtime: Any) -> None:
    from ouroboros.patches import anchor_notes

    for name, r in runtime.runners.items():
        if r.spec.game is not None:
            what = f"resuming the {r.spec.game.noun}" if r.resumed else f"new {name} {r.spec.game.noun}"
            _note(console, f"{what} at tick {r.world.tick}, seed {r.world.seed}")
        elif r.resumed:
            snapshot = r.folder / f"{name}.snapshot"
            _note(console, f"resuming from {snapshot} at tick {r.world.tick} (--fresh starts over)")
        else:
            _note(console, f"new {name} world, seed {r.world.seed}")
    if runtime.runners:
        anchors = next(iter(runtime.runners.values())).governance.anchors
        roots = {name: r.governance.trust_root for name, r in runtime.runners.items()}
        for note in anchor_notes(anchors, roots) if anchors is not None else []:
            _note(console, note)


def _make_server(
    runtime: Any,
    api_socket: socket.socket,
    cors: tuple[str, ...],
    *,
    log_path: Path | None = None,
    webhook: str | None = None,
) -> tuple[Any, Any]:
    import uvicorn

    from ouroboros.server.api import ApiSettings, AuthStore, create_app
    from ouroboros.server.api.http_deadline import header_deadline_protocol

    auth = AuthStore(runtime.data_dir)
    first = auth.ensure_first_admin()
    web_dist = Path(__file__).resolve().parents[3] / "web" / "dist"
    settings = ApiSettings(
        cors_origins=cors, web_dist=web_dist if web_dist.is_dir() else None, alert_webhook=webhook
    )
    api = create_app(runtime, settings=settings, auth=auth)
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
    configure_logs(log_path)
    if first is not None:
        write_login_file(runtime.data_dir, first)
    api.state.alerts.record_start(runtime.data_dir, time.time())  # a crash loop is an alert
    api.state.alerts.watch_cluster(runtime.data_dir)  # `cluster up` on this folder: its deaths are alerts
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
    for name, r in runtime.runners.items():
        if r.spec.game is not None and r.ports:
            where = f"telnet {host} {r.ports['telnet']} · ws://{host}:{r.ports['ws']}/"
            lines.append(f"{name} {r.spec.game.noun}: {where}")
    lines.append(f"data in {runtime.data_dir} · Ctrl-C saves and quits")
    if first is not None:  # last, so nothing scrolls it away (request lines go to the access log)
        lines += [
            f"first admin login (shown once): user {first.username}, one-time secret {first.one_time_secret}",
            f"admin TOTP (add it to an authenticator app now): {first.totp_uri}",
            f"(also in {runtime.data_dir / LOGIN_FILE}, readable by you alone; lost it? "
            f"ouroboros admin reset-secret admin --data {runtime.data_dir})",
        ]
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
        release_ledger_log()
    for name, r in runtime.runners.items():
        _note(console, _tick_summary(name, r, *started[name]))
        if r.spec.game is not None:
            saved_to = r.folder / r.spec.game.accounts_file
            _note(console, f"saved the {r.spec.game.noun} at tick {r.world.tick} to {saved_to}")
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
