"""``ouroboros control --redis URL --data DIR [--port P]``: a cluster's control process.

It governs the worlds its shards tick (every world people play, or ``--world``) without ticking
any: the admin API and dashboard as ``go`` serves them, each world's governed folder
``DATA/<world>/`` on its control thread, the council, and the rollout driver over the KPIs the
shards report through Redis (``cluster.control.ControlPlane``). The shards are told which version
to run through Redis; while Redis does not answer, activations are denied (exit 2 / HTTP 409).
World-state endpoints answer from what the shards report (tick, version, players per shard) or
409 ``served_by_shards`` where only a world ticking here could answer. The council's director jobs
go to the workers as ``gen`` jobs (``--no-gen-jobs``: generated here, as ``go`` does), low-priority
ones deferred while more than ``--lag-limit`` jobs are queued; their proposals are made here, each
once (``DATA/<world>/effects.sqlite3``). A world without players that evolves is governed
too: its evolution loop runs here on the snapshot its shard publishes, its candidates evaluated by
the ``evolve`` workers (``--no-gen-jobs``: here), its accepted trait submitted once
(``cluster.evolution``). The council's model calls (enrich, the storyteller) are
``llm`` jobs with ``--llm-jobs MODEL`` (``cluster up --llm-url`` passes it), else made in this
process through the active model registry, as in ``go``.

It prints ``control: {"api": PORT, "worlds": [...]}`` on stderr once it serves, and, until the
first admin has logged in, the one-time login secret and TOTP URI (also in
``DATA/admin-login.txt``). Exit codes: 0 stopped (Ctrl-C / SIGTERM); 2 bad input (a bad URL, a
world without players that does not evolve, a port in use).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Annotated

import typer

from ouroboros.cli.boundary import command_boundary
from ouroboros.cli.cluster import RedisOption, _check_url
from ouroboros.cli.core import app
from ouroboros.errors import BadInputError


@app.command("control")
def control(
    redis_url: RedisOption,
    data: Annotated[Path, typer.Option("--data", help="The cluster's data folder.")] = Path("ouroboros-data"),
    world_name: Annotated[
        str, typer.Option("--world", help="Worlds to govern, comma-separated (default: every played one).")
    ] = "",
    host: Annotated[str, typer.Option("--host", help="The address the API listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="The API's port (0: any).")] = 8000,
    offload: Annotated[
        bool,
        typer.Option(
            "--gen-jobs/--no-gen-jobs",
            help="The council's director jobs go to workers as gen jobs (none serving: --no-gen-jobs).",
        ),
    ] = True,
    lag_limit: Annotated[
        int, typer.Option("--lag-limit", min=0, help="Low-priority gen jobs wait while this many are queued.")
    ] = 20,
    llm_jobs: Annotated[
        str,
        typer.Option(
            "--llm-jobs",
            help="The model the llm workers serve: the council's model calls go to them as llm jobs "
            "(flavour, dialogue and narrative default to it). Default: calls made here.",
        ),
    ] = "",
) -> None:
    """Govern a cluster's worlds (API, dashboard, governance, council, rollouts); shards tick them."""
    from ouroboros.cli.go import _bind, _make_server
    from ouroboros.cli.go_parts import ACCESS_LOG_FILE, release_ledger_log
    from ouroboros.cluster.control import ControlPlane
    from ouroboros.server.runtime import Runtime, RuntimeOptions
    from ouroboros.worlds import live_worlds, world_names, world_spec

    with command_boundary():
        _check_url(redis_url)
        names = [n for n in world_name.split(",") if n] or [
            n for n in live_worlds() if world_spec(n).game is not None
        ]
        for name in names:
            if name not in world_names():
                raise BadInputError(f"--world: no world {name!r} (try: {', '.join(world_names())})")
            if world_spec(name).game is None and world_spec(name).evolution is None:
                raise BadInputError(
                    f"--world {name}: it has no players and does not evolve: nothing to govern here"
                )
        if data.exists() and not data.is_dir():
            raise BadInputError(f"--data {data} is not a folder")
        api_socket = _bind(host, port, "--port")
        # nothing ticks here: no optimizer, no input log; the council reads what the shards report
        defaults = None
        if llm_jobs:
            from ouroboros.ai.llm import RoleAssignment
            from ouroboros.cli.go_parts import LOCAL_MODEL_ROLES

            defaults = {role: RoleAssignment(role, "jobs", llm_jobs, None) for role in LOCAL_MODEL_ROLES}
        options = RuntimeOptions(optimizer=False, input_log=False, host=host, model_defaults=defaults)
        try:
            runtime = Runtime(data, names, options)
        except BaseException:
            api_socket.close()
            raise
        try:
            runtime._attach_ai()
            plane = ControlPlane(
                redis_url, runtime, offload=offload, lag_limit=lag_limit, llm_jobs=bool(llm_jobs)
            )
            server, first = _make_server(runtime, api_socket, (), log_path=data / ACCESS_LOG_FILE)
        except BaseException:
            runtime.stop()
            api_socket.close()
            raise
    stop = threading.Event()
    loop = threading.Thread(target=plane.run, args=(stop,), name="control-plane", daemon=True)
    loop.start()
    bound = api_socket.getsockname()[1]
    shown = {
        "api": bound, "worlds": names, "redis": redis_url,
        "gen_jobs": sorted(plane.effects), "llm_jobs": sorted(plane.llm_queues),
    }  # fmt: skip
    typer.echo(f"control: {json.dumps(shown)}", err=True)
    if first is not None:
        typer.echo(f"first admin login (shown once): user {first.username}, "
                   f"one-time secret {first.one_time_secret}", err=True)  # fmt: skip
        typer.echo(f"admin TOTP (add it to an authenticator app now): {first.totp_uri}", err=True)
    try:
        server.run(sockets=[api_socket])
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        loop.join(10)
        plane.close()
        runtime.stop()
        api_socket.close()
        release_ledger_log()
    typer.echo("control: stopped", err=True)


__all__ = ["control"]
