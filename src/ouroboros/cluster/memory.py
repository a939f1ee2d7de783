"""The job queue inside one process (``ouroboros go``): the same contract as the Redis one.

Threads share it; leases are measured with an injected clock (nanoseconds, as the engine's), so
the janitor's redelivery can be driven by a test without sleeping.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from ouroboros.cluster.jobs import DeadLetter, Job, QueueStats, check_job, dump_result, load_object


class MemoryJobQueue:
    def __init__(self, max_deliveries: int = 3, clock: Callable[[], int] = time.monotonic_ns) -> None:
        self.max_deliveries = max_deliveries
        self._clock = clock
        self._cond = threading.Condition()
        self._seq = itertools.count(1)
        self._waiting: list[tuple[int, int, Job]] = []  # (-priority, seq, job)
        self._running: dict[str, tuple[Job, str, int]] = {}  # handle -> job, consumer, lease at
        self._keys: set[str] = set()
        self._results: dict[str, str] = {}
        self._log: list[tuple[int, str]] = []
        self._dead: list[DeadLetter] = []

    def submit(self, kind: str, payload: Mapping[str, Any], key: str, priority: int = 0) -> bool:
        text = check_job(kind, payload, key)
        with self._cond:
            if key in self._keys or key in self._results:
                return False
            self._keys.add(key)
            self._push(Job(key, kind, load_object(text), 1, int(priority)))
            return True

    def _push(self, job: Job) -> None:
        seq = next(self._seq)
        heapq.heappush(self._waiting, (-job.priority, seq, Job(**{**job.__dict__, "handle": str(seq)})))
        self._cond.notify()

    def claim(self, consumer: str, wait_s: float = 0.0, kinds: frozenset[str] | None = None) -> Job | None:
        with self._cond:
            deadline = time.monotonic() + wait_s
            while True:
                for entry in sorted(self._waiting):
                    job = entry[2]
                    if kinds is None or job.kind in kinds:
                        self._waiting.remove(entry)
                        heapq.heapify(self._waiting)
                        self._running[job.handle] = (job, consumer, self._clock())
                        return job
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def renew(self, job: Job, consumer: str) -> bool:
        with self._cond:
            held = self._running.get(job.handle)
            if held is None or held[1] != consumer:
                return False
            self._running[job.handle] = (held[0], consumer, self._clock())
            return True

    def complete(self, job: Job, result: Mapping[str, Any]) -> bool:
        text = dump_result(result)
        with self._cond:
            self._running.pop(job.handle, None)
            if job.key in self._results:
                return False
            self._results[job.key] = text
            self._log.append((len(self._log) + 1, job.key))
            self._keys.discard(job.key)
            # a copy handed on while this delivery ran late is not needed any more
            self._waiting = [e for e in self._waiting if e[2].key != job.key]
            heapq.heapify(self._waiting)
            return True

    def fail(self, job: Job, error: str) -> None:
        with self._cond:
            if self._running.pop(job.handle, None) is None:
                return  # the lease was lost: the janitor has handed it on already
            self._retry(job, error)

    def _retry(self, job: Job, error: str) -> None:
        if job.key in self._results:
            pass
        elif job.attempt >= self.max_deliveries:
            self._dead.append(DeadLetter(job.key, job.kind, job.payload, job.attempt, error))
            self._keys.discard(job.key)
        else:
            self._push(Job(job.key, job.kind, job.payload, job.attempt + 1, job.priority))

    def reclaim(self, idle_s: float) -> int:
        with self._cond:
            now = self._clock()
            stale = [h for h, (_, _, at) in self._running.items() if now - at >= idle_s * 1e9]
            for handle in stale:
                job, consumer, _ = self._running.pop(handle)
                self._retry(job, f"lease expired: worker {consumer} stopped renewing it")
            return len(stale)

    def result(self, key: str) -> dict[str, Any] | None:
        with self._cond:
            text = self._results.get(key)
        return None if text is None else load_object(text)

    def results_since(self, cursor: str, limit: int = 100) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
        start = int(cursor or 0)
        with self._cond:
            rows = [(seq, key) for seq, key in self._log if seq > start][:limit]
            out = [(key, load_object(self._results[key])) for _, key in rows]
        return (str(rows[-1][0]) if rows else cursor), out

    def dead_letters(self) -> list[DeadLetter]:
        with self._cond:
            return list(self._dead)

    def stats(self) -> QueueStats:
        with self._cond:
            consumers = sorted({c for _, c, _ in self._running.values()})
            return QueueStats(
                len(self._waiting), len(self._running), len(self._dead), len(self._results), consumers
            )


__all__ = ["MemoryJobQueue"]
