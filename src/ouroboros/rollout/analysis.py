"""Judging one analysis window of a rollout, after Flagger and Argo Rollouts. Pure: no I/O.

A window is ``W`` ticks. For each arm — the treatment (the new version) and the control (the
stable one) — the KPI source reports an ``ArmWindow`` of raw counts; ``metrics`` turns them into
the five metrics a check reads:

================================  ==================================================  ==========
metric                            from                                                worse when
================================  ==================================================  ==========
``faults_per_1000_ticks``         script faults + tick exceptions per 1,000 ticks     higher
``tick_p99_over_budget_ms``       the arm's tick p99 minus the tick budget            higher
``money_supply_growth_permille``  (money at the end - at the start) ‰ of the start    higher
``moderation_per_1000_minutes``   banned-term hits + economic-guard holds per 1,000   higher
                                  player-minutes
``quest_completion_permille``     quests completed ‰ of quests started                lower
================================  ==================================================  ==========

A ``Check`` fails on an absolute ``limit`` for the treatment, or on a ``margin`` by which the
treatment may be worse than the control (money supply growth is thus "treatment minus control").
Rules, in the order ``judge`` applies them:

1. **Hard guards** (a tick thread crash, a broken invariant, an active bundle that no longer
   verifies) decide at once: ``HARD_GUARD``, whatever the numbers.
2. **Unreadable data** (an arm the source could not read) is ``FAIL``: every check fails.
3. **Too few exposures** in either arm (players, or entities for a world without players) is
   ``INSUFFICIENT``: the stage holds, it neither promotes nor counts a failure.
4. **A missing metric is a failed check** (a count the source did not report, or a rate whose
   denominator is zero): nothing promotes blind.
5. One failed check makes the window ``FAIL``; otherwise ``PASS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from ouroboros.errors import BadInputError

#: hard guards: any one of them rolls back at once
TICK_THREAD_CRASH = "tick_thread_crash"
INVARIANT_BROKEN = "invariant_broken"
BUNDLE_UNVERIFIED = "bundle_unverified"
HARD_GUARDS = frozenset({TICK_THREAD_CRASH, INVARIANT_BROKEN, BUNDLE_UNVERIFIED})

METRICS = (
    "faults_per_1000_ticks",
    "tick_p99_over_budget_ms",
    "money_supply_growth_permille",
    "moderation_per_1000_minutes",
    "quest_completion_permille",
)
HIGHER_IS_BETTER = frozenset({"quest_completion_permille"})


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INSUFFICIENT = "insufficient_data"
    HARD_GUARD = "hard_guard"


@dataclass(frozen=True)
class ArmWindow:
    """Raw counts of one arm over one window. ``None``: the source did not report it."""

    exposures: int
    ticks: int | None = None
    faults: int | None = None
    tick_p99_ms: float | None = None
    tick_budget_ms: float | None = None
    money_start: int | None = None
    money_end: int | None = None
    moderation_incidents: int | None = None
    player_minutes: float | None = None
    quests_started: int | None = None
    quests_completed: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> ArmWindow:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(doc) - known)
        if unknown:
            raise BadInputError(f"unknown arm metric {unknown[0]!r}")
        if not isinstance(doc.get("exposures"), int) or isinstance(doc.get("exposures"), bool):
            raise BadInputError("an arm window needs an integer 'exposures'")
        for name, value in doc.items():
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise BadInputError(f"arm metric {name!r} must be a number or null, not {value!r}")
        return cls(**dict(doc))


@dataclass(frozen=True)
class WindowSample:
    """What the KPI source read for one window: both arms (``None``: unreadable) and the hard
    guards that fired during it."""

    start_tick: int
    end_tick: int
    treatment: ArmWindow | None
    control: ArmWindow | None
    guards: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Check:
    """A metric's limits: ``limit`` on the treatment's own value, ``margin`` on how much worse than
    the control it may be (in the metric's unit). ``None``: that side is not checked."""

    metric: str
    limit: float | None = None
    margin: float | None = None

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise BadInputError(f"unknown rollout metric {self.metric!r} (known: {', '.join(METRICS)})")
        if self.limit is None and self.margin is None:
            raise BadInputError(f"the check on {self.metric} needs a limit or a margin")

    def as_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "limit": self.limit, "margin": self.margin}


#: the checks a rollout runs unless told otherwise
DEFAULT_CHECKS: tuple[Check, ...] = (
    Check("faults_per_1000_ticks", limit=5.0, margin=1.0),
    Check("tick_p99_over_budget_ms", limit=0.0),
    Check("money_supply_growth_permille", margin=20.0),
    Check("moderation_per_1000_minutes", margin=5.0),
    Check("quest_completion_permille", margin=100.0),
)


@dataclass(frozen=True)
class CheckResult:
    metric: str
    treatment: float | None
    control: float | None
    limit: float | None
    margin: float | None
    passed: bool
    why: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "treatment": self.treatment,
            "control": self.control,
            "limit": self.limit,
            "margin": self.margin,
            "passed": self.passed,
            "why": self.why,
        }


@dataclass(frozen=True)
class WindowVerdict:
    start_tick: int
    end_tick: int
    outcome: Outcome
    checks: tuple[CheckResult, ...]
    exposures: tuple[int | None, int | None]  # treatment, control
    guards: tuple[str, ...] = ()
    why: str = ""

    @property
    def failed(self) -> tuple[str, ...]:
        """The checks (or guards) that fired."""
        if self.outcome is Outcome.HARD_GUARD:
            return self.guards
        return tuple(c.metric for c in self.checks if not c.passed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "start_tick": self.start_tick,
            "end_tick": self.end_tick,
            "outcome": str(self.outcome),
            "checks": [c.as_dict() for c in self.checks],
            "exposures": {"treatment": self.exposures[0], "control": self.exposures[1]},
            "guards": list(self.guards),
            "failed": list(self.failed),
            "why": self.why,
        }


def _rate(numerator: float | None, denominator: float | None, per: float) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator * per / denominator


def metrics(arm: ArmWindow | None) -> dict[str, float | None]:
    """The five metrics of one arm; ``None`` where the counts behind one are missing."""
    if arm is None:
        return dict.fromkeys(METRICS)
    faults = _rate(arm.faults, arm.ticks, 1000.0)
    over = (
        None
        if arm.tick_p99_ms is None or arm.tick_budget_ms is None
        else max(0.0, arm.tick_p99_ms - arm.tick_budget_ms)
    )
    growth = (
        None
        if arm.money_start is None or arm.money_end is None
        else _rate(arm.money_end - arm.money_start, arm.money_start, 1000.0)
    )
    moderation = _rate(arm.moderation_incidents, arm.player_minutes, 1000.0)
    quests = _rate(arm.quests_completed, arm.quests_started, 1000.0)
    return {
        "faults_per_1000_ticks": faults,
        "tick_p99_over_budget_ms": over,
        "money_supply_growth_permille": growth,
        "moderation_per_1000_minutes": moderation,
        "quest_completion_permille": quests,
    }


def run_check(check: Check, treatment: float | None, control: float | None) -> CheckResult:
    """One check on one window's metric. A value the check needs and lacks fails it."""

    def result(passed: bool, why: str) -> CheckResult:
        return CheckResult(check.metric, treatment, control, check.limit, check.margin, passed, why)

    higher = check.metric in HIGHER_IS_BETTER
    if treatment is None:
        return result(False, "missing metric in the treatment")
    if check.limit is not None and (treatment < check.limit if higher else treatment > check.limit):
        side = "below" if higher else "over"
        return result(False, f"treatment {treatment:g} {side} the limit {check.limit:g}")
    if check.margin is not None:
        if control is None:
            return result(False, "missing metric in the control")
        worse_by = control - treatment if higher else treatment - control
        if worse_by > check.margin:
            return result(False, f"treatment worse than control by {worse_by:g} (margin {check.margin:g})")
    return result(True, "ok")


def judge(sample: WindowSample, checks: tuple[Check, ...], min_exposures: int) -> WindowVerdict:
    """The verdict on one window (see the module docstring for the rules and their order)."""
    t_exp = None if sample.treatment is None else sample.treatment.exposures
    c_exp = None if sample.control is None else sample.control.exposures
    span = (sample.start_tick, sample.end_tick)
    guards = tuple(sorted(sample.guards))
    if guards:
        return WindowVerdict(
            *span, Outcome.HARD_GUARD, (), (t_exp, c_exp), guards, f"hard guard: {', '.join(guards)}"
        )
    t_metrics, c_metrics = metrics(sample.treatment), metrics(sample.control)
    results = tuple(run_check(c, t_metrics[c.metric], c_metrics[c.metric]) for c in checks)
    if sample.treatment is None or sample.control is None:
        arm = "treatment" if sample.treatment is None else "control"
        return WindowVerdict(
            *span, Outcome.FAIL, results, (t_exp, c_exp), (), f"the {arm} data is unreadable"
        )
    if t_exp is not None and c_exp is not None and min(t_exp, c_exp) < min_exposures:
        why = f"insufficient data: exposures {t_exp} treatment, {c_exp} control (need {min_exposures} each)"
        return WindowVerdict(*span, Outcome.INSUFFICIENT, results, (t_exp, c_exp), (), why)
    failed = [r for r in results if not r.passed]
    if failed:
        why = "; ".join(f"{r.metric}: {r.why}" for r in failed)
        return WindowVerdict(*span, Outcome.FAIL, results, (t_exp, c_exp), (), why)
    return WindowVerdict(*span, Outcome.PASS, results, (t_exp, c_exp), (), "every check passed")


__all__ = [
    "BUNDLE_UNVERIFIED",
    "DEFAULT_CHECKS",
    "HARD_GUARDS",
    "INVARIANT_BROKEN",
    "METRICS",
    "TICK_THREAD_CRASH",
    "ArmWindow",
    "Check",
    "CheckResult",
    "Outcome",
    "WindowSample",
    "WindowVerdict",
    "judge",
    "metrics",
    "run_check",
]
