"""The job queue's contract, the same for the in-process queue and the Redis Streams one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ouroboros.cluster import MemoryJobQueue
from ouroboros.cluster.jobs import JobQueue
from ouroboros.cluster.redis_queue import RedisJobQueue
from ouroboros.cluster.redis_server import RedisServer
from ouroboros.engine.clock import ManualClock
from ouroboros.errors import ClusterError

KINDS = ("gen", "llm")


@pytest.fixture(params=["memory", "redis"])
def queue(request: pytest.FixtureRequest) -> Iterator[JobQueue]:
    if request.param == "memory":
        yield MemoryJobQueue(max_deliveries=3)
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    q = RedisJobQueue(server.url, KINDS, max_deliveries=3)
    yield q
    q.close()


def test_a_job_runs_once_and_its_result_is_written_once(queue: JobQueue) -> None:
    assert queue.submit("gen", {"seed": 7}, "job-1")
    assert not queue.submit("gen", {"seed": 7}, "job-1")  # queued already: nothing changes
    job = queue.claim("w1", 1.0)
    assert job is not None and job.key == "job-1" and job.payload == {"seed": 7} and job.attempt == 1
    assert queue.claim("w2", 0.0) is None
    assert queue.complete(job, {"ok": True})
    assert not queue.complete(job, {"ok": False})  # the same delivery again: no second effect
    assert queue.result("job-1") == {"ok": True}
    assert not queue.submit("gen", {"seed": 7}, "job-1")  # done: a resubmission is refused
    cursor, rows = queue.results_since("")
    assert rows == [("job-1", {"ok": True})]
    assert queue.results_since(cursor) == (cursor, [])
    assert queue.stats().lag == 0


def test_a_failed_job_is_delivered_again_then_dead(queue: JobQueue) -> None:
    queue.submit("llm", {"prompt": "x"}, "poison")
    attempts = []
    for _ in range(3):
        job = queue.claim("w1", 1.0)
        assert job is not None
        attempts.append(job.attempt)
        queue.fail(job, "ValueError: bad")
    assert attempts == [1, 2, 3]
    assert queue.claim("w1", 0.0) is None
    [dead] = queue.dead_letters()
    assert (dead.key, dead.attempts, dead.error) == ("poison", 3, "ValueError: bad")
    assert queue.stats().dead == 1
    assert queue.result("poison") is None


def test_the_janitor_hands_on_a_job_whose_lease_is_stale(queue: JobQueue) -> None:
    queue.submit("gen", {"n": 1}, "slow")
    first = queue.claim("w1", 1.0)
    assert first is not None
    assert queue.reclaim(idle_s=3600) == 0  # fresh lease: left alone
    assert queue.reclaim(idle_s=0) == 1
    assert not queue.renew(first, "w1")  # w1 learns its lease is gone
    second = queue.claim("w2", 1.0)
    assert second is not None and second.key == "slow" and second.attempt == 2
    assert queue.complete(second, {"by": "w2"})
    assert not queue.complete(first, {"by": "w1"})  # the late first delivery has no effect
    assert queue.result("slow") == {"by": "w2"}


def test_priorities_and_kinds(queue: JobQueue) -> None:
    queue.submit("gen", {}, "a")
    queue.submit("llm", {}, "b")
    job = queue.claim("w", 1.0, frozenset({"llm"}))  # type: ignore[call-arg]
    assert job is not None and job.key == "b"


@pytest.mark.parametrize(
    ("kind", "payload", "key", "path"),
    [
        ("Gen", {}, "k", "kind"),
        ("gen", {}, "bad key!", "key"),
        ("gen", [], "k", "payload"),
        ("gen", {"x": float("nan")}, "k", "payload"),
        ("gen", {"x": object()}, "k", "payload"),
    ],
)
def test_bad_jobs_are_refused_with_one_reason(
    queue: JobQueue, kind: str, payload: object, key: str, path: str
) -> None:
    with pytest.raises(ClusterError) as err:
        queue.submit(kind, payload, key)  # type: ignore[arg-type]
    assert err.value.path == path
    assert queue.stats().lag == 0


def test_memory_leases_follow_the_injected_clock() -> None:
    clock = ManualClock()
    q = MemoryJobQueue(clock=clock)
    q.submit("gen", {}, "k")
    job = q.claim("w", 0.0)
    assert job is not None
    clock.advance_ms(5000)
    assert q.renew(job, "w")  # renewed at t=5
    clock.advance_ms(4000)
    assert q.reclaim(idle_s=5.0) == 0
    clock.advance_ms(2000)
    assert q.reclaim(idle_s=5.0) == 1
