"""A stateful property test of the job queue's contract, on both queues: whatever order
submissions, claims, completions, failures and the janitor come in, a key's result is written at
most once, a job is in exactly one place, and the stats say so."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

from ouroboros.cluster import Job, MemoryJobQueue
from ouroboros.cluster.jobs import JobQueue
from ouroboros.cluster.redis_queue import RedisJobQueue
from ouroboros.cluster.redis_server import RedisServer

KEYS = st.sampled_from([f"k{i}" for i in range(5)])
MAX = 3


class QueueMachine(RuleBasedStateMachine):
    make_queue: Any = None
    deliveries = Bundle("deliveries")

    def __init__(self) -> None:
        super().__init__()
        self.q: JobQueue = type(self).make_queue()
        self.queued: set[str] = set()  # submitted, no result yet, not dead
        self.waiting: set[str] = set()  # keys with a copy waiting to be claimed
        self.running: dict[str, Job] = {}  # handle -> delivery holding its lease
        self.done: set[str] = set()
        self.dead: list[str] = []
        self.attempts: dict[str, int] = {}

    @rule(key=KEYS)
    def submit(self, key: str) -> None:
        fresh = self.q.submit("gen", {"key": key}, key)
        assert fresh == (key not in self.queued and key not in self.done)
        if fresh:
            self.queued.add(key)
            self.waiting.add(key)
            self.attempts[key] = 0

    @rule(target=deliveries, worker=st.sampled_from(["w1", "w2"]))
    def claim(self, worker: str) -> Job | None:
        job = self.q.claim(worker, 0.0)
        if job is None:
            assert not self.waiting
            return None
        assert job.key in self.waiting
        self.waiting.discard(job.key)
        self.attempts[job.key] += 1
        assert job.attempt == self.attempts[job.key]
        self.running[job.handle] = job
        return job

    @rule(job=consumes(deliveries))
    def complete(self, job: Job | None) -> None:
        if job is None:
            return
        fresh = self.q.complete(job, {"by": job.handle})
        assert fresh == (job.key not in self.done)
        self.running.pop(job.handle, None)
        if fresh:
            self.done.add(job.key)
            self.queued.discard(job.key)
            self.waiting.discard(job.key)

    def _hand_on(self, job: Job) -> None:
        if job.key in self.done:
            return
        if job.attempt >= MAX:
            self.dead.append(job.key)
            self.queued.discard(job.key)
        else:
            self.waiting.add(job.key)

    @rule(job=consumes(deliveries))
    def fail(self, job: Job | None) -> None:
        if job is None:
            return
        self.q.fail(job, "boom")
        if self.running.pop(job.handle, None) is not None:
            self._hand_on(job)

    @rule()
    def janitor(self) -> None:
        assert self.q.reclaim(0) == len(self.running)
        for job in self.running.values():
            self._hand_on(job)
        self.running.clear()

    @invariant()
    def each_result_is_written_once(self) -> None:
        _, rows = self.q.results_since("", 1000)
        keys = [k for k, _ in rows]
        assert len(keys) == len(set(keys)) and set(keys) == self.done

    @invariant()
    def stats_match(self) -> None:
        s = self.q.stats()
        assert (s.waiting, s.running, s.results, s.dead) == (
            len(self.waiting),
            len(self.running),
            len(self.done),
            len(self.dead),
        )


def test_the_memory_queue_keeps_its_contract() -> None:
    machine = type(
        "MemoryQueueMachine", (QueueMachine,), {"make_queue": staticmethod(lambda: MemoryJobQueue(MAX))}
    )
    settings(max_examples=150, stateful_step_count=30, deadline=None)(machine).TestCase().runTest()


@pytest.mark.usefixtures("redis_server")
def test_the_redis_queue_keeps_its_contract(redis_server: RedisServer) -> None:
    counter = iter(range(10**6))

    def make() -> RedisJobQueue:  # a fresh namespace per example
        return RedisJobQueue(redis_server.url, ("gen",), namespace=f"t{next(counter)}", max_deliveries=MAX)

    machine = type("RedisQueueMachine", (QueueMachine,), {"make_queue": staticmethod(make)})
    settings(max_examples=40, stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck))(
        machine
    ).TestCase().runTest()
