"""The rollout state machine, and the controller that drives it with a clock and a KPI source.

::

    pending ─▶ stage 0 ─▶ stage 1 ─▶ … ─▶ complete        (the last stage: everyone)
                  │  ▲        │
                  ▼  │        ├─▶ rolled_back            (failed windows ≥ threshold, or a hard guard)
                paused        └─▶ aborted                (by an operator, from any live phase)

``RolloutState`` is frozen data and every transition is a pure function returning the new state
and the ``Event``s to record (``store`` writes them to the ledger, one transaction per call).

What it promises:

- **Promotion only on evidence.** A stage promotes after ``windows_per_stage`` passing windows in
  a row; a failed window resets that count. A window with too few exposures holds the stage.
- **Rollback on breach.** Every failed window adds one to ``failed_checks``; at ``threshold`` the
  rollout is rolled back, and the rollback names the checks that fired. A hard guard rolls back
  at once, in a window or between two (``guard``).
- **Fail safe.** While frozen (the kill-switch is engaged) or inconsistent (the stored state and
  the ledger disagree, the active version moved under the rollout), windows are still judged and
  a breach still rolls back, but nothing promotes — not even an admin's forced promotion.
  Unreadable KPI data is a failed window. Paused is an operator's freeze: the same holds.
- **Terminal is terminal.** ``complete``, ``rolled_back`` and ``aborted`` accept nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol

from ouroboros.errors import BadInputError, PatchError
from ouroboros.rollout.analysis import Outcome, WindowSample, WindowVerdict, judge
from ouroboros.rollout.plan import RolloutPlan


class Phase(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETE = "complete"
    ROLLED_BACK = "rolled_back"
    ABORTED = "aborted"


TERMINAL = frozenset({Phase.COMPLETE, Phase.ROLLED_BACK, Phase.ABORTED})
LIVE = frozenset({Phase.RUNNING, Phase.PAUSED})

#: event kinds, also the ledger entry kinds ``store`` writes
STAGE = "rollout_stage"
WINDOW = "rollout_window"
ROLLBACK = "rollout_rollback"
PHASE = "rollout_phase"


@dataclass(frozen=True)
class RolloutState:
    rollout_id: str
    patch_id: str
    rollback_target_id: str | None  # the stable version the control runs and a rollback returns to
    plan: RolloutPlan
    phase: Phase = Phase.PENDING
    stage: int = -1  # index into plan.stages_bp; -1 before the first
    window_start: int = -1  # the tick the current window began; -1: the driver's next poll anchors it
    passed_in_stage: int = 0
    failed_checks: int = 0
    windows: int = 0
    last_outcome: str | None = None
    reason: str = ""

    @property
    def pct_bp(self) -> int:
        """The treatment's share now: 0 unless the rollout is live or complete."""
        if self.phase in LIVE or self.phase is Phase.COMPLETE:
            return self.plan.stages_bp[self.stage]
        return 0

    @property
    def terminal(self) -> bool:
        return self.phase in TERMINAL

    def as_dict(self) -> dict[str, Any]:
        return {
            "rollout_id": self.rollout_id,
            "patch_id": self.patch_id,
            "rollback_target_id": self.rollback_target_id,
            "plan": self.plan.as_dict(),
            "phase": str(self.phase),
            "stage": self.stage,
            "pct_bp": self.pct_bp,
            "window_start": self.window_start,
            "passed_in_stage": self.passed_in_stage,
            "failed_checks": self.failed_checks,
            "windows": self.windows,
            "last_outcome": self.last_outcome,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> RolloutState:
        try:
            state = cls(
                str(doc["rollout_id"]),
                str(doc["patch_id"]),
                doc["rollback_target_id"],
                RolloutPlan.from_dict(doc["plan"]),
                Phase(doc["phase"]),
                int(doc["stage"]),
                int(doc["window_start"]),
                int(doc["passed_in_stage"]),
                int(doc["failed_checks"]),
                int(doc["windows"]),
                doc["last_outcome"],
                str(doc["reason"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BadInputError(f"a stored rollout state is malformed: {exc}") from exc
        if not -1 <= state.stage < len(state.plan.stages_bp):
            raise BadInputError(f"a stored rollout state names stage {state.stage}, which its plan lacks")
        return state


@dataclass(frozen=True)
class Event:
    kind: str
    before: str
    after: str
    reason: str
    evidence: Mapping[str, Any] = field(default_factory=dict)


def _stage_name(state: RolloutState) -> str:
    if state.phase is Phase.PENDING:
        return "pending"
    if state.phase in LIVE:
        return f"stage {state.stage} ({state.pct_bp / 100:g}%)"
    return str(state.phase)


def _moved(before: RolloutState, after: RolloutState, kind: str, reason: str, **evidence: Any) -> Event:
    return Event(kind, _stage_name(before), _stage_name(after), reason, evidence)


def _refuse(state: RolloutState, what: str, code: str = "rollout_illegal") -> PatchError:
    return PatchError(f"rollout {state.rollout_id} is {_stage_name(state)}: cannot {what}", code=code)


# -- transitions -----------------------------------------------------------------------------------
def start(state: RolloutState, tick: int) -> tuple[RolloutState, list[Event]]:
    if state.phase is not Phase.PENDING:
        raise _refuse(state, "start again")
    after = replace(state, phase=Phase.RUNNING, stage=0, window_start=tick, reason="started")
    return after, [_moved(state, after, STAGE, "started", pct_bp=after.pct_bp, tick=tick)]


def _promote(state: RolloutState, reason: str, tick: int) -> tuple[RolloutState, list[Event]]:
    nxt = state.stage + 1
    last = nxt == len(state.plan.stages_bp) - 1
    after = replace(
        state,
        stage=nxt,
        phase=Phase.COMPLETE if last else state.phase,
        passed_in_stage=0,
        window_start=tick,
        reason=reason,
    )
    return after, [_moved(state, after, STAGE, reason, pct_bp=after.pct_bp, tick=tick)]


def _roll_back(
    state: RolloutState, fired: tuple[str, ...], reason: str, tick: int
) -> tuple[RolloutState, list[Event]]:
    after = replace(state, phase=Phase.ROLLED_BACK, reason=reason)
    event = _moved(
        state,
        after,
        ROLLBACK,
        reason,
        fired=list(fired),
        to=state.rollback_target_id,
        failed_checks=state.failed_checks,
        tick=tick,
    )
    return after, [event]


def hold_reason(state: RolloutState, *, frozen: bool, consistent: bool) -> str | None:
    """Why nothing may promote now (``None``: it may)."""
    if not consistent:
        return "the rollout's stored state disagrees with the ledger: promotion denied"
    if frozen:
        return "the kill-switch is engaged: the rollout is frozen where it stands"
    if state.phase is Phase.PAUSED:
        return "paused by an operator"
    if state.phase is not Phase.RUNNING:
        return f"the rollout is {state.phase}"
    return None


def on_window(
    state: RolloutState, verdict: WindowVerdict, *, frozen: bool = False, consistent: bool = True
) -> tuple[RolloutState, list[Event]]:
    """Apply one judged window (see the module docstring)."""
    if state.phase not in LIVE:
        raise _refuse(state, "judge a window")
    outcome = verdict.outcome
    judged = replace(
        state, windows=state.windows + 1, window_start=verdict.end_tick, last_outcome=str(outcome)
    )
    if outcome is Outcome.FAIL:
        judged = replace(judged, failed_checks=state.failed_checks + 1, passed_in_stage=0)
    elif outcome is Outcome.PASS:
        judged = replace(judged, passed_in_stage=state.passed_in_stage + 1)
    events = [
        Event(
            WINDOW,
            _stage_name(state),
            str(outcome),
            verdict.why,
            {**verdict.as_dict(), "failed_checks": judged.failed_checks, "stage": state.stage},
        )
    ]
    tick = verdict.end_tick
    if outcome is Outcome.HARD_GUARD:
        after, more = _roll_back(judged, verdict.failed, f"hard guard: {', '.join(verdict.failed)}", tick)
        return after, events + more
    if outcome is Outcome.FAIL and judged.failed_checks >= state.plan.threshold:
        why = f"{judged.failed_checks} failed windows (threshold {state.plan.threshold}); last: {verdict.why}"
        after, more = _roll_back(judged, verdict.failed, why, tick)
        return after, events + more
    if outcome is Outcome.PASS and judged.passed_in_stage >= state.plan.windows_per_stage:
        held = hold_reason(judged, frozen=frozen, consistent=consistent)
        if held is None:
            after, more = _promote(judged, f"{judged.passed_in_stage} passing windows", tick)
            return after, events + more
        return replace(judged, reason=held), events
    return replace(judged, reason=verdict.why), events


def guard(state: RolloutState, name: str, tick: int) -> tuple[RolloutState, list[Event]]:
    """A hard guard fired between windows: roll back now."""
    if state.phase not in LIVE:
        raise _refuse(state, "roll back")
    return _roll_back(state, (name,), f"hard guard: {name}", tick)


def promote(
    state: RolloutState, tick: int, *, force: bool = False, frozen: bool = False, consistent: bool = True
) -> tuple[RolloutState, list[Event]]:
    """An operator's promotion: allowed after a passing window; ``force`` (an admin's, with TOTP)
    skips the analysis, never the kill-switch nor a state that disagrees."""
    if state.phase not in LIVE:
        raise _refuse(state, "promote")
    if not consistent:
        raise PatchError(
            hold_reason(state, frozen=frozen, consistent=False) or "", code="rollout_inconsistent"
        )
    if frozen:
        raise PatchError(hold_reason(state, frozen=True, consistent=True) or "", code="killswitch_engaged")
    if state.phase is Phase.PAUSED:
        raise _refuse(state, "promote (resume it first)")
    if not force and state.last_outcome != str(Outcome.PASS):
        raise PatchError(
            f"rollout {state.rollout_id}: the last window is {state.last_outcome or 'not judged yet'}, "
            "not a pass; only a forced promotion (admin) skips the analysis",
            code="rollout_not_passing",
        )
    return _promote(state, "forced promotion" if force else "promoted by an operator", tick)


def pause(state: RolloutState, reason: str) -> tuple[RolloutState, list[Event]]:
    if state.phase is not Phase.RUNNING:
        raise _refuse(state, "pause")
    after = replace(state, phase=Phase.PAUSED, reason=reason)
    return after, [Event(PHASE, _stage_name(state), str(Phase.PAUSED), reason)]


def resume(state: RolloutState, reason: str) -> tuple[RolloutState, list[Event]]:
    if state.phase is not Phase.PAUSED:
        raise _refuse(state, "resume")
    after = replace(state, phase=Phase.RUNNING, reason=reason)
    return after, [Event(PHASE, str(Phase.PAUSED), _stage_name(after), reason)]


def abort(state: RolloutState, reason: str) -> tuple[RolloutState, list[Event]]:
    if state.terminal:
        raise _refuse(state, "abort")
    after = replace(state, phase=Phase.ABORTED, reason=reason)
    return after, [
        Event(PHASE, _stage_name(state), str(Phase.ABORTED), reason, {"to": state.rollback_target_id})
    ]


# -- the driver ------------------------------------------------------------------------------------
class KpiSource(Protocol):
    def window(self, state: RolloutState, start_tick: int, end_tick: int) -> WindowSample | None:
        """Both arms' counts over ``[start_tick, end_tick)``; ``None`` or an error: unreadable."""


Sink = Callable[[RolloutState, RolloutState, list[Event]], None]


class Controller:
    """Drives one rollout: ``poll()`` judges every window the tick ``clock`` has completed;
    ``sink(before, after, events)`` records each transition (if it raises, the state stays)."""

    def __init__(
        self,
        state: RolloutState,
        kpis: KpiSource,
        clock: Callable[[], int],
        sink: Sink,
        *,
        frozen: Callable[[], bool] = lambda: False,
        consistent: Callable[[], bool] = lambda: True,
    ) -> None:
        self.state = state
        self.kpis = kpis
        self.clock = clock
        self.sink = sink
        self.frozen = frozen
        self.consistent = consistent

    def _apply(self, change: tuple[RolloutState, list[Event]]) -> RolloutState:
        after, events = change
        self.sink(self.state, after, events)
        self.state = after
        return after

    def _read(self, start: int, end: int) -> WindowSample:
        try:
            sample = self.kpis.window(self.state, start, end)
        except Exception:  # whatever broke: unreadable data is a failed window
            return _unreadable(start, end)
        return sample if sample is not None else _unreadable(start, end)

    def poll(self) -> RolloutState:
        """Judge every complete window up to the clock's tick, in order."""
        now = self.clock()
        if self.state.phase in LIVE and self.state.window_start < 0:  # (re)started: anchor, unrecorded
            self.state = replace(self.state, window_start=now)
        while self.state.phase in LIVE:
            start = self.state.window_start
            end = start + self.state.plan.window_ticks
            if now < end:
                break
            verdict = judge(self._read(start, end), self.state.plan.checks, self.state.plan.min_exposures)
            self._apply(on_window(self.state, verdict, frozen=self.frozen(), consistent=self.consistent()))
        return self.state

    def start(self) -> RolloutState:
        return self._apply(start(self.state, self.clock()))

    def guard(self, name: str) -> RolloutState:
        return self._apply(guard(self.state, name, self.clock()))

    def promote(self, *, force: bool = False) -> RolloutState:
        change = promote(
            self.state, self.clock(), force=force, frozen=self.frozen(), consistent=self.consistent()
        )
        return self._apply(change)

    def pause(self, reason: str) -> RolloutState:
        return self._apply(pause(self.state, reason))

    def resume(self, reason: str) -> RolloutState:
        return self._apply(resume(self.state, reason))

    def abort(self, reason: str) -> RolloutState:
        return self._apply(abort(self.state, reason))


def _unreadable(start: int, end: int) -> WindowSample:
    return WindowSample(start, end, None, None)


__all__ = [
    "LIVE",
    "PHASE",
    "ROLLBACK",
    "STAGE",
    "TERMINAL",
    "WINDOW",
    "Controller",
    "Event",
    "KpiSource",
    "Phase",
    "RolloutState",
    "abort",
    "guard",
    "hold_reason",
    "on_window",
    "pause",
    "promote",
    "resume",
    "start",
]
