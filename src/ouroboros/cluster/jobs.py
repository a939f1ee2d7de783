"""Jobs for workers: what a job is, the queue's interface, and the JSON it travels as.

A job is a unit of work the game's process hands off (generate a proposal, call a model, run an
evolution cycle): a ``kind`` a worker knows, a JSON ``payload``, and a ``key`` that makes its
*effect* happen once — the result of a key is written once however often the job is delivered,
and whoever applies results checks the key again before anything reaches the ledger.

Delivery is at least once: a job whose worker dies is delivered again (``attempt`` grows), and a
job delivered ``max_deliveries`` times without a result goes to the dead letters with its last
error. JSON on the wire, never pickle: a payload is checked to be plain JSON when submitted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ouroboros.errors import ClusterError

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_PAYLOAD_BYTES = 1 << 20


@dataclass(frozen=True)
class Job:
    """One delivery of a job: ``attempt`` counts deliveries (1 the first)."""

    key: str
    kind: str
    payload: dict[str, Any]
    attempt: int = 1
    priority: int = 0
    #: the queue's handle of this delivery (a stream entry id for Redis)
    handle: str = ""


@dataclass(frozen=True)
class DeadLetter:
    key: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    error: str


@dataclass(frozen=True)
class QueueStats:
    """How far behind the workers are: ``waiting`` not yet delivered, ``running`` delivered and
    not finished, ``dead`` in the dead letters, ``results`` written."""

    waiting: int
    running: int
    dead: int
    results: int
    consumers: list[str] = field(default_factory=list)

    @property
    def lag(self) -> int:
        return self.waiting + self.running


class JobQueue(Protocol):
    """The queue both deployments share: in-process for ``go``, Redis Streams for a cluster."""

    def submit(self, kind: str, payload: Mapping[str, Any], key: str, priority: int = 0) -> bool:
        """Queue a job; False when ``key`` already has a result or is queued (nothing changes)."""
        ...

    def claim(self, consumer: str, wait_s: float = 0.0) -> Job | None:
        """The next job for ``consumer``, waiting up to ``wait_s`` for one."""
        ...

    def renew(self, job: Job, consumer: str) -> bool:
        """Keep ``job``'s lease while it runs; False when the lease was lost (it was reclaimed)."""
        ...

    def complete(self, job: Job, result: Mapping[str, Any]) -> bool:
        """Write the result of ``job.key`` once and finish the delivery; False when a result was
        already written (a duplicate delivery: its effect is dropped)."""
        ...

    def fail(self, job: Job, error: str) -> None:
        """Give the job back after an error: delivered again, or dead after the last attempt."""
        ...

    def reclaim(self, idle_s: float) -> int:
        """The janitor: deliver again every job whose lease is older than ``idle_s``."""
        ...

    def result(self, key: str) -> dict[str, Any] | None: ...

    def results_since(self, cursor: str, limit: int = 100) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
        """Results written after ``cursor`` (``""``: from the start), oldest first, and the new cursor."""
        ...

    def dead_letters(self) -> list[DeadLetter]: ...

    def stats(self) -> QueueStats: ...


def check_job(kind: str, payload: Any, key: str) -> str:
    """The payload as canonical JSON text, or a ``ClusterError`` saying what is wrong."""
    if not isinstance(kind, str) or not KIND_PATTERN.match(kind):
        raise ClusterError(f"job kind {kind!r} is not a lowercase name", path="kind")
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise ClusterError(f"job key {key!r} must be 1-128 letters, digits, _ . : -", path="key")
    if not isinstance(payload, Mapping):
        raise ClusterError("job payload must be a JSON object", path="payload")
    try:
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ClusterError(f"job payload is not plain JSON: {exc}", path="payload") from exc
    if len(text.encode()) > MAX_PAYLOAD_BYTES:
        raise ClusterError(f"job payload over {MAX_PAYLOAD_BYTES} bytes", path="payload")
    return text


def dump_result(result: Any) -> str:
    if not isinstance(result, Mapping):
        raise ClusterError("a job result must be a JSON object", path="result")
    try:
        return json.dumps(result, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ClusterError(f"job result is not plain JSON: {exc}", path="result") from exc


def load_object(text: str | bytes) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ClusterError("a stored job document is not an object")
    return value


__all__ = ["DeadLetter", "Job", "JobQueue", "QueueStats", "check_job", "dump_result", "load_object"]
