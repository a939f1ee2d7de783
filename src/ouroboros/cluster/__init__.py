"""Beyond one process: jobs for workers, on Redis Streams or in-process.

``JobQueue`` is the contract both deployments share (``jobs``): ``MemoryJobQueue`` inside
``ouroboros go``, ``RedisJobQueue`` for a cluster. A ``Worker`` serves job kinds with plain
handler functions; a ``Janitor`` hands on the jobs of workers that died. ``EffectLog`` applies
each result's effect once on the consuming side.
"""

from ouroboros.cluster.effects import EffectLog
from ouroboros.cluster.jobs import DeadLetter, Job, JobQueue, QueueStats
from ouroboros.cluster.memory import MemoryJobQueue
from ouroboros.cluster.worker import Handler, Janitor, Outcome, Worker

__all__ = [
    "DeadLetter",
    "EffectLog",
    "Handler",
    "Janitor",
    "Job",
    "JobQueue",
    "MemoryJobQueue",
    "Outcome",
    "QueueStats",
    "Worker",
]
