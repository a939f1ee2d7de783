"""``GET /api/cluster`` and the cluster's alerts on a live runtime: with no cluster on the data
folder it answers ``{"cluster": null}``; with a real supervisor (real processes) recording to a
real Redis it shows each process with its pid, health and restarts, and a process's death is an
alert in ``/api/alerts``; its Redis gone, ``null`` with the reason — never an error. And the
sandbox's Python worker, killed and started again, raises an alert too."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ouroboros.cluster.redis_queue import RedisJobQueue
from ouroboros.cluster.redis_server import RedisServer
from ouroboros.cluster.status import MARKER, record_event, remove_marker, write_marker
from ouroboros.cluster.supervisor import ProcessSpec, Supervisor
from ouroboros.sandbox import PythonTraitWorker
from ouroboros.sandbox.python_worker import ENTITY_FIELDS
from ouroboros.server.runtime.alerts import AlertCenter
from ouroboros.server.runtime.feed import Feed
from tests.cluster.conftest import redis_server  # noqa: F401  (the fixture: a private redis-server)

from .conftest import Live, start_live, wait_for

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    yield from start_live(tmp_path_factory.mktemp("cluster-live"))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _cluster(live: Live) -> Any:
    got = live.client.get("/api/cluster", headers=live.headers("viewer"))
    assert got.status_code == 200, got.text
    return got.json()


def test_no_cluster_is_null_not_an_error(live: Live) -> None:
    assert _cluster(live) == {"cluster": None}
    (live.runtime.data_dir / MARKER).write_text(json.dumps({"redis": "unix:///x.sock", "pid": 2**22 + 7}))
    assert _cluster(live) == {"cluster": None}  # its supervisor is gone
    (live.runtime.data_dir / MARKER).write_text("{not json")
    assert _cluster(live) == {"cluster": None}
    remove_marker(live.runtime.data_dir)


def test_a_supervised_process_its_restart_and_the_alert(
    live: Live,
    redis_server: RedisServer,  # noqa: F811
) -> None:
    data: Path = live.runtime.data_dir
    queue = RedisJobQueue(redis_server.url, ())
    clock = Clock()
    sup = Supervisor(
        [ProcessSpec("worker-1", "worker", SLEEPER)],
        on_event=lambda e: record_event(queue, e),
        clock=clock,
        backoff_s=(1.0, 8.0),
    )
    center: AlertCenter = live.client.app.state.alerts  # type: ignore[attr-defined]
    write_marker(data, redis_server.url)
    sup.start()
    try:
        doc = _cluster(live)["cluster"]
        [proc] = doc["processes"]
        assert (proc["name"], proc["role"], proc["health"], proc["restarts"]) == (
            "worker-1",
            "worker",
            "ok",
            0,
        )
        assert proc["pid"] == sup.pid("worker-1")
        assert doc["queues"]["kinds"]["gen"] == {"waiting": 0, "running": 0, "lag": 0}
        assert doc["dead_letters"] == [] and doc["alerts"] == []
        assert center.poll_cluster(data) == 0  # takes its place in the alerts stream
        pid = sup.pid("worker-1")
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: (sup.poll(), sup.status()[0]["state"] == "backoff")[1])
        assert _cluster(live)["cluster"]["processes"][0]["health"] == "restarting"
        clock.now += 1.0
        sup.poll()  # restarted after its backoff
        [proc] = _cluster(live)["cluster"]["processes"]
        assert (proc["restarts"], proc["health"], proc["last_restart_reason"]) == (
            1,
            "ok",
            "killed by SIGKILL",
        )
        assert proc["pid"] == sup.pid("worker-1") != pid
        assert center.poll_cluster(data) == 1
        alerts = live.client.get("/api/alerts", headers=live.headers("viewer")).json()["alerts"]
        [alert] = [a for a in alerts if a["kind"] == "cluster_restart"]
        assert alert["process"] == "worker-1" and "killed by SIGKILL" in alert["message"]
        assert center.poll_cluster(data) == 0  # each once
        redis_server.kill()
        gone = _cluster(live)
        assert gone["cluster"] is None and "unreachable" in gone["reason"]
        assert center.poll_cluster(data) == 0
    finally:
        sup.stop()
        queue.close()
        remove_marker(data)


def test_a_restarted_sandbox_worker_raises_an_alert() -> None:
    center = AlertCenter(Feed(), loop_restarts=2, loop_window_s=300)
    source = "class Still(Trait):\n    async def execute(self, entity):\n        entity.energy_gain = 1\n"
    cols = {f: np.arange(3, dtype=np.int64) for f in ENTITY_FIELDS}
    try:
        with PythonTraitWorker() as worker:
            assert worker.load("still", "1", source) is None
            for _ in range(2):
                pid = worker.worker_pid
                assert pid is not None
                os.kill(pid, signal.SIGKILL)
                worker.run_batch("still", "1", cols, seed=1)
                worker.run_batch("still", "1", cols, seed=2)  # a fresh worker serves again
            assert worker.restarts == 2
        kinds = [a["kind"] for a in center.recent()]
        assert kinds == ["sandbox_restart", "sandbox_restart", "restart_loop"]
        assert center.recent()[0]["restarts"] == 1 and "killed or died" in center.recent()[0]["message"]
    finally:
        center.close()
    with PythonTraitWorker() as worker:  # closed: it hears no more
        assert worker.load("still", "1", source) is None
        pid = worker.worker_pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        worker.run_batch("still", "1", cols, seed=1)
        worker.run_batch("still", "1", cols, seed=2)
    assert len(center.recent()) == 3
