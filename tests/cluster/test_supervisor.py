"""The supervisor of a local cluster: a process that dies is restarted with backoff, a restart
loop is an alert, stop ends every process; and ``cluster up`` end to end with its own Redis."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from ouroboros.cluster.redis_queue import RedisJobQueue
from ouroboros.cluster.redis_server import RedisServer
from ouroboros.cluster.status import read_marker
from ouroboros.cluster.supervisor import LOOP_ALERT_AFTER, ProcessSpec, Supervisor
from tests.cluster.test_worker_processes import SRC, wait_until

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]
CRASHER = [sys.executable, "-c", "raise SystemExit(3)"]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_killed_process_is_restarted_after_its_backoff() -> None:
    clock, events = Clock(), []
    sup = Supervisor([ProcessSpec("w1", "worker", SLEEPER)], events.append, clock, backoff_s=(1.0, 8.0))
    sup.start()
    try:
        first = sup.pid("w1")
        assert first is not None
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: (sup.poll(), sup.status()[0]["state"] == "backoff")[1], what="the death")
        assert [e["event"] for e in events] == ["started", "died"]
        assert events[-1]["restart_in_s"] == 1.0 and events[-1]["last_exit"] == -signal.SIGKILL
        clock.now += 0.5
        sup.poll()
        assert sup.pid("w1") is None  # still backing off
        clock.now += 0.6
        sup.poll()
        second = sup.pid("w1")
        assert second is not None and second != first
        assert sup.status()[0]["restarts"] == 1
    finally:
        sup.stop()
    assert sup.status()[0]["state"] == "stopped"


def test_a_restart_loop_backs_off_exponentially_and_raises_an_alert() -> None:
    clock, events = Clock(), []
    sup = Supervisor([ProcessSpec("bad", "worker", CRASHER)], events.append, clock, backoff_s=(1.0, 4.0))
    sup.start()
    delays = []
    try:
        for _ in range(4):
            wait_until(lambda: (sup.poll(), sup.status()[0]["state"] == "backoff")[1], what="a crash")
            delays.append(
                events[-1]["restart_in_s"] if events[-1]["event"] == "died" else events[-2]["restart_in_s"]
            )
            clock.now += delays[-1]
            sup.poll()  # restarted
    finally:
        sup.stop()
    assert delays == [1.0, 2.0, 4.0, 4.0]
    loops = [e for e in events if e["event"] == "restart_loop"]
    assert loops and loops[0]["deaths"] == LOOP_ALERT_AFTER


def test_cluster_up_runs_supervised_workers_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    redis = RedisServer().start()
    env = {**os.environ, "PYTHONPATH": SRC}
    cmd = [sys.executable, "-m", "ouroboros", "cluster", "up", "--redis", redis.url, "--workers", "2",
           "--data", str(tmp_path)]  # fmt: skip
    up = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)
    try:
        queue = RedisJobQueue(redis.url, ("gen",))

        def procs() -> dict[str, Any]:
            return {k: json.loads(v) for k, v in queue.r.hgetall("{ouroboros}:procs").items()}

        wait_until(lambda: len(procs()) == 2 and all(p["pid"] for p in procs().values()), what="two workers")
        queue.submit("gen", {"type": "NPC", "seed": 9, "world": "neon"}, "npc-9")
        wait_until(lambda: queue.result("npc-9"), what="a worker to serve the job")
        victim = procs()["worker-1"]["pid"]
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: procs()["worker-1"]["restarts"] == 1 and procs()["worker-1"]["pid"] != victim,
                   what="the supervisor to restart worker-1")  # fmt: skip
        status = subprocess.run([sys.executable, "-m", "ouroboros", "cluster", "status", "--redis", redis.url,
                                 "--json"], env=env, capture_output=True, text=True)  # fmt: skip
        doc = json.loads(status.stdout)
        assert {p["name"]: p["restarts"] for p in doc["processes"]} == {"worker-1": 1, "worker-2": 0}
        assert doc["queues"]["results"] == 1
        one = next(p for p in doc["processes"] if p["name"] == "worker-1")
        assert (one["health"], one["last_restart_reason"]) == ("ok", "killed by SIGKILL")
        assert set(doc["queues"]["kinds"]) == {"gen", "llm", "evolve"}
        assert doc["queues"]["kinds"]["gen"]["lag"] == 0
        [died] = [a for a in doc["alerts"] if a["name"] == "worker-1"]
        assert died["event"] == "died" and died["exit_code"] == -signal.SIGKILL
        assert read_marker(tmp_path) == redis.url  # a dashboard on this data folder finds it
        pids = [p["pid"] for p in procs().values()]
        up.send_signal(signal.SIGINT)
        assert up.wait(60) == 0
        for pid in pids:  # every worker is gone
            wait_until(lambda pid=pid: not _alive(pid), timeout_s=10, what=f"worker {pid} to stop")
        assert read_marker(tmp_path) is None
    finally:
        if up.poll() is None:
            up.kill()
        redis.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie whose parent has not reaped it yet counts as gone
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
