"""A worker: claims jobs of the kinds it serves, runs each with its lease renewed, writes the
result once; and the janitor that hands on the jobs of workers that died.

A handler is a plain function ``payload -> result`` (JSON objects). It raising gives the job back
(delivered again, or to the dead letters after the last attempt); a job whose key already has a
result is finished without running (a second delivery never has a second effect).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ouroboros.cluster.jobs import Job, JobQueue
from ouroboros.errors import ClusterError

Handler = Callable[[dict[str, Any]], Mapping[str, Any]]
log = logging.getLogger("ouroboros.cluster")


@dataclass(frozen=True)
class Outcome:
    key: str
    status: str  # "done", "duplicate", "failed", "lease_lost"
    detail: str = ""


class Worker:
    def __init__(
        self,
        queue: JobQueue,
        handlers: Mapping[str, Handler],
        name: str,
        lease_s: float = 10.0,
    ) -> None:
        if not handlers:
            raise ClusterError("a worker needs at least one job kind to serve")
        self.queue = queue
        self.handlers = dict(handlers)
        self.name = name
        self.lease_s = lease_s
        self.done = 0

    def run_once(self, wait_s: float = 1.0) -> Outcome | None:
        job = self.queue.claim(self.name, wait_s, frozenset(self.handlers))  # type: ignore[call-arg]
        if job is None:
            return None
        return self._run(job)

    def _run(self, job: Job) -> Outcome:
        existing = self.queue.result(job.key)
        if existing is not None:
            self.queue.complete(job, existing)
            return Outcome(job.key, "duplicate", "a result was written already")
        stop = threading.Event()
        lost = threading.Event()

        def keep_lease() -> None:
            while not stop.wait(self.lease_s / 3):
                try:
                    if not self.queue.renew(job, self.name):
                        lost.set()
                        return
                except ClusterError:
                    continue  # redis is away for a moment: try again next period

        renewer = threading.Thread(target=keep_lease, name=f"lease-{job.key}", daemon=True)
        renewer.start()
        try:
            result = self.handlers[job.kind](dict(job.payload))
        except Exception as exc:  # a handler's failure is the job's, never the worker's
            stop.set()
            renewer.join()
            detail = f"{type(exc).__name__}: {exc}"
            log.warning("job %s attempt %d failed: %s", job.key, job.attempt, detail)
            self.queue.fail(job, detail)
            return Outcome(job.key, "failed", detail)
        stop.set()
        renewer.join()
        fresh = self.queue.complete(job, result)
        self.done += 1
        if lost.is_set() and not fresh:
            return Outcome(job.key, "lease_lost", "another worker finished it first")
        return Outcome(job.key, "done" if fresh else "duplicate")

    def run(self, stop: threading.Event, wait_s: float = 1.0) -> None:
        while not stop.is_set():
            try:
                self.run_once(wait_s)
            except ClusterError as exc:
                log.warning("worker %s: %s", self.name, exc.message)
                stop.wait(1.0)


class Janitor:
    """Hands on, every ``every_s``, the jobs whose lease is older than ``idle_s`` — on a timer,
    not only when new jobs arrive."""

    def __init__(self, queue: JobQueue, idle_s: float, every_s: float) -> None:
        self.queue = queue
        self.idle_s = idle_s
        self.every_s = every_s
        self.moved = 0

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.every_s):
            try:
                self.moved += self.queue.reclaim(self.idle_s)
            except ClusterError as exc:
                log.warning("janitor: %s", exc.message)


__all__ = ["Handler", "Janitor", "Outcome", "Worker"]
