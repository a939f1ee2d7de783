"""``ouroboros worker KIND… --redis URL``, ``ouroboros cluster up`` and ``cluster status``.

A worker serves job kinds from the Redis Streams queue (``ouroboros.cluster``), renews each job's
lease while it runs and runs a janitor that hands on the jobs of workers that died.
``cluster up`` starts a supervised local cluster against a Redis it is given (or starts, when
``redis-server`` is installed), restarts a process that dies (with backoff; a restart loop is an
alert) and stops everything on Ctrl-C. Exit codes: 0 stopped cleanly (Ctrl-C / SIGTERM); 2 bad
input (unknown kind, bad URL); 1 Redis unreachable.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from ouroboros.cli.core import EXIT_BAD_INPUT, EXIT_FAILED, app

cluster_app = typer.Typer(help="A local cluster on Redis: up, status.")
app.add_typer(cluster_app, name="cluster", no_args_is_help=True)

RedisOption = Annotated[str, typer.Option("--redis", help="Redis URL: redis://host:port/0 or unix:///path.")]


NAMESPACE = "ouroboros"


def _procs_key() -> str:
    return "{" + NAMESPACE + "}:procs"


def _alerts_key() -> str:
    return "{" + NAMESPACE + "}:alerts"


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@app.command("worker")
def worker(
    kinds: Annotated[list[str], typer.Argument(help="Job kinds to serve (gen).")],
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
) -> None:
    """Serve jobs until stopped."""
    from ouroboros.ai.jobs import HANDLERS
    from ouroboros.cluster import Janitor, Worker
    from ouroboros.cluster.redis_queue import RedisJobQueue
    from ouroboros.errors import ClusterError

    unknown = sorted(set(kinds) - set(HANDLERS))
    if unknown:
        _fail(f"unknown job kind(s) {', '.join(unknown)} (kinds: {', '.join(sorted(HANDLERS))})")
    if janitor_idle_s <= lease_s:
        _fail("--janitor-idle-s must exceed --lease-s (a live worker's job would be handed on)")
    try:
        queue = RedisJobQueue(redis_url, tuple(kinds), max_deliveries=max_deliveries)
    except ClusterError as exc:
        _fail(exc.message)
    if not queue.ping():
        _fail(f"redis at {redis_url} does not answer", EXIT_FAILED)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    consumer = name or f"{socket.gethostname()}-{os.getpid()}"
    janitor = Janitor(queue, janitor_idle_s, janitor_every_s)
    threading.Thread(target=janitor.run, args=(stop,), name="janitor", daemon=True).start()
    typer.echo(f"worker {consumer}: serving {', '.join(sorted(kinds))} from {redis_url}", err=True)
    Worker(queue, {k: HANDLERS[k] for k in kinds}, consumer, lease_s=lease_s).run(stop, wait_s=0.5)
    queue.close()


@cluster_app.command("status")
def status(
    redis_url: RedisOption,
    kinds: Annotated[str, typer.Option("--kinds", help="Comma-separated job kinds.")] = "gen",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The job queues: waiting, running, results, dead letters."""
    from ouroboros.cluster.redis_queue import RedisJobQueue
    from ouroboros.errors import ClusterError

    try:
        queue = RedisJobQueue(redis_url, tuple(k for k in kinds.split(",") if k))
        stats = queue.stats()
        dead = queue.dead_letters()
        procs = queue._call(queue.r.hgetall, _procs_key())
    except ClusterError as exc:
        _fail(exc.message, EXIT_FAILED)
    doc = {
        "processes": [json.loads(v) for _, v in sorted(procs.items())],
        "queues": {"waiting": stats.waiting, "running": stats.running, "results": stats.results,
                   "dead": stats.dead, "consumers": stats.consumers},
        "dead_letters": [
            {"key": d.key, "kind": d.kind, "attempts": d.attempts, "error": d.error} for d in dead
        ],
    }  # fmt: skip
    if as_json:
        typer.echo(json.dumps(doc, indent=2, sort_keys=True))
        return
    for p in doc["processes"]:
        pid = p["pid"] or "-"
        typer.echo(f"{p['name']:<12} {p['role']:<8} pid {pid:<8} {p['state']:<8} restarts {p['restarts']}")
    q = doc["queues"]
    typer.echo(f"jobs: {q['waiting']} waiting, {q['running']} running, {q['results']} done, {q['dead']} dead")
    for d in doc["dead_letters"]:
        typer.echo(f"  dead {d['key']} ({d['kind']}, {d['attempts']} attempts): {d['error']}")


@cluster_app.command("up")
def up(
    redis_url: Annotated[
        str, typer.Option("--redis", help="Redis URL; default: start a private redis-server in DATA/redis.")
    ] = "",
    workers: Annotated[int, typer.Option("--workers", min=0, max=64, help="gen workers to run.")] = 2,
    data: Annotated[Path, typer.Option("--data", help="The cluster's data folder.")] = Path("ouroboros-data"),
) -> None:
    """Start a supervised local cluster; Ctrl-C stops it all."""
    import sys

    from ouroboros.cluster.redis_queue import RedisJobQueue
    from ouroboros.cluster.redis_server import RedisServer
    from ouroboros.cluster.supervisor import ProcessSpec, Supervisor
    from ouroboros.errors import ClusterError

    server = None
    if not redis_url:
        folder = data / "redis"
        folder.mkdir(parents=True, exist_ok=True)
        try:
            server = RedisServer(folder.resolve(), appendonly=True).start()
        except ClusterError as exc:
            _fail(f"{exc.message} (or give --redis URL)", EXIT_FAILED)
        redis_url = server.url
    try:
        queue = RedisJobQueue(redis_url, ("gen",))
    except ClusterError as exc:
        _fail(exc.message)
    if not queue.ping():
        _fail(f"redis at {redis_url} does not answer", EXIT_FAILED)
    python = [sys.executable, "-m", "ouroboros"]
    specs = [
        ProcessSpec(f"worker-{i + 1}", "worker", [*python, "worker", "gen", "--redis", redis_url,
                                                 "--name", f"worker-{i + 1}"])
        for i in range(workers)
    ]  # fmt: skip

    def record(event: dict[str, Any]) -> None:
        try:
            queue._call(queue.r.hset, _procs_key(), event["name"], json.dumps(event, sort_keys=True))
            if event["event"] == "restart_loop":
                queue._call(queue.r.xadd, _alerts_key(), {"alert": json.dumps(event, sort_keys=True)},
                            maxlen=1000, approximate=True)  # fmt: skip
        except ClusterError:
            pass  # redis away: the supervisor goes on; status catches up at the next event
        if event["event"] in ("died", "restart_loop"):
            typer.echo(f"cluster: {event['name']} {event['event']} (exit {event.get('last_exit')})", err=True)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    queue._call(queue.r.delete, _procs_key())
    typer.echo(f"cluster: {len(specs)} processes on {redis_url}; Ctrl-C stops them", err=True)
    try:
        Supervisor(specs, on_event=record).run(stop.is_set)
    finally:
        queue.close()
        if server is not None:
            server.stop()
    typer.echo("cluster: stopped", err=True)
