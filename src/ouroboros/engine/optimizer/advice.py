"""Decision support: an injected advisor ranks the rule-based candidates and predicts a regression
risk for each, off the tick thread. It never decides: the rules do, and the advice is logged
beside each decision, or why there was none (``absent``, ``late``, ``failed``).

An ``Advisor`` is any callable from a ``ProfileSummary`` to an ``Advice``; the engine imports no
advisor (``ouroboros.ai.optimizer_advisor`` has two). An ``AdviceRequest`` runs one on a daemon
thread and is only ever *looked at* by the tick thread, never waited for: what is not there when
a decision is taken is ``late``, and an answer that came after ``advisor_timeout_ms`` on the
world's clock is ``late`` too. What an advisor answers is checked here again: an unknown
candidate id or a risk outside 0..1 is dropped, with the reason, into ``ignored``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ouroboros.engine.clock import Clock

__all__ = ["Advice", "AdviceRequest", "Advisor", "CandidateFigures", "ProfileSummary", "Risk"]


@dataclass(frozen=True)
class CandidateFigures:
    """One rule-based candidate as an advisor sees it."""

    id: str  # "system=variant"
    system: str
    variant: str
    kind: str  # the variant's kind ("python", "numpy", "numba", "layout", ...)
    size: int  # entities the system works over
    current_ms: float  # the current variant's recent time
    expected_ms: float | None  # the candidate's measured or predicted time here (None: unmeasured)
    cost_ms: float  # what guarding it is predicted to add to a tick
    spread: float | None  # relative spread (stdev / mean) of its times measured here
    past: Mapping[str, int]  # its earlier outcomes by kind: switch, keep, abort, guard_failed
    why: str  # the rule that let it through
    chosen: bool  # whether the rules guard it now (the others wait for a later check)


@dataclass(frozen=True)
class ProfileSummary:
    """What an advisor is told: the tick, each system's time, and the candidates."""

    tick: int
    tick_ms: float
    systems: Mapping[str, float]  # ms a tick, per system with variants
    candidates: tuple[CandidateFigures, ...]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.candidates)


@dataclass(frozen=True)
class Risk:
    risk: float  # 0..1: how likely the candidate fails its parity guard or regresses
    reason: str  # one line


@dataclass(frozen=True)
class Advice:
    advisor: str
    ranking: tuple[str, ...]  # candidate ids, best first
    risks: Mapping[str, Risk] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()  # what the advisor said that was not usable, and why

    def checked(self, ids: tuple[str, ...]) -> Advice:
        """This advice with anything about a candidate not in ``ids``, a repeated id, or a risk
        outside 0..1 moved to ``ignored``."""
        known, ignored = set(ids), list(self.ignored)
        ranking: list[str] = []
        for cid in self.ranking:
            if cid not in known or cid in ranking:
                ignored.append(f"ranking: {'unknown' if cid not in known else 'repeated'} candidate {cid!r}")
            else:
                ranking.append(cid)
        risks: dict[str, Risk] = {}
        for cid, r in self.risks.items():
            ok = isinstance(r.risk, (int, float)) and not isinstance(r.risk, bool) and math.isfinite(r.risk)
            if cid not in known:
                ignored.append(f"risk: unknown candidate {cid!r}")
            elif not ok or not 0 <= r.risk <= 1:
                ignored.append(f"risk of {cid}: {r.risk!r} is outside 0..1")
            else:
                risks[cid] = Risk(float(r.risk), " ".join(str(r.reason).split())[:200])
        return Advice(self.advisor, tuple(ranking), risks, tuple(ignored))


Advisor = Callable[[ProfileSummary], Advice]


class AdviceRequest:
    """One question to an advisor, answered on its own thread."""

    def __init__(self, advisor: Advisor, summary: ProfileSummary, clock: Clock, timeout_ms: float) -> None:
        self.summary = summary
        self.name = str(getattr(advisor, "name", type(advisor).__name__))
        self._clock = clock
        self.asked_at = clock()
        self.deadline = self.asked_at + round(timeout_ms * 1e6)
        self.timeout_ms = timeout_ms
        self.logged_late = False  # whether a late answer was logged once it came
        self._advice: Advice | None = None
        self._error: str | None = None
        self._done_at: int | None = None
        self._done = threading.Event()
        threading.Thread(target=self._run, args=(advisor,), name="optimizer-advisor", daemon=True).start()

    def _run(self, advisor: Advisor) -> None:
        try:
            advice = advisor(self.summary)
            if not isinstance(advice, Advice):
                raise TypeError(f"an advisor returns Advice, not {type(advice).__name__}")
            self._advice = advice.checked(self.summary.ids)
        except Exception as exc:  # an advisor is outside code: its failure is logged, never raised
            self._error = f"{type(exc).__name__}: {exc}"[:300]
        finally:
            self._done_at = self._clock()
            self._done.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout_s: float) -> bool:
        """Block up to ``timeout_s`` for the answer (tests and tools; the tick never waits)."""
        return self._done.wait(timeout_s)

    def in_time(self) -> bool:
        return self.done and self._done_at is not None and self._done_at <= self.deadline

    def about(self, candidate: str) -> dict[str, Any]:
        """What to log beside a decision on ``candidate``, as it stands now."""
        head: dict[str, Any] = {"advisor": self.name}
        if not self.done or not self.in_time():
            waited = (self._clock() - self.asked_at) / 1e6
            return {
                **head,
                "status": "late",
                "why": f"no answer in time ({waited:.1f} ms since asked, timeout {self.timeout_ms:.0f} ms);"
                " decided by the rules alone",
            }
        if self._error is not None or self._advice is None:
            return {**head, "status": "failed", "why": f"{self._error}; decided by the rules alone"}
        return {"advisor": self._advice.advisor, **describe(self._advice, candidate)}

    def answer(self) -> dict[str, Any] | None:
        """The whole advice once it came (ranking, risks, ignored), else ``None``."""
        if not self.done:
            return None
        if self._advice is None:
            return {"advisor": self.name, "status": "failed", "why": self._error}
        a = self._advice
        return {
            "advisor": a.advisor,
            "status": "ok" if self.in_time() else "late",
            "ranking": list(a.ranking),
            "risks": {k: {"risk": r.risk, "reason": r.reason} for k, r in a.risks.items()},
            **({"ignored": list(a.ignored)} if a.ignored else {}),
        }


def describe(advice: Advice, candidate: str) -> dict[str, Any]:
    """One candidate's rank, risk and reason in ``advice`` (``absent`` when it has none)."""
    out: dict[str, Any] = {"status": "ok"}
    if candidate in advice.ranking:
        out["rank"] = advice.ranking.index(candidate) + 1
        out["of"] = len(advice.ranking)
    risk = advice.risks.get(candidate)
    if risk is not None:
        out["risk"] = round(risk.risk, 3)
        out["reason"] = risk.reason
    if "rank" not in out and risk is None:
        out = {"status": "absent", "why": "the advisor said nothing of this candidate"}
    if advice.ignored:
        out["ignored"] = list(advice.ignored)
    return out


def absent(why: str) -> dict[str, Any]:
    return {"status": "absent", "why": why}
