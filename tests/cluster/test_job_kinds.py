"""The ``llm`` and ``evolve`` job kinds, served by real ``ouroboros worker`` processes on a real
Redis: an evolution evaluation off the game's process gives the same answer as in-process, twice;
an ``llm`` worker without a model answers a clear failed result (and keeps serving); with the real
local model one short call comes back as text; passing model faults give the job back, lasting
ones are a failed result."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from ouroboros.ai.evolution.cascade import Cascade, CascadeConfig
from ouroboros.ai.jobs import NO_MODEL, evolve_job, evolve_payload, llm_handler, llm_payload
from ouroboros.ai.llm.base import LlmRequest, LlmResponse
from ouroboros.cluster.redis_queue import RedisJobQueue
from ouroboros.cluster.redis_server import RedisServer
from ouroboros.errors import BadInputError, LlmError
from ouroboros.worlds import build_world
from tests.conftest import LOCAL_MODEL_REQUEST_TIMEOUT_S

from .test_worker_processes import SRC, wait_until

ONE = 65536
STILL = "function act(ctx)\n  for i = 1, ctx.n do ctx.energy_gain[i] = 1638 end\nend\n"
CONFIG = CascadeConfig(replay_ticks=3, shadow_ticks=30, instructions_per_call=200_000)


def _worker(url: str, *args: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "ouroboros", "worker", *args, "--redis", url]
    return subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": SRC}, stderr=subprocess.PIPE)


@pytest.fixture
def stop_all() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def _dish() -> Any:
    world = build_world("petri", 5, {"entities": 60, "params": {"resource_spawn_rate_fp": ONE // 4}})
    world.run(15)
    return world


@pytest.mark.slow  # a worker process compiles the dish's kernels: ~30 s on a loaded machine
def test_a_worker_evaluates_a_candidate_as_the_game_would_and_answers_llm_jobs_without_a_model(
    redis_server: RedisServer, stop_all: list[subprocess.Popen[bytes]]
) -> None:
    world = _dish()
    here = Cascade(world, {}, CONFIG).evaluate("evo.trait.1", "1.0.0", STILL).as_dict()
    payload = evolve_payload(world, {}, "evo.trait.1", "1.0.0", STILL, CONFIG)
    queue = RedisJobQueue(redis_server.url, ("evolve", "llm"))
    stop_all.append(_worker(redis_server.url, "evolve", "llm", "--name", "w1"))
    assert queue.submit("evolve", payload, "evo-a")
    assert queue.submit("evolve", payload, "evo-b")  # the same job again, under another key
    ask = {"role": "flavour", "prompt": "Name a street.", "max_tokens": 8}
    assert queue.submit("llm", ask, "ask-1")
    a = wait_until(lambda: queue.result("evo-a"), what="the evaluation")
    b = wait_until(lambda: queue.result("evo-b"), what="the second evaluation")
    assert a == b  # a function of the payload: delivered again, the same result
    assert a["evaluation"] == here and a["evaluation"]["ok"] and a["tick"] == world.tick
    assert wait_until(lambda: queue.result("ask-1"), what="the llm answer") == {
        "ok": False,
        "error": {"code": "no_model", "message": NO_MODEL},
    }
    assert queue.stats().dead == 0 and stop_all[0].poll() is None  # answered, not crashed


def test_an_evolve_job_refuses_what_is_not_a_candidate() -> None:
    world = _dish()
    good = evolve_payload(world, {}, "evo.trait.1", "1.0.0", STILL, CONFIG)
    for bad in (
        {k: v for k, v in good.items() if k != "candidate"},
        {**good, "candidate": {"trait_id": "x", "version": "1"}},
        {**good, "seed": "five"},
        {**good, "snapshot": "not base64!"},
        {**good, "cascade": {"shadow_ticks": 10, "nope": 1}},
        {**good, "extra": 1},
    ):
        with pytest.raises(BadInputError):
            evolve_job(json.loads(json.dumps(bad)))
    broken = evolve_job({**good, "candidate": {**good["candidate"], "source": "function act(ctx"}})
    assert broken["evaluation"]["stage"] == "static" and not broken["evaluation"]["ok"]


class _Scripted:
    name = "scripted"

    def __init__(self, *outcomes: Any) -> None:
        self.outcomes = list(outcomes)
        self.asked: list[LlmRequest] = []

    def complete(self, request: LlmRequest) -> LlmResponse:
        self.asked.append(request)
        out = self.outcomes.pop(0)
        if isinstance(out, Exception):
            raise out
        return out


def test_llm_jobs_pass_the_councils_request_and_sort_faults_into_retry_or_a_failed_result() -> None:
    request = LlmRequest("narrative", "You vote.", "Which event?", {"type": "string"}, "", 0.5, 64, 30.0)
    answer = LlmResponse('"riot"', "riot", "scripted", "m", 3, 1, 12)
    provider = _Scripted(
        answer,
        LlmError("slow", code="timeout"),
        LlmError("no", code="refused"),
    )
    handle = llm_handler(provider)
    payload = json.loads(json.dumps(llm_payload(request)))  # as it travels
    got = handle(payload)
    assert provider.asked == [request]  # the worker asks exactly what the council would have
    assert got["ok"] and got["data"] == "riot" and got["text"] == '"riot"'
    with pytest.raises(LlmError):  # passing: given back, delivered again
        handle(payload)
    assert handle(payload) == {"ok": False, "error": {"code": "refused", "message": "no"}}
    assert handle({**payload, "max_tokens": 0})["error"]["code"] == "bad_request"
    with pytest.raises(BadInputError):
        handle({"prompt": "no role"})


@pytest.mark.slow
def test_an_llm_worker_asks_the_real_local_model(
    local_llm: Any, redis_server: RedisServer, stop_all: list[subprocess.Popen[bytes]]
) -> None:
    queue = RedisJobQueue(redis_server.url, ("llm",))
    model = ["--llm-url", local_llm.base_url, "--llm-model", local_llm.model_name, "--llm-provider", "openai"]
    stop_all.append(_worker(redis_server.url, "llm", "--name", "l1", *model))
    ask = {"role": "flavour", "prompt": "Name one neon street.", "max_tokens": 12,
           "timeout_s": LOCAL_MODEL_REQUEST_TIMEOUT_S}  # fmt: skip
    queue.submit("llm", ask, "street-1")
    got = wait_until(lambda: queue.result("street-1"), timeout_s=180, what="the model's answer")
    assert got["ok"] is True, got
    assert isinstance(got["text"], str) and got["text"].strip()
    assert got["model"] == local_llm.model_name and 0 < got["tokens_out"] <= 12
