"""The council's generation handed to workers as ``gen`` jobs, with backpressure.

What it promises:

- **Backpressure.** Before a *low-priority* job (``RULE_PRIORITY``: chaos events, residential
  buildings, a challenge for a cruising runner) is submitted, the queue's lag (jobs waiting or
  running) is asked; over ``lag_limit`` the job is deferred — held here, oldest first, and recorded
  once as a decision ``deferred: lag N > limit`` — and offered again at a later step once the lag
  is back under the limit. Jobs of other rules are submitted whatever the lag (priority orders
  them in the queue). At most ``max_deferred`` are held; beyond, the oldest is dropped with a
  ``dropped`` decision (the director asks again when its trigger holds again).
- **One effect per job.** A job's key is ``gen:WORLD:JOB_ID``; its result is applied through an
  ``EffectLog`` (``drain``), and the council's ``propose`` is itself idempotent by proposal id,
  so a result seen twice never makes two proposals.
- **A queue away is not a stop.** When the queue refuses (Redis unreachable), the job is generated
  in-process as without workers, and the decision log says so.

``EvolveJobs`` is the evolution loop's evaluator (``EvolutionLoop.evaluator``) in a cluster: a
generation's candidates go as ``evolve`` jobs (``ai.jobs.evolve_payload``: the cycle's fork as a
snapshot, the base content, one candidate each), all at once so the workers share them, and the
loop waits for their results. A job's key is ``evolve:WORLD:`` + the payload's SHA-256, so the same
evaluation asked twice (a restarted control, a second cycle on the same fork) is one job and one
result. No worker serving ``evolve`` (or Redis away): the loop waits — the queue's lag grows — up
to the cycle's budget (``EvolutionConfig.cycle_budget_ms``), then the cycle is rejected
``cycle_timed_out`` and nothing is delivered; the jobs stay queued for a worker that comes later.

``JobModel`` is a model ``Provider`` whose calls are ``llm`` jobs (``ai.jobs``): the council's
model calls (enrich, the storyteller) answered by the cluster's ``llm`` workers
(``ModelRegistry.remote``). It waits for the result up to the request's timeout (a ``timeout``
``LlmError`` then, as a slow model gives, and the caller falls back as it does); a worker's failed
result is that ``LlmError``; the queue away is an ``http_error`` (a passing fault).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ouroboros.ai.director import Job
from ouroboros.ai.proposals import ProposalType
from ouroboros.cluster.jobs import JobQueue
from ouroboros.errors import LLM_ERROR_CODES, BadInputError, ClusterError, LlmError

LOW, NORMAL = 0, 5
#: the director's rules whose jobs wait while the workers lag (the rest are never deferred)
RULE_PRIORITY: Mapping[str, int] = {"chaos": LOW, "crowded": LOW, "challenge": LOW}
DEFAULT_LAG_LIMIT = 20
MAX_DEFERRED = 100


@dataclass
class _Held:
    job: Job
    context: dict[str, Any]
    narrative: dict[str, Any] | None


class GenOffload:
    """Submits a council's director jobs as ``gen`` jobs on ``queue`` (see the module docstring)."""

    def __init__(
        self, queue: JobQueue, lag_limit: int = DEFAULT_LAG_LIMIT, max_deferred: int = MAX_DEFERRED
    ) -> None:
        if isinstance(lag_limit, bool) or not isinstance(lag_limit, int) or lag_limit < 0:
            raise BadInputError(f"the lag limit must be a whole number, not {lag_limit!r}")
        self.queue = queue
        self.lag_limit = lag_limit
        self.max_deferred = max_deferred
        self.deferred: deque[_Held] = deque()

    @staticmethod
    def priority(job: Job) -> int:
        return RULE_PRIORITY.get(job.rule, NORMAL)

    @staticmethod
    def key(council: Any, job_id: str) -> str:
        return f"gen:{council.world}:{job_id}"

    def offer(
        self, council: Any, job: Job, context: Mapping[str, Any], narrative: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """Submit ``job`` (or defer it, or generate it here when the queue is away); its record."""
        held = _Held(job, dict(context), None if narrative is None else dict(narrative))
        if self.priority(job) <= LOW:
            lag = self._lag()
            if lag is not None and (self.deferred or lag > self.lag_limit):
                return self._defer(council, held, lag)
        return self._submit(council, held)

    def retry_deferred(self, council: Any) -> list[dict[str, Any]]:
        """Submit the deferred jobs, oldest first, while the lag stays within the limit."""
        out = []
        while self.deferred:
            lag = self._lag()
            if lag is None or lag > self.lag_limit:
                break
            out.append(self._submit(council, self.deferred.popleft()))
        return out

    def _lag(self) -> int | None:
        try:
            return self.queue.stats().lag
        except ClusterError:
            return None  # the queue is away: the submit below falls back to in-process

    def _defer(self, council: Any, held: _Held, lag: int) -> dict[str, Any]:
        job = held.job
        over = lag > self.lag_limit
        reason = f"deferred: lag {lag} > {self.lag_limit}" if over else "deferred: older jobs wait first"
        why = {"job_id": job.job_id, "rule": job.rule, "lag": lag, "limit": self.lag_limit, "why": reason}
        council.store.record_decision(job.tick, "council", "deferred", why, job.job_id, str(job.type))
        self.deferred.append(held)
        while len(self.deferred) > self.max_deferred:
            gone = self.deferred.popleft().job
            why = {"job_id": gone.job_id, "rule": gone.rule, "why": f"over {self.max_deferred} deferred jobs"}
            council.store.record_decision(job.tick, "council", "dropped", why, gone.job_id, str(gone.type))
        return {"job_id": job.job_id, "proposal_id": None, "state": "deferred", "reason": reason}

    def _submit(self, council: Any, held: _Held) -> dict[str, Any]:
        job = held.job
        payload = {
            "type": str(job.type),
            "seed": job.seed,
            "world": council.world,
            "context": held.context,
            "content": council.content(),
            "guardrails": council.require_guardrails().model_dump(mode="json"),
            "job": {**job.as_dict(), "narrative": held.narrative, "proposal_context": held.context},
        }
        key = self.key(council, job.job_id)
        try:
            fresh = self.queue.submit("gen", payload, key, priority=self.priority(job))
        except ClusterError as exc:
            why: dict[str, Any] = {
                "job_id": job.job_id,
                "error": exc.message,
                "why": "the queue is away: generated here",
            }
            store = council.store
            store.record_decision(job.tick, "council", "offload_failed", why, job.job_id, str(job.type))
            return dict(
                council.propose(
                    job.type, job.seed, held.context, job=job, queue=job.queue, narrative=held.narrative
                )
            )
        why = {"job_id": job.job_id, "key": key, "priority": self.priority(job)}
        council.store.record_decision(job.tick, "council", "offloaded", why, job.job_id, str(job.type))
        return {"job_id": job.job_id, "proposal_id": None, "state": "submitted" if fresh else "duplicate"}

    def drain(self, council: Any, effects: Any, limit: int = 100) -> list[dict[str, Any]]:
        """Turn the results written since ``effects``' cursor into proposals (each once)."""
        prefix = self.key(council, "")
        records: list[dict[str, Any]] = []

        def apply(key: str, result: dict[str, Any]) -> None:
            if not key.startswith(prefix) or "job" not in result:
                return  # another world's (or another submitter's) result
            doc = result["job"]
            job = Job(
                job_id=doc["job_id"],
                type=ProposalType(doc["type"]),
                seed=int(doc["seed"]),
                rule=doc["rule"],
                tick=int(doc["tick"]),
                context=dict(doc["context"]),
                queue=bool(doc["queue"]),
            )
            record = council.propose(
                job.type,
                job.seed,
                doc.get("proposal_context", job.context),
                job=job,
                queue=job.queue,
                narrative=doc.get("narrative"),
                generated=result["proposal"],
            )
            records.append(dict(record))

        effects.drain(self.queue, apply, limit)
        return records


class JobModel:
    """A model ``Provider`` answered by the ``llm`` workers (see the module docstring)."""

    def __init__(
        self,
        queue: JobQueue,
        world: str,
        *,
        poll_s: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[float], Any] | None = None,
    ) -> None:
        self.name = "jobs"
        self.queue = queue
        self.world = world
        self.poll_s = poll_s
        self.clock = clock
        self.wait = wait or threading.Event().wait

    def complete(self, request: Any) -> Any:
        from ouroboros.ai.jobs import llm_payload
        from ouroboros.ai.llm.base import LlmResponse

        key = f"llm:{self.world}:{uuid.uuid4().hex}"  # one call, one job (answers are not replayed)
        started = self.clock()
        try:
            self.queue.submit("llm", llm_payload(request), key, priority=NORMAL)
            while (result := self.queue.result(key)) is None:
                if self.clock() - started >= request.timeout_s:
                    why = f"no llm worker answered within {request.timeout_s:g} s"
                    raise LlmError(why, code="timeout", retryable=True)
                self.wait(self.poll_s)
        except ClusterError as exc:
            raise LlmError(f"the llm workers' queue: {exc.message}", code="http_error") from exc
        if not result.get("ok"):
            error = result.get("error") or {}
            code = str(error.get("code")) if error.get("code") in LLM_ERROR_CODES else "refused"
            raise LlmError(f"the llm worker: {error.get('message', 'failed')}", code=code)
        return LlmResponse(
            text=str(result.get("text", "")),
            data=result.get("data"),
            provider=f"jobs:{result.get('provider', '')}",
            model=str(result.get("model", "")),
            tokens_in=int(result.get("tokens_in", 0)),
            tokens_out=int(result.get("tokens_out", 0)),
            latency_ms=int((self.clock() - started) * 1000),
        )


class EvolveJobs:
    """The evolution loop's evaluator over ``evolve`` jobs (see the module docstring)."""

    def __init__(
        self,
        queue: JobQueue,
        world: str,
        *,
        poll_s: float = 0.1,
        wait: Callable[[float], Any] | None = None,
    ) -> None:
        self.queue = queue
        self.world = world
        self.poll_s = poll_s
        self.wait = wait or threading.Event().wait
        #: the keys of every job this evaluator submitted, oldest first (bounded)
        self.submitted: deque[str] = deque(maxlen=1000)

    @staticmethod
    def key_of(world: str, payload: Mapping[str, Any]) -> str:
        import hashlib
        import json

        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return f"evolve:{world}:{hashlib.sha256(text.encode()).hexdigest()[:32]}"

    def __call__(
        self,
        world: Any,
        content: Mapping[str, Any],
        config: Any,
        trait_id: str,
        version: str,
        sources: list[str],
        stopped: Callable[[], bool],
    ) -> list[Any]:
        from ouroboros.ai.evolution.cascade import Evaluation
        from ouroboros.ai.jobs import evolve_payload
        from ouroboros.errors import EvaluationStoppedError

        payloads = [evolve_payload(world, content, trait_id, version, src, config) for src in sources]
        keys = [self.key_of(self.world, p) for p in payloads]
        sent = [False] * len(keys)
        results: dict[str, dict[str, Any]] = {}
        while len(results) < len(keys):
            if stopped():
                raise EvaluationStoppedError("the cycle was stopped while its evolve jobs waited")
            try:
                for i, (key, payload) in enumerate(zip(keys, payloads, strict=True)):
                    if not sent[i]:
                        self.queue.submit("evolve", payload, key, priority=NORMAL)
                        sent[i] = True
                        self.submitted.append(key)
                for key in keys:
                    if key not in results and (got := self.queue.result(key)) is not None:
                        results[key] = got
            except ClusterError:
                pass  # Redis away: asked again at the next poll, within the cycle's budget
            if len(results) < len(keys):
                self.wait(self.poll_s)
        out = []
        for key in keys:
            doc = results[key].get("evaluation")
            if not isinstance(doc, dict):
                raise BadInputError(f"the evolve job {key} answered no evaluation")
            out.append(
                Evaluation(
                    ok=bool(doc["ok"]),
                    stage=str(doc["stage"]),
                    reasons=[dict(r) for r in doc.get("reasons", ())],
                    numbers={str(k): int(v) for k, v in dict(doc.get("numbers") or {}).items()},
                    fitness=int(doc.get("fitness", 0)),
                    cell=(int(doc["cell"][0]), int(doc["cell"][1])),
                )
            )
        return out


__all__ = ["DEFAULT_LAG_LIMIT", "LOW", "NORMAL", "RULE_PRIORITY", "EvolveJobs", "GenOffload", "JobModel"]
