"""``ouroboros worker KIND… --redis URL``, ``ouroboros cluster up`` and ``cluster status``.

A worker serves job kinds (``gen``, ``llm``, ``evolve``: ``ai.jobs``) from the Redis Streams queue
(``ouroboros.cluster``), renews each job's lease while it runs and runs a janitor that hands on the
jobs of workers that died; an ``llm`` worker's model is ``--llm-url``/``--llm-model`` (without one
its ``llm`` jobs get a "no model" result). ``cluster up`` starts a supervised local cluster against
a Redis it is given (or starts, when ``redis-server`` is installed): ``--workers`` workers serving
``gen`` and ``evolve``, ``--llm-workers`` serving ``llm`` when a model is given, and, with
``--shards``, one ``ouroboros control`` (API on ``--api-port``) whose councils send their
director's jobs to those workers as ``gen`` jobs (``--workers 0``: generated in the control
process) and, with ``--llm-url``, their model calls as ``llm`` jobs. It restarts a
process that dies (with backoff; each death and a restart loop are alerts on the Redis alerts
stream, shown on the dashboard), writes ``DATA/cluster.json`` so a dashboard on the same data
folder finds it, and stops everything on Ctrl-C. Exit codes: 0 stopped cleanly (Ctrl-C / SIGTERM); 2 bad
input (unknown kind, bad URL); 1 Redis unreachable.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from ouroboros.cli.boundary import command_boundary
from ouroboros.cli.core import app
from ouroboros.cluster import keys
from ouroboros.errors import BadInputError, ClusterError

cluster_app = typer.Typer(help="A local cluster on Redis: up, status.")
app.add_typer(cluster_app, name="cluster", no_args_is_help=True)

#: where the gateways of every world kept their accounts before each world's gateways shared its own file
OLD_ACCOUNTS = Path("gateways") / "accounts.db"

RedisOption = Annotated[str, typer.Option("--redis", help="Redis URL: redis://host:port/0 or unix:///path.")]


def _shard_name(spec: str, played: bool = True) -> tuple[str, str]:
    """``WORLD[:N]`` → (world, shard name ``WORLD-N``); bad input names what is wrong. ``played``:
    only a world with players (a gateway's); a shard may tick any world (``cluster.dish``)."""
    from ouroboros.worlds import world_spec

    world, _, number = spec.partition(":")
    if number and (not number.isdigit() or int(number) > 63):
        raise BadInputError(f"shard {spec!r}: N must be a number from 0 to 63")
    if played and world_spec(world).game is None:
        raise BadInputError(f"world {world!r} has no players: a gateway fronts only a world with a live game")
    return world, f"{world}-{int(number or 0)}"


def _check_url(url: str) -> str:
    from urllib.parse import urlsplit

    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise BadInputError(f"--redis {url!r}: write redis://HOST:PORT/DB, rediss://... or unix:///PATH")
    return url


def _queue(url: str, kinds: tuple[str, ...], **options: Any) -> Any:
    """A queue on the Redis at ``url`` that answers (ClusterError, exit 1, when it does not)."""
    from ouroboros.cluster.redis_queue import RedisJobQueue

    queue = RedisJobQueue(_check_url(url), kinds, **options)
    if not queue.ping():
        queue.close()
        raise ClusterError(f"redis at {url} is unreachable: it does not answer")
    return queue


def _on_signals(stop: threading.Event) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())


@app.command("worker")
def worker(
    kinds: Annotated[list[str], typer.Argument(help="Job kinds to serve: gen, llm, evolve.")],
    redis_url: RedisOption,
    name: Annotated[str, typer.Option("--name", help="Consumer name (default host-pid).")] = "",
    lease_s: Annotated[
        float, typer.Option("--lease-s", min=0.05, help="Lease length: renewed every third of it.")
    ] = 10.0,
    janitor_idle_s: Annotated[
        float, typer.Option("--janitor-idle-s", min=0.1, help="Hand on jobs whose lease is this old.")
    ] = 30.0,
    janitor_every_s: Annotated[float, typer.Option("--janitor-every-s", min=0.05)] = 5.0,
    max_deliveries: Annotated[int, typer.Option("--max-deliveries", min=1, max=100)] = 3,
    llm_url: Annotated[
        str, typer.Option("--llm-url", help="llm jobs: the model server (http://HOST:PORT); none: they fail.")
    ] = "",
    llm_model: Annotated[str, typer.Option("--llm-model", help="llm jobs: the model's name.")] = "",
    llm_provider: Annotated[
        str, typer.Option("--llm-provider", help="llm jobs: ollama or openai (OpenAI-compatible).")
    ] = "openai",
) -> None:
    """Serve jobs until stopped."""
    from ouroboros.ai.jobs import HANDLERS, handlers, model_provider
    from ouroboros.cluster import Janitor, Worker

    with command_boundary():
        unknown = sorted(set(kinds) - set(HANDLERS))
        if unknown:
            raise BadInputError(
                f"unknown job kind(s) {', '.join(unknown)} (kinds: {', '.join(sorted(HANDLERS))})"
            )
        if janitor_idle_s <= lease_s:
            raise BadInputError(
                "--janitor-idle-s must exceed --lease-s (a live worker's job would be handed on)"
            )
        model = model_provider(llm_provider, llm_url, llm_model) if llm_url else None
        queue = _queue(redis_url, tuple(kinds), max_deliveries=max_deliveries)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    consumer = name or f"{socket.gethostname()}-{os.getpid()}"
    janitor = Janitor(queue, janitor_idle_s, janitor_every_s)
    threading.Thread(target=janitor.run, args=(stop,), name="janitor", daemon=True).start()
    served = ", ".join(sorted(kinds)) + (f" (model {llm_model} at {llm_url})" if model is not None else "")
    typer.echo(f"worker {consumer}: serving {served} from {redis_url}", err=True)
    Worker(queue, handlers(kinds, model), consumer, lease_s=lease_s).run(stop, wait_s=0.5)
    queue.close()
    if model is not None and callable(getattr(model, "close", None)):
        model.close()


@cluster_app.command("status")
def status(
    redis_url: RedisOption,
    kinds: Annotated[str, typer.Option("--kinds", help="Comma-separated job kinds.")] = "gen,llm,evolve",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Each process (role, pid, health, restarts), the job queues (lag per kind), dead letters."""
    from ouroboros.cluster.status import status_doc

    with command_boundary():
        wanted = tuple(k for k in kinds.split(",") if k)
        from ouroboros.cluster.jobs import KIND_PATTERN

        bad = [k for k in wanted if not KIND_PATTERN.match(k)]
        if bad or not wanted:
            raise BadInputError(f"--kinds {kinds!r}: comma-separated lowercase job kinds")
        doc = status_doc(_check_url(redis_url), wanted)
    if as_json:
        typer.echo(json.dumps(doc, indent=2, sort_keys=True))
        return
    for p in doc["processes"]:
        pid = p["pid"] or "-"
        typer.echo(
            f"{p['name']:<12} {p['role']:<8} pid {pid:<8} {p.get('health', p['state']):<10} "
            f"restarts {p['restarts']}"
            + (f" (last: {p['last_restart_reason']})" if p.get("last_restart_reason") else "")
        )
    q = doc["queues"]
    typer.echo(f"jobs: {q['waiting']} waiting, {q['running']} running, {q['results']} done, {q['dead']} dead")
    for kind, k in q["kinds"].items():
        typer.echo(f"  {kind:<8} lag {k['lag']} ({k['waiting']} waiting, {k['running']} running)")
    for d in doc["dead_letters"]:
        typer.echo(f"  dead {d['key']} ({d['kind']}, {d['attempts']} attempts): {d['error']}")


@cluster_app.command("up")
def up(
    redis_url: Annotated[
        str, typer.Option("--redis", help="Redis URL; default: start a private redis-server in DATA/redis.")
    ] = "",
    workers: Annotated[
        int,
        typer.Option("--workers", min=0, max=64, help="Workers serving gen and evolve jobs."),
    ] = 2,
    llm_workers: Annotated[
        int, typer.Option("--llm-workers", min=0, max=64, help="Workers serving llm jobs (needs --llm-url).")
    ] = 1,
    llm_url: Annotated[str, typer.Option("--llm-url", help="The llm workers' model server.")] = "",
    llm_model: Annotated[str, typer.Option("--llm-model", help="The llm workers' model.")] = "",
    llm_provider: Annotated[str, typer.Option("--llm-provider", help="ollama or openai.")] = "openai",
    shards: Annotated[
        str, typer.Option("--shards", help="Shards per world, WORLD=N,... (one gateway per world).")
    ] = "",
    telnet_port: Annotated[
        int, typer.Option("--telnet-port", min=0, max=65535, help="The first world's gateway's (WS: +1).")
    ] = 4000,
    soft_restart_s: Annotated[
        float,
        typer.Option("--soft-restart-every-s", min=0.0, help="Restart each shard this often (0: never)."),
    ] = 0.0,
    data: Annotated[Path, typer.Option("--data", help="The cluster's data folder.")] = Path("ouroboros-data"),
    api_port: Annotated[
        int, typer.Option("--api-port", min=0, max=65535, help="The control process's API (with shards).")
    ] = 8000,
) -> None:
    """Start a supervised local cluster; Ctrl-C stops it all."""
    import sys

    from ouroboros.cluster.redis_server import RedisServer
    from ouroboros.cluster.status import KINDS, record_event, remove_marker, write_marker
    from ouroboros.cluster.supervisor import ProcessSpec, Supervisor

    shard_specs: list[tuple[str, str]] = []
    server = None
    with command_boundary():
        for part in (p for p in shards.split(",") if p):
            world, eq, count = part.partition("=")
            if not eq or not count.isdigit() or not 1 <= int(count) <= 16:
                raise BadInputError(f"--shards {part!r}: write WORLD=N with N from 1 to 16")
            if any(w == world for w, _ in shard_specs):
                raise BadInputError(f"--shards: world {world!r} is named twice")
            shard_specs += [_shard_name(f"{world}:{i}", played=False) for i in range(int(count))]
        if not redis_url:
            folder = data / "redis"
            folder.mkdir(parents=True, exist_ok=True)
            server = RedisServer(folder.resolve(), appendonly=True).start()  # ClusterError: no redis-server
            redis_url = server.url
        if llm_url:
            from ouroboros.ai.jobs import model_provider

            model_provider(llm_provider, llm_url, llm_model)  # bad options: refused here, not in a loop
        queue = _queue(redis_url, KINDS)
    python = [sys.executable, "-m", "ouroboros"]
    specs = [
        ProcessSpec(f"worker-{i + 1}", "worker", [*python, "worker", "gen", "evolve", "--redis", redis_url,
                                                 "--name", f"worker-{i + 1}"])
        for i in range(workers)
    ]  # fmt: skip
    if llm_url:  # without a model an llm worker could only answer "no model": none is started
        model_args = ["--llm-url", llm_url, "--llm-model", llm_model, "--llm-provider", llm_provider]
        specs += [
            ProcessSpec(f"llm-{i + 1}", "worker", [*python, "worker", "llm", "--redis", redis_url,
                                                  "--name", f"llm-{i + 1}", *model_args])
            for i in range(llm_workers)
        ]  # fmt: skip
    for _, shard_id in shard_specs:
        world_arg = shard_id.rsplit("-", 1)[0] + ":" + shard_id.rsplit("-", 1)[1]
        specs.append(
            ProcessSpec(
                shard_id, "shard", [*python, "shard", world_arg, "--redis", redis_url, "--data", str(data)]
            )
        )
    from ouroboros.worlds import world_spec

    counts: dict[str, int] = {}
    for world, _ in shard_specs:
        if world_spec(world).game is not None:  # a world without players has no gateway
            counts[world] = counts.get(world, 0) + 1
    for i, (world, n_shards) in enumerate(counts.items()):  # one gateway per world, routing by the rollout
        port = 0 if telnet_port == 0 else telnet_port + 2 * i
        ws = 0 if port == 0 else port + 1
        specs.append(ProcessSpec(f"gateway-{world}", "gateway", [
            *python, "gateway", "--redis", redis_url, "--world", world, "--shards", str(n_shards),
            "--data", str(data), "--telnet-port", str(port), "--ws-port", str(ws), "--name", f"gw-{world}",
        ]))  # fmt: skip
    if shard_specs:  # one control process governs the sharded worlds
        governed = ",".join(dict.fromkeys(world for world, _ in shard_specs))
        specs.append(ProcessSpec("control", "control", [
            *python, "control", "--redis", redis_url, "--data", str(data), "--world", governed,
            "--port", str(api_port), "--gen-jobs" if workers else "--no-gen-jobs",
            *(["--llm-jobs", llm_model] if llm_url and llm_workers else []),
        ]))  # fmt: skip
    soft = {shard_id: soft_restart_s for _, shard_id in shard_specs} if soft_restart_s > 0 else {}

    def record(event: dict[str, Any]) -> None:
        record_event(queue, event)  # redis away: the supervisor goes on; status catches up later
        if event["event"] in ("died", "restart_loop", "soft_restart"):
            typer.echo(f"cluster: {event['name']} {event['event']} (exit {event.get('last_exit')})", err=True)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    queue._call(queue.r.delete, keys.procs())
    typer.echo(f"cluster: {len(specs)} processes on {redis_url}; Ctrl-C stops them", err=True)
    write_marker(data, redis_url)  # a dashboard on this data folder finds the cluster here
    try:
        Supervisor(specs, on_event=record).run(stop.is_set, soft_restart=soft)
    finally:
        remove_marker(data)
        queue.close()
        if server is not None:
            server.stop()
    typer.echo("cluster: stopped", err=True)


@app.command("shard")
def shard(
    world: Annotated[str, typer.Argument(help="WORLD[:N]: the world, and which of its shards (default 0).")],
    redis_url: RedisOption,
    data: Annotated[Path, typer.Option("--data", help="The cluster's data folder.")] = Path("ouroboros-data"),
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, help="Default: the governed folder's (DATA/WORLD), else 0.")
    ] = None,
    tick_hz: Annotated[float, typer.Option("--tick-hz", min=0.0, help="0: the world's own pace.")] = 0.0,
) -> None:
    """Run one shard of a world: its live game, its players' operations from Redis, the version
    the control process gives it (content from the ledger in DATA/WORLD)."""
    from ouroboros.characters import RedisCharacters
    from ouroboros.cluster.follow import ShardLink
    from ouroboros.cluster.shard import ShardHost, open_live_game, seats_for

    with command_boundary():
        world_name, name = _shard_name(world, played=False)
        _check_url(redis_url)
    folder = data / "shards" / name
    from ouroboros.worlds import world_spec

    if world_spec(world_name).game is None:
        _dish_shard(world_name, name, redis_url, data, seed, tick_hz)
        return
    turn = _claim_turn(redis_url, name)
    if turn is None:
        return
    stop, boot = turn
    with command_boundary():  # what the shard before saved
        game = open_live_game(world_name, folder, _seed_of(data / world_name, seed), tick_hz or None)
        # the shard's name is the holder: a restarted shard takes its characters back at once,
        # and the fencing token shuts out the life before it
        characters = RedisCharacters(redis_url, socket_timeout_s=2.0)
        seats = seats_for(world_name, game, characters, holder=name)
    if characters.persistent() is False:
        typer.echo(f"shard {name}: warning: redis at {redis_url} persists nothing (no appendonly, no save): "
                   "characters are lost if it restarts", err=True)  # fmt: skip
    host = ShardHost(game, redis_url, name, boot_id=boot, seats=seats)
    link = ShardLink(redis_url, world_name, name, data / world_name)
    _serve(name, game, host, link, stop, link.on_tick(game),
           f"shard {name}: boot {host.boot_id}, {game.tick_hz:g} ticks/s, folder {folder}")  # fmt: skip


def _claim_turn(redis_url: str, name: str) -> tuple[threading.Event, str] | None:
    """Stop on SIGTERM/SIGINT, and wait for this shard's turn: one process serves a shard, so it
    waits for the lease of the one before (a soft restart starts this one early; a crashed one's
    lease runs out). The stop event and this life's boot id; None when stopped before its turn."""
    import uuid

    from ouroboros.cluster.shard import claim_shard

    stop = threading.Event()
    _on_signals(stop)
    boot = uuid.uuid4().hex[:12]
    if not claim_shard(redis_url, name, boot, stop):
        typer.echo(f"shard {name}: stopped before it was its turn", err=True)
        return None
    return stop, boot


def _serve(
    name: str, game: Any, host: Any, link: Any, stop: threading.Event, on_tick: Any, banner: str
) -> None:
    """Tick ``game`` until ``stop`` with ``link`` talking to Redis on its own thread."""
    from ouroboros.cluster.shard import run_shard

    threading.Thread(target=link.run, args=(stop,), name=f"{name}-link", daemon=True).start()
    typer.echo(banner, err=True)
    try:
        ran = run_shard(game, host, stop, game.tick_hz, on_tick=on_tick)
    finally:
        link.close()
    typer.echo(f"shard {name}: stopped after {ran} ticks, saved", err=True)


def _dish_shard(world: str, name: str, redis_url: str, data: Path, seed: int | None, tick_hz: float) -> None:
    """A shard of a world without players (``cluster.dish``): the dish ticks at its pace, follows
    the version the control publishes, reports its ticks and, when the world evolves, hands the
    control a snapshot of the dish every ``SNAPSHOT_EVERY_S``."""
    from ouroboros.cluster.dish import SNAPSHOT_EVERY_S, open_dish
    from ouroboros.cluster.follow import ShardLink
    from ouroboros.cluster.shard import ShardHost
    from ouroboros.worlds import world_spec

    folder = data / "shards" / name
    turn = _claim_turn(redis_url, name)
    if turn is None:
        return
    stop, boot = turn
    with command_boundary():
        governed = data / world
        dish = open_dish(world, folder, _seed_of(governed, seed), _config_of(governed), tick_hz or None)
    host = ShardHost(dish, redis_url, name, boot_id=boot)
    link = ShardLink(redis_url, world, name, governed)
    every = SNAPSHOT_EVERY_S if world_spec(world).evolution is not None else None
    _serve(name, dish, host, link, stop, link.on_dish_tick(dish, every),
           f"shard {name}: boot {host.boot_id}, {dish.tick_hz:g} ticks/s, folder {folder}, no players"
           + (f", a snapshot every {every:g} s" if every else ""))  # fmt: skip


def _config_of(governed: Path) -> dict[str, Any]:
    """The world config the governed folder's versions were checked against (``{}``: none)."""
    from ouroboros.patches import WORLD_FILE

    try:
        doc = json.loads((governed / WORLD_FILE).read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise BadInputError(f"{governed / WORLD_FILE} cannot be read: {exc}") from exc
    config = doc.get("config") if isinstance(doc, dict) else None
    if config is not None and not isinstance(config, dict):
        raise BadInputError(f"{governed / WORLD_FILE}: the config must be an object")
    return dict(config or {})


def _seed_of(governed: Path, seed: int | None) -> int:
    """The seed a shard builds a new city with: ``--seed``, else the governed folder's (its
    versions were checked against that world), else 0."""
    from ouroboros.patches import WORLD_FILE

    if seed is not None:
        return seed
    try:
        doc = json.loads((governed / WORLD_FILE).read_text())
    except FileNotFoundError:
        return 0
    except (OSError, ValueError) as exc:
        raise BadInputError(f"{governed / WORLD_FILE} cannot be read: {exc}") from exc
    found = doc.get("seed", 0) if isinstance(doc, dict) else None
    if not isinstance(found, int) or isinstance(found, bool) or found < 0:
        raise BadInputError(f"{governed / WORLD_FILE}: the seed must be a number of 0 or more")
    return found


@app.command("gateway")
def gateway(
    redis_url: RedisOption,
    shard_name: Annotated[
        str, typer.Option("--shard", help="One shard its players play in (WORLD[:N]); or --world.")
    ] = "",
    world: Annotated[
        str, typer.Option("--world", help="A world whose --shards it fronts, routing logins by the rollout.")
    ] = "",
    shard_count: Annotated[
        int, typer.Option("--shards", min=1, max=16, help="With --world: its shards WORLD-0..N-1.")
    ] = 1,
    data: Annotated[Path, typer.Option("--data", help="The cluster's data folder.")] = Path("ouroboros-data"),
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    telnet_port: Annotated[int, typer.Option("--telnet-port", min=0, max=65535)] = 4000,
    ws_port: Annotated[int, typer.Option("--ws-port", min=0, max=65535)] = 4001,
    name: Annotated[str, typer.Option("--name", help="This gateway's name (default gw-PID).")] = "",
    trusted_address: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-address", help="An address exempt from per-address limits (a proxy, a test rig)."
        ),
    ] = None,
) -> None:
    """Hold players' telnet and WebSocket connections for shards in other processes: one shard
    (``--shard``), or all of a world's (``--world W --shards N``), each login routed by the rollout
    the control process publishes."""
    import asyncio
    import ipaddress

    from ouroboros.cluster.remote_game import RemoteGame
    from ouroboros.cluster.routed import RoutedGame
    from ouroboros.server.gateway import AccountStore, SessionRegistry, serve_telnet, serve_websocket
    from ouroboros.server.gateway.session import SessionLimits
    from ouroboros.worlds import world_spec

    with command_boundary():
        if bool(shard_name) == bool(world):
            raise BadInputError("name one shard (--shard WORLD[:N]) or one world (--world W --shards N)")
        if shard_name:
            world_name, shard_id = _shard_name(shard_name)
            shard_ids = [shard_id]
        else:
            world_name = world
            shard_ids = [_shard_name(f"{world}:{i}")[1] for i in range(shard_count)]
        _check_url(redis_url)
        for address in trusted_address or ():
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise BadInputError(f"--trusted-address must be an IP address, got {address!r}") from None
    limits = SessionLimits(trusted_addresses=tuple(trusted_address)) if trusted_address else None
    gw = name or f"gw-{os.getpid()}"
    # The gateways of one world share its accounts: the world's accounts file, where `ouroboros
    # go` keeps them too (SQLite in WAL mode across processes; a name's uniqueness is its key).
    # Accounts of the older layout (<data>/gateways/accounts.db, every world's) are copied in once.
    folder = data / world_name
    folder.mkdir(parents=True, exist_ok=True)
    hook = world_spec(world_name).game
    accounts_file = folder / (hook.accounts_file if hook is not None else "accounts.db")

    async def main() -> None:
        title = world_spec(world_name).summary or world_name
        game: RemoteGame | RoutedGame = (
            RemoteGame(redis_url, shard_ids[0], gw, name=title)
            if shard_name
            else RoutedGame(
                redis_url,
                world_name,
                shard_ids,
                gw,
                name=title,
                noun=hook.noun if hook is not None else "world",
                on_route=lambda seen: typer.echo(f"gateway {gw}: route {json.dumps(seen)}", err=True),
            )
        )
        accounts = AccountStore(accounts_file)
        try:
            copied = accounts.copy_missing_from(data / OLD_ACCOUNTS)
        except BaseException:
            accounts.close()
            raise
        if copied is not None:
            kept = f"; {copied.kept} name(s) it had already kept their passwords" if copied.kept else ""
            typer.echo(f"gateway {gw}: {len(copied.copied)} account(s) copied from {copied.source} "
                       f"into {accounts_file}{kept}", err=True)  # fmt: skip
        registry = SessionRegistry(game, accounts, limits=limits)  # type: ignore[arg-type]
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            telnet = await serve_telnet(game, registry, host, telnet_port)  # type: ignore[arg-type]
            ws = await serve_websocket(game, registry, host, ws_port)  # type: ignore[arg-type]
        except OSError as exc:
            accounts.close()
            raise ClusterError(f"cannot listen on {host}: {exc.strerror or exc}") from exc
        ports = {"telnet": telnet.sockets[0].getsockname()[1], "ws": next(iter(ws.sockets)).getsockname()[1]}
        where = {"shard": shard_ids[0]} if shard_name else {"world": world_name, "shards": shard_ids}
        typer.echo(f"gateway {gw}: {json.dumps({**where, **ports})}", err=True)
        pump = asyncio.create_task(game.run_ticks())
        try:
            await stop.wait()
        finally:
            registry.close_all()
            telnet.close()
            ws.close()
            pump.cancel()
            await asyncio.gather(pump, return_exceptions=True)
            accounts.close()

    with command_boundary():
        asyncio.run(main())
