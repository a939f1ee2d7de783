"""What a running local cluster looks like, read from its Redis: the document ``ouroboros cluster
status --json`` prints and the dashboard's ``/api/cluster`` answers.

- ``status_doc(url)``: each process the supervisor runs (name, role, pid, state, health,
  restarts, last exit and the last restart's reason), the job queues per kind (waiting, running,
  lag) with their totals, results and dead letters, and the supervisor's latest alerts.
- ``DATA/cluster.json`` (``write_marker``/``read_marker``) is how a dashboard in the same data
  folder finds the cluster: ``cluster up`` writes its Redis URL and its own pid there and removes
  it when it stops; a marker whose supervisor is gone counts as no cluster.
- ``record_event(queue, event)``: how ``cluster up`` writes a supervisor's event there.
- ``alerts_since(url, cursor)``: the supervisor's alerts (a process died, a restart loop) after a
  stream cursor, oldest first, for the dashboard's alert center.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from ouroboros.cluster import keys
from ouroboros.errors import ClusterError

#: every job kind a worker serves (``ai.jobs``)
KINDS = ("gen", "llm", "evolve")
MARKER = "cluster.json"
ALERTS_SHOWN = 20


def _queue(url: str, kinds: tuple[str, ...], timeout_s: float) -> Any:
    from ouroboros.cluster.redis_queue import RedisJobQueue

    return RedisJobQueue(url, kinds, socket_timeout_s=timeout_s)


def status_doc(url: str, kinds: tuple[str, ...] = KINDS, timeout_s: float = 5.0) -> dict[str, Any]:
    """The cluster's processes, queues, dead letters and latest alerts (``ClusterError`` when its
    Redis does not answer)."""
    queue = _queue(url, kinds, timeout_s)
    try:
        if not queue.ping():
            raise ClusterError(f"redis at {url} is unreachable: it does not answer")
        per_kind: dict[str, dict[str, int]] = {}
        for kind in kinds:
            one = _queue(url, (kind,), timeout_s)
            try:
                s = one.stats()
            finally:
                one.close()
            per_kind[kind] = {"waiting": s.waiting, "running": s.running, "lag": s.lag}
        stats = queue.stats()
        dead = queue.dead_letters()
        procs = queue._call(queue.r.hgetall, keys.procs())
        alerts = queue._call(queue.r.xrevrange, keys.alerts(), "+", "-", count=ALERTS_SHOWN)
    finally:
        queue.close()
    return {
        "processes": [json.loads(v) for _, v in sorted(procs.items())],
        "queues": {
            "waiting": stats.waiting,
            "running": stats.running,
            "lag": stats.lag,
            "results": stats.results,
            "dead": stats.dead,
            "consumers": stats.consumers,
            "kinds": per_kind,
        },
        "dead_letters": [
            {"key": d.key, "kind": d.kind, "attempts": d.attempts, "error": d.error} for d in dead
        ],
        "alerts": [{"id": i, **json.loads(f["alert"])} for i, f in reversed(alerts)],
    }


def record_event(queue: Any, event: dict[str, Any]) -> None:
    """A supervisor's event written where ``status_doc`` reads it: the process's row, and an alert
    when a process died or keeps dying. Redis away: nothing (the next event catches up)."""
    try:
        queue._call(queue.r.hset, keys.procs(), event["name"], json.dumps(event, sort_keys=True))
        if event["event"] in ("died", "restart_loop"):
            doc = {"alert": json.dumps(event, sort_keys=True)}
            queue._call(queue.r.xadd, keys.alerts(), doc, maxlen=1000, approximate=True)
    except ClusterError:
        pass


def alerts_since(url: str, cursor: str, timeout_s: float = 2.0) -> tuple[str, list[dict[str, Any]]]:
    """The supervisor's alerts after ``cursor`` (``""``: only those from now on; the cursor of the
    newest is returned, so the first call just takes the place), oldest first."""
    queue = _queue(url, (), timeout_s)
    try:
        if not cursor:
            last = queue._call(queue.r.xrevrange, keys.alerts(), "+", "-", count=1)
            return (last[0][0] if last else "0-0"), []
        entries = queue._call(queue.r.xrange, keys.alerts(), f"({cursor}", "+", count=100)
    finally:
        queue.close()
    if not entries:
        return cursor, []
    return entries[-1][0], [json.loads(f["alert"]) for _, f in entries]


def write_marker(data: Path, url: str) -> Path:
    path = Path(data) / MARKER
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"redis": url, "pid": os.getpid()}), encoding="utf-8")
    tmp.replace(path)
    return path


def remove_marker(data: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (Path(data) / MARKER).unlink()


def read_marker(data: Path) -> str | None:
    """The Redis URL of the cluster whose supervisor runs on this data folder, or None."""
    try:
        doc = json.loads((Path(data) / MARKER).read_text(encoding="utf-8"))
        url, pid = doc["redis"], int(doc["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(url, str) or pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None  # the supervisor is gone (killed without cleaning up)
    except PermissionError:
        pass
    return url


__all__ = [
    "KINDS",
    "MARKER",
    "alerts_since",
    "read_marker",
    "record_event",
    "remove_marker",
    "status_doc",
    "write_marker",
]
