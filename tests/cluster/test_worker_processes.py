"""Workers as real processes on a real Redis: a worker killed with SIGKILL mid-job has its job
finished by another with no further traffic, and the result takes effect once; a poison job ends
in the dead letters; the CLI worker serves the council's generation jobs; Redis killed mid-run
and brought back, the worker carries on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ouroboros.cluster import EffectLog, Worker
from ouroboros.cluster.redis_queue import RedisJobQueue
from ouroboros.cluster.redis_server import RedisServer

SRC = str(Path(__file__).resolve().parents[2] / "src")
WORKER = textwrap.dedent(
    """
    import pathlib, sys, threading, time
    from ouroboros.cluster import Janitor, Worker
    from ouroboros.cluster.redis_queue import RedisJobQueue

    url, name, marks = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
    queue = RedisJobQueue(url, ("slow",), max_deliveries=3)

    def slow(payload):
        (marks / f"{name}-started").write_text(payload["n"] and "x")
        if name == "victim":
            time.sleep(600)  # killed long before
        return {"by": name, "double": payload["n"] * 2}

    stop = threading.Event()
    threading.Thread(target=Janitor(queue, idle_s=1.5, every_s=0.1).run, args=(stop,), daemon=True).start()
    Worker(queue, {"slow": slow}, name, lease_s=0.3).run(stop, wait_s=0.2)
    """
)


def wait_until(check: Callable[[], object], timeout_s: float = 60.0, what: str = "") -> object:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def spawn(tmp_path: Path, redis_server: RedisServer) -> Iterator[Callable[[str], subprocess.Popen[bytes]]]:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    procs: list[subprocess.Popen[bytes]] = []
    env = {**os.environ, "PYTHONPATH": SRC}

    def start(name: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([sys.executable, str(script), redis_server.url, name, str(tmp_path)], env=env)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.kill()
        proc.wait(10)


def test_a_job_of_a_killed_worker_is_finished_by_another_and_takes_effect_once(
    spawn: Callable[[str], subprocess.Popen[bytes]], redis_server: RedisServer, tmp_path: Path
) -> None:
    queue = RedisJobQueue(redis_server.url, ("slow",))
    victim = spawn("victim")
    assert queue.submit("slow", {"n": 21}, "job-42")
    wait_until((tmp_path / "victim-started").exists, what="the victim to start the job")
    spawn("rescuer")
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    # no further traffic: the rescuer's janitor finds the stale lease on its timer
    result = wait_until(lambda: queue.result("job-42"), what="the rescuer to finish the job")
    assert result == {"by": "rescuer", "double": 42}
    applied: list[str] = []
    effects = EffectLog(tmp_path / "effects.db")
    assert effects.drain(queue, lambda key, r: applied.append(key)) == 1
    assert effects.drain(queue, lambda key, r: applied.append(key)) == 0
    effects.close()
    again = EffectLog(tmp_path / "effects.db")  # a restarted consumer reads on from its cursor
    assert again.drain(queue, lambda key, r: applied.append(key)) == 0
    assert applied == ["job-42"]
    wait_until(lambda: queue.stats().running == 0, what="the queue to settle")


def test_a_poison_job_ends_in_the_dead_letters(redis_server: RedisServer) -> None:
    queue = RedisJobQueue(redis_server.url, ("poison",), max_deliveries=3)

    def explode(payload: dict[str, object]) -> dict[str, object]:
        raise ValueError(f"cannot digest {payload['what']}")

    worker = Worker(queue, {"poison": explode}, "w", lease_s=5)
    queue.submit("poison", {"what": "lead"}, "bad-1")
    outcomes = [worker.run_once(1.0) for _ in range(3)]
    assert [o.status for o in outcomes if o] == ["failed"] * 3
    assert worker.run_once(0.05) is None
    [dead] = queue.dead_letters()
    assert (dead.key, dead.attempts, dead.error) == ("bad-1", 3, "ValueError: cannot digest lead")


def test_the_cli_worker_serves_generation_jobs(redis_server: RedisServer, tmp_path: Path) -> None:
    from ouroboros.ai.generators import generate

    queue = RedisJobQueue(redis_server.url, ("gen",))
    env = {**os.environ, "PYTHONPATH": SRC}
    cmd = [sys.executable, "-m", "ouroboros", "worker", "gen", "--redis", redis_server.url, "--name", "g1"]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)
    try:
        queue.submit("gen", {"type": "NPC", "seed": 5, "world": "neon"}, "npc-5")
        queue.submit("gen", {"type": "NOPE", "seed": 5, "world": "neon"}, "bad-type")
        result = wait_until(lambda: queue.result("npc-5"), what="the generation job")
        assert result["proposal"] == generate("NPC", 5, world="neon").model_dump(mode="json")
        wait_until(lambda: queue.stats().dead == 1, what="the bad job to die")
        assert "unknown proposal type" in queue.dead_letters()[0].error
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0


def test_the_cli_refuses_bad_input_in_one_line(redis_server: RedisServer) -> None:
    env = {**os.environ, "PYTHONPATH": SRC}
    run = [sys.executable, "-m", "ouroboros"]
    bad_kind = subprocess.run(
        [*run, "worker", "bake", "--redis", redis_server.url], env=env, capture_output=True
    )
    assert bad_kind.returncode == 2 and b"unknown job kind(s) bake" in bad_kind.stderr
    bad_url = subprocess.run([*run, "worker", "gen", "--redis", "ftp://x"], env=env, capture_output=True)
    assert bad_url.returncode == 2 and bad_url.stderr.count(b"\n") == 1
    bad_model = subprocess.run([*run, "worker", "llm", "--redis", redis_server.url, "--llm-url", "ftp://x",
                                "--llm-model", "m"], env=env, capture_output=True)  # fmt: skip
    assert bad_model.returncode == 2 and b"--llm-url" in bad_model.stderr
    assert bad_model.stderr.count(b"\n") == 1
    down = subprocess.run([*run, "cluster", "status", "--redis", "unix:///tmp/nothing-here.sock"], env=env,
                          capture_output=True)  # fmt: skip
    assert down.returncode == 1 and b"unreachable" in down.stderr


def test_a_worker_rides_out_redis_going_away(tmp_path: Path) -> None:
    server = RedisServer(appendonly=True).start()
    try:
        queue = RedisJobQueue(server.url, ("slow",), socket_timeout_s=1.0)
        worker = Worker(queue, {"slow": lambda p: {"n": p["n"]}}, "w", lease_s=1.0)
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(stop, 0.1), daemon=True)
        thread.start()
        queue.submit("slow", {"n": 1}, "before")
        wait_until(lambda: queue.result("before"), what="the first job")
        server.kill()
        assert queue.ping() is False
        server.start()  # the same socket, the data from its append-only file
        queue.submit("slow", {"n": 2}, "after")
        assert wait_until(lambda: queue.result("after"), what="the job after the restart") == {"n": 2}
        assert thread.is_alive()
        stop.set()
        thread.join(10)
    finally:
        server.stop()
