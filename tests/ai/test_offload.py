"""Backpressure: the council hands its director's jobs to workers as ``gen`` jobs and, while the
workers lag, defers the low-priority ones — recorded as ``deferred: lag N > limit`` — submitting
them once the lag is back under the limit; the workers' results become the same proposals the
council would have made in-process, each once. The queue is the in-process one with its lag
scripted (the same contract as the Redis one)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from ouroboros.ai.council import Council
from ouroboros.ai.director import Job
from ouroboros.ai.generators import generate
from ouroboros.ai.jobs import gen_job
from ouroboros.ai.offload import LOW, GenOffload
from ouroboros.ai.proposals import ProposalType
from ouroboros.cluster import EffectLog, MemoryJobQueue, QueueStats, Worker
from ouroboros.content.rules import Guardrails
from ouroboros.errors import ClusterError
from ouroboros.patches import Governor
from tests.ai.test_queue import NEON

HQ = {"kind": "faction_without_hq", "faction": "neon.faction.chrome_jackals", "members": 4}
CROWD = {"kind": "crowded_sector", "sector": "neon.zone.night_market", "players": 9}


class ScriptedLag(MemoryJobQueue):
    """The in-process queue, its lag raised by ``extra`` (jobs some other submitter queued)."""

    def __init__(self) -> None:
        super().__init__()
        self.extra = 0
        self.away = False

    def stats(self) -> QueueStats:
        if self.away:
            raise ClusterError("redis is unreachable: scripted")
        s = super().stats()
        return QueueStats(s.waiting + self.extra, s.running, s.dead, s.results, s.consumers)

    def submit(self, kind: str, payload: Any, key: str, priority: int = 0) -> bool:
        if self.away:
            raise ClusterError("redis is unreachable: scripted")
        return super().submit(kind, payload, key, priority)


@pytest.fixture
def gov(tmp_path: Path) -> Iterator[Governor]:
    governor = Governor(tmp_path / "data", world_defaults=NEON, environ={})
    governor.new_key("op", ["*"])
    yield governor
    governor.close()


def _decisions(council: Council, outcome: str) -> list[dict[str, Any]]:
    return [d for d in council.store.decisions(200) if d["outcome"] == outcome]


def test_low_priority_generation_waits_while_the_workers_lag(gov: Governor, tmp_path: Path) -> None:
    queue = ScriptedLag()
    with Council(gov.data, gov, world="neon") as council:
        council.director.set("chaos", 0, "test")
        council.director.set("human_in_the_loop", True, "test")
        council.offload = GenOffload(queue, lag_limit=3)
        queue.extra = 5
        records = council.step([HQ, CROWD], {}, 10)
        assert [r["state"] for r in records] == ["submitted", "deferred"]
        assert records[1]["reason"] == "deferred: lag 6 > 3"  # 5 elsewhere + the hq job just queued
        [deferred] = _decisions(council, "deferred")
        why = deferred["why"] if isinstance(deferred["why"], dict) else json.loads(deferred["why"])
        assert (why["why"], why["rule"], why["lag"], why["limit"]) == ("deferred: lag 6 > 3", "crowded", 6, 3)
        assert queue.stats().waiting - queue.extra == 1  # only the hq job went to the workers
        assert council.step([], {}, 11) == []  # still lagging: it keeps waiting, recorded once
        assert len(_decisions(council, "deferred")) == 1
        queue.extra = 0
        (retried,) = council.step([], {}, 12)  # the lag fell: the deferred job goes now
        assert retried["state"] == "submitted" and retried["job_id"] == records[1]["job_id"]

        worker = Worker(queue, {"gen": gen_job}, "w1")
        assert [o.status for o in (worker.run_once(0), worker.run_once(0)) if o] == ["done", "done"]
        effects = EffectLog(tmp_path / "effects.db")
        made = council.apply_results(effects)
        assert [r["state"] for r in made] == ["queued", "queued"]
        assert [r["job"]["rule"] for r in made] == ["hq", "crowded"]
        assert council.apply_results(effects) == []  # each result takes effect once
        assert len(council.queue.list("queued")) == 2
        for record in made:  # what the worker generated is what the council would have
            here = generate(
                record["type"],
                record["seed"],
                world="neon",
                content=council.content(),
                guardrails=Guardrails(),
                context=record["job"]["context"],
            )
            assert record["proposal_id"] == here.proposal_id
        effects.close()


def test_with_the_queue_away_the_council_generates_in_process(gov: Governor) -> None:
    queue = ScriptedLag()
    queue.away = True
    with Council(gov.data, gov, world="neon") as council:
        council.director.set("chaos", 0, "test")
        council.offload = GenOffload(queue, lag_limit=3)
        (record,) = council.step([CROWD], {}, 4)
        assert record["state"] == "queued" and record["proposal_id"]
        assert _decisions(council, "offload_failed")


class _FakeCouncil:
    """What ``GenOffload`` asks of a council (unit test: the offload's own bookkeeping)."""

    world = "neon"

    def __init__(self) -> None:
        self.decisions: list[tuple[str, dict[str, Any]]] = []
        self.store = self

    def record_decision(self, tick: int, rule: str, outcome: str, why: dict[str, Any], *_: Any) -> None:
        self.decisions.append((outcome, why))

    def content(self) -> None:
        return None

    def require_guardrails(self) -> Guardrails:
        return Guardrails()


class Backpressure(RuleBasedStateMachine):
    """Any run of lags and jobs: a normal job is submitted at once; a low one is submitted only
    while the lag is within the limit and no older low one waits; deferred ones go in order; none
    is lost (the bound is never reached here) and each deferral is recorded once."""

    LIMIT = 2

    def __init__(self) -> None:
        super().__init__()
        self.queue = ScriptedLag()
        self.council = _FakeCouncil()
        self.offload = GenOffload(self.queue, lag_limit=self.LIMIT)
        self.n = 0
        self.submitted: list[str] = []
        self.low_order: list[str] = []

    def _job(self, rule_name: str) -> Job:
        self.n += 1
        return Job(f"job-{self.n}", ProposalType.BUILDING, self.n, rule_name, self.n, {"district": "x"})

    def _took(self, records: list[dict[str, Any]]) -> None:
        self.submitted += [r["job_id"] for r in records if r["state"] == "submitted"]

    @rule(extra=st.integers(0, 6))
    def lag_changes(self, extra: int) -> None:
        self.queue.extra = extra

    @rule(low=st.booleans())
    def the_director_asks(self, low: bool) -> None:
        job = self._job("crowded" if low else "hq")
        lag_before = self.queue.stats().lag
        waiting = len(self.offload.deferred)
        record = self.offload.offer(self.council, job, job.context, None)
        if not low:
            assert record["state"] == "submitted"
        else:
            self.low_order.append(job.job_id)
            free = lag_before <= self.LIMIT and waiting == 0
            assert record["state"] == ("submitted" if free else "deferred")
        self._took([record])

    @rule()
    def a_step_retries(self) -> None:
        records = self.offload.retry_deferred(self.council)
        self._took(records)
        if self.offload.deferred:
            assert self.queue.stats().lag > self.LIMIT

    @rule()
    def workers_catch_up(self) -> None:
        while (job := self.queue.claim("w")) is not None:
            self.queue.complete(job, {"ok": True})

    @invariant()
    def low_jobs_go_in_order_and_none_is_lost(self) -> None:
        gone = [k for k in self.submitted if k in self.low_order]
        held = [h.job.job_id for h in self.offload.deferred]
        assert gone + held == self.low_order
        deferred = [w["job_id"] for o, w in self.council.decisions if o == "deferred"]
        assert len(deferred) == len(set(deferred))  # each deferral recorded once
        assert set(held) <= set(deferred)
        assert all(w["why"].startswith("deferred: ") for o, w in self.council.decisions if o == "deferred")


Backpressure.TestCase.settings = settings(
    max_examples=60, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_backpressure = Backpressure.TestCase


def test_priorities() -> None:
    assert GenOffload.priority(Job("j", ProposalType.EVENT, 1, "chaos", 1)) == LOW
    assert GenOffload.priority(Job("j", ProposalType.BUILDING, 1, "hq", 1)) > LOW
