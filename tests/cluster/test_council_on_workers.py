"""The council of a cluster's control process generates on workers: its director's jobs go as
``gen`` jobs over a real Redis to an ``ouroboros worker gen`` process, and each worker's result
becomes one proposal in the council's queue, once, however often the results are read. While
the queue lags over the limit a low-priority job is deferred (the decision is recorded), and it
goes once the worker has caught up. The control side is ``ControlPlane`` over a ``Runtime`` as
``ouroboros control`` builds it, in this process so that the test can hand the director an event
of its choosing (the shards' own signals: ``test_council_signals``); the worker is its own process. With
``llm_jobs`` the council's model calls are ``llm`` jobs: the model server hears from the worker
process only."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ouroboros.ai.llm import RoleAssignment
from ouroboros.ai.llm.base import LlmRequest
from ouroboros.ai.llm.routing import RoleRouter
from ouroboros.cluster.control import EFFECTS_FILE, ControlPlane
from ouroboros.cluster.redis_queue import RedisJobQueue
from ouroboros.cluster.redis_server import RedisServer
from ouroboros.server.runtime import Runtime, RuntimeOptions
from tests.ai.llm.conftest import Reply, Scripted, openai_envelope, server
from tests.cluster.test_cluster_neon import Proc, procs

__all__ = ["procs", "server"]  # the fixtures, shared

HQ = {"kind": "faction_without_hq", "faction": "neon.faction.chrome_jackals", "members": 4}
CROWD = {"kind": "crowded_sector", "sector": "neon.zone.night_market", "players": 9}
LIMIT = 3


def wait_until(check: Callable[[], Any], what: str, timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def plane(redis_server: RedisServer, tmp_path: Path) -> Iterator[ControlPlane]:
    yield from _plane(redis_server, tmp_path, llm_jobs=False)


@pytest.fixture
def llm_plane(redis_server: RedisServer, tmp_path: Path) -> Iterator[ControlPlane]:
    yield from _plane(redis_server, tmp_path, llm_jobs=True)


def _plane(redis_server: RedisServer, tmp_path: Path, llm_jobs: bool) -> Iterator[ControlPlane]:
    # as `control --llm-jobs m` makes them: the word roles default to the workers' model
    defaults = {"flavour": RoleAssignment("flavour", "jobs", "m", None)} if llm_jobs else None
    options = RuntimeOptions(optimizer=False, input_log=False, model_defaults=defaults)
    runtime = Runtime(tmp_path, ["neon"], options)
    stop = threading.Event()
    thread = None
    try:
        runtime._attach_ai()
        control = ControlPlane(
            redis_server.url,
            runtime,
            every_s=0.05,
            council_every_s=0.1,
            offload=True,
            lag_limit=LIMIT,
            llm_jobs=llm_jobs,
        )
        runner = runtime.runners["neon"]
        director = runner.council.director
        runner.call(
            lambda: (director.set("chaos", 0, "test"), director.set("human_in_the_loop", True, "test"))
        )
        thread = threading.Thread(target=control.run, args=(stop,), daemon=True)
        thread.start()
        yield control
    finally:
        stop.set()
        if thread is not None:
            thread.join(10)
            control.close()
        runtime.stop()


def on_council(plane: ControlPlane, fn: Callable[[Any], Any]) -> Any:
    runner = plane.runtime.runners["neon"]
    return runner.call(lambda: fn(runner.council))


def queued(plane: ControlPlane) -> list[dict[str, Any]]:
    return list(on_council(plane, lambda c: c.queue.list("queued")))


def decisions(plane: ControlPlane, outcome: str) -> list[dict[str, Any]]:
    found = on_council(plane, lambda c: c.store.decisions(200))
    out = []
    for d in found:
        if d["outcome"] == outcome:
            why = d["why"] if isinstance(d["why"], dict) else json.loads(d["why"])
            out.append({**d, "why": why})
    return out


def test_a_director_job_is_generated_by_a_worker_process_and_proposed_once(
    plane: ControlPlane, redis_server: RedisServer, procs: list[Proc], tmp_path: Path
) -> None:
    (record,) = on_council(plane, lambda c: c.step([HQ], {}, 10))
    assert record["state"] == "submitted" and record["proposal_id"] is None  # sent, not made here
    assert decisions(plane, "offloaded")[0]["why"]["key"] == f"gen:neon:{record['job_id']}"
    assert queued(plane) == []  # nobody has generated it yet
    procs.append(Proc(["worker", "gen", "--redis", redis_server.url, "--name", "gen-1"]))
    (item,) = wait_until(lambda: queued(plane), "the worker's proposal in the council's queue")
    assert item["type"] == "BUILDING"  # the hq rule asks for a building
    for _ in range(3):  # read again and again (the plane's timer does too): nothing more
        assert plane.runtime.runners["neon"].call(lambda: plane.apply_results("neon")) == []
    assert [i["proposal_id"] for i in queued(plane)] == [item["proposal_id"]]
    assert (tmp_path / "neon" / EFFECTS_FILE).exists()


def test_while_the_queue_lags_a_low_priority_job_waits_and_goes_once_the_worker_caught_up(
    plane: ControlPlane, redis_server: RedisServer, procs: list[Proc]
) -> None:
    elsewhere = RedisJobQueue(redis_server.url, ("gen",))
    for i in range(LIMIT + 2):  # another submitter's jobs: the workers lag behind
        elsewhere.submit("gen", {"type": "building", "seed": i, "world": "neon"}, f"gen:elsewhere:{i}")
    (record,) = on_council(plane, lambda c: c.step([CROWD], {}, 20))
    assert record["state"] == "deferred" and record["reason"] == f"deferred: lag {LIMIT + 2} > {LIMIT}"
    (deferred,) = decisions(plane, "deferred")
    assert (deferred["why"]["rule"], deferred["why"]["lag"]) == ("crowded", LIMIT + 2)
    procs.append(Proc(["worker", "gen", "--redis", redis_server.url, "--name", "gen-1"]))
    (item,) = wait_until(lambda: queued(plane), "the deferred job's proposal, once the lag fell")
    assert item["type"] == "BUILDING"  # the crowded rule asks for residential buildings
    assert len(decisions(plane, "deferred")) == 1  # recorded once, however many steps it waited
    (sent,) = [d for d in decisions(plane, "offloaded") if d["why"]["key"].endswith(record["job_id"])]
    assert sent["why"]["priority"] == 0
    assert len(queued(plane)) == 1  # the other submitter's results are not this council's
    elsewhere.close()


def test_the_councils_model_calls_are_llm_jobs_answered_by_a_worker_process(
    llm_plane: ControlPlane,
    redis_server: RedisServer,
    procs: list[Proc],
    server: tuple[str, Scripted],
) -> None:
    base_url, script = server
    script.default = Reply(openai_envelope("Rain hisses on the neon."))
    model = ["--llm-url", base_url, "--llm-model", "m", "--llm-provider", "openai"]
    procs.append(Proc(["worker", "llm", "--redis", redis_server.url, "--name", "llm-1", *model]))
    ask = LlmRequest("flavour", "", "the market at night", None, "", timeout_s=60.0)
    answer = on_council(llm_plane, lambda c: RoleRouter(c.models.current()).complete(ask))
    assert answer.text == "Rain hisses on the neon." and answer.provider.startswith("jobs:")
    [(path, body, _)] = script.requests  # the worker asked the model server, once; this process never
    assert path.endswith("/chat/completions") and body["model"] == "m"
    assert "the market at night" in json.dumps(body["messages"])
