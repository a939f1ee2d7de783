"""The rollout controller driven by a fake tick clock and scripted KPI series."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ouroboros.errors import BadInputError, PatchError
from ouroboros.rollout.analysis import TICK_THREAD_CRASH
from ouroboros.rollout.controller import (
    ROLLBACK,
    STAGE,
    WINDOW,
    Controller,
    Event,
    Phase,
    RolloutState,
)
from ouroboros.rollout.plan import RolloutPlan, parse_plan
from tests.rollout.kpis import ScriptedKpis, TickClock, healthy, inflating

W = 100


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.fail = False

    def __call__(self, before: RolloutState, after: RolloutState, events: list[Event]) -> None:
        if self.fail:
            raise OSError("disk full")
        self.events.extend(events)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]


def make(
    series: list[Any], plan: RolloutPlan | None = None, **flags: Any
) -> tuple[Controller, TickClock, ScriptedKpis, Recorder]:
    plan = plan or parse_plan("1,10,50,100", window_ticks=W, min_exposures=10, threshold=2)
    clock, kpis, sink = TickClock(1000), ScriptedKpis(series), Recorder()
    state = RolloutState("r-1", "p-new", "p-stable", plan)
    ctl = Controller(state, kpis, clock, sink, **flags)
    ctl.start()
    return ctl, clock, kpis, sink


def test_a_healthy_rollout_promotes_through_every_stage() -> None:
    ctl, clock, kpis, sink = make([])
    seen = [ctl.state.pct_bp]
    for _ in range(3):
        clock.advance(W)
        seen.append(ctl.poll().pct_bp)
    assert seen == [100, 1000, 5000, 10000] and ctl.state.phase is Phase.COMPLETE
    assert [(s, e) for s, e, _ in kpis.asked] == [(1000, 1100), (1100, 1200), (1200, 1300)]
    assert [bp for *_, bp in kpis.asked] == [100, 1000, 5000]  # each window read at its own share
    assert sink.kinds() == [STAGE, WINDOW, STAGE, WINDOW, STAGE, WINDOW, STAGE]
    clock.advance(10 * W)
    assert ctl.poll().phase is Phase.COMPLETE and len(kpis.asked) == 3  # complete: nothing more judged


def test_a_poll_catches_up_on_every_window_the_clock_passed() -> None:
    ctl, clock, _kpis, _ = make([])
    clock.advance(2 * W + 50)
    assert ctl.poll().stage == 2 and ctl.state.window_start == 1200
    clock.advance(49)
    assert ctl.poll().stage == 2  # the window is not over


def test_a_stage_waits_for_its_passing_windows_in_a_row() -> None:
    plan = parse_plan("5,100", window_ticks=W, min_exposures=10, threshold=3, windows_per_stage=2)
    ctl, clock, _, _ = make([(healthy(), healthy()), (inflating(), healthy()), (healthy(), healthy())], plan)
    clock.advance(3 * W)
    assert ctl.poll().stage == 0 and ctl.state.passed_in_stage == 1  # the failure reset the count
    clock.advance(W)
    assert ctl.poll().phase is Phase.COMPLETE


def test_a_breach_rolls_back_after_threshold_failed_windows() -> None:
    ctl, clock, _, sink = make([(inflating(), healthy()), (healthy(), healthy()), (inflating(), healthy())])
    clock.advance(W)
    assert ctl.poll().phase is Phase.RUNNING and ctl.state.failed_checks == 1
    clock.advance(W)
    assert ctl.poll().stage == 1  # a pass in between promotes; the failure is still counted
    clock.advance(W)
    assert ctl.poll().phase is Phase.ROLLED_BACK and ctl.state.pct_bp == 0
    rollback = sink.events[-1]
    assert rollback.kind == ROLLBACK and rollback.evidence["fired"] == ["money_supply_growth_permille"]
    assert rollback.evidence["to"] == "p-stable" and "2 failed windows (threshold 2)" in rollback.reason
    window = sink.events[-2]
    assert window.kind == WINDOW and window.after == "fail"
    money = next(c for c in window.evidence["checks"] if c["metric"] == "money_supply_growth_permille")
    assert money["treatment"] == 80.0 and money["control"] == 5.0 and money["margin"] == 20.0


def test_a_missing_metric_is_a_failure_and_counts_toward_rollback() -> None:
    ctl, clock, _, sink = make([(healthy(quests_started=None), healthy())] * 2)
    clock.advance(2 * W)
    assert ctl.poll().phase is Phase.ROLLED_BACK
    assert sink.events[-1].evidence["fired"] == ["quest_completion_permille"]


def test_unreadable_data_is_a_failed_window_and_never_promotes() -> None:
    ctl, clock, _, sink = make([None, OSError("metrics store gone")])
    clock.advance(W)
    assert ctl.poll().stage == 0 and ctl.state.failed_checks == 1
    clock.advance(W)
    assert ctl.poll().phase is Phase.ROLLED_BACK
    assert "unreadable" in sink.events[-2].reason


def test_too_little_data_holds_the_stage() -> None:
    thin = [(healthy(exposures=3), healthy(exposures=300))] * 4
    ctl, clock, kpis, sink = make(thin)
    clock.advance(4 * W)
    assert ctl.poll().stage == 0 and ctl.state.phase is Phase.RUNNING and ctl.state.failed_checks == 0
    assert ctl.state.last_outcome == "insufficient_data" and "need 10 each" in ctl.state.reason
    assert len(kpis.asked) == 4 and sink.kinds().count(STAGE) == 1
    clock.advance(W)
    assert ctl.poll().stage == 1  # enough data again: it promotes


def test_a_hard_guard_rolls_back_at_once() -> None:
    ctl, clock, _, sink = make([(healthy(), healthy(), TICK_THREAD_CRASH)])
    clock.advance(W)
    assert ctl.poll().phase is Phase.ROLLED_BACK and ctl.state.failed_checks == 0
    assert sink.events[-1].evidence["fired"] == [TICK_THREAD_CRASH]


def test_a_hard_guard_between_windows_rolls_back_at_once() -> None:
    ctl, clock, _, sink = make([])
    clock.advance(30)
    assert ctl.guard("invariant_broken").phase is Phase.ROLLED_BACK
    assert sink.events[-1].evidence == {
        "fired": ["invariant_broken"],
        "to": "p-stable",
        "failed_checks": 0,
        "tick": 1030,
    }
    with pytest.raises(PatchError):
        ctl.promote(force=True)


def test_the_kill_switch_freezes_the_rollout_where_it_stands() -> None:
    frozen = [True]
    ctl, clock, _, _ = make([], frozen=lambda: frozen[0])
    clock.advance(3 * W)
    assert ctl.poll().stage == 0 and "kill-switch" in ctl.state.reason
    with pytest.raises(PatchError, match="kill-switch") as refused:
        ctl.promote(force=True)
    assert refused.value.code == "killswitch_engaged"
    frozen[0] = False
    clock.advance(W)
    assert ctl.poll().stage == 1


def test_a_breach_still_rolls_back_while_frozen() -> None:
    ctl, clock, _, _ = make([(inflating(), healthy())] * 2, frozen=lambda: True)
    clock.advance(2 * W)
    assert ctl.poll().phase is Phase.ROLLED_BACK


def test_a_state_that_disagrees_denies_promotion() -> None:
    ctl, clock, _, _ = make([], consistent=lambda: False)
    clock.advance(2 * W)
    assert ctl.poll().stage == 0 and "disagrees" in ctl.state.reason
    with pytest.raises(PatchError) as refused:
        ctl.promote(force=True)
    assert refused.value.code == "rollout_inconsistent"


def test_pause_holds_resume_goes_on_abort_ends() -> None:
    ctl, clock, _, _ = make([])
    ctl.pause("looking at the charts")
    clock.advance(2 * W)
    assert ctl.poll().phase is Phase.PAUSED and ctl.state.stage == 0 and ctl.state.windows == 2
    with pytest.raises(PatchError):
        ctl.promote()
    with pytest.raises(PatchError):
        ctl.pause("again")
    ctl.resume("fine")
    clock.advance(W)
    assert ctl.poll().stage == 1
    assert ctl.abort("changed my mind").phase is Phase.ABORTED and ctl.state.pct_bp == 0
    for act in (ctl.resume, ctl.abort, ctl.pause):
        with pytest.raises(PatchError):
            act("x")


def test_an_operator_promotes_after_a_pass_and_an_admin_may_force() -> None:
    thin = [(healthy(exposures=3), healthy())]
    plan = parse_plan("1,10,50,100", window_ticks=W, min_exposures=10, windows_per_stage=5)
    ctl, clock, _, sink = make([(healthy(), healthy()), *thin], plan)
    with pytest.raises(PatchError) as refused:
        ctl.promote()
    assert refused.value.code == "rollout_not_passing"
    clock.advance(W)
    assert ctl.poll().stage == 0 and ctl.promote().stage == 1
    clock.advance(W)
    assert ctl.poll().last_outcome == "insufficient_data"
    with pytest.raises(PatchError):
        ctl.promote()
    assert ctl.promote(force=True).stage == 2 and sink.events[-1].reason == "forced promotion"


def test_a_transition_the_sink_cannot_record_does_not_happen() -> None:
    ctl, clock, _, sink = make([])
    sink.fail = True
    clock.advance(W)
    with pytest.raises(OSError):
        ctl.poll()
    assert ctl.state.stage == 0 and ctl.state.windows == 0


def test_the_state_round_trips_and_a_bad_one_is_refused() -> None:
    ctl, clock, _, _ = make([])
    clock.advance(W)
    state = ctl.poll()
    assert RolloutState.from_dict(state.as_dict()) == state
    with pytest.raises(BadInputError):
        RolloutState.from_dict({**state.as_dict(), "stage": 9})
    with pytest.raises(BadInputError):
        RolloutState.from_dict({**state.as_dict(), "phase": "sideways"})


arm = st.sampled_from([healthy(), inflating(), healthy(exposures=2), healthy(faults=None)])
window = st.one_of(
    st.none(), st.tuples(arm, st.just(healthy())), st.just((healthy(), healthy(), "bundle_unverified"))
)


@given(series=st.lists(window, max_size=12), threshold=st.integers(1, 4))
def test_no_series_promotes_past_a_failure_budget_or_leaves_a_terminal_phase(
    series: list[Any], threshold: int
) -> None:
    plan = parse_plan("1,10,50,100", window_ticks=W, min_exposures=10, threshold=threshold)
    ctl, clock, _kpis, sink = make(series, plan)
    phases = []
    for _ in range(len(series)):
        clock.advance(W)
        phases.append(ctl.poll().phase)
    assert ctl.state.failed_checks <= threshold
    if ctl.state.failed_checks == threshold:
        assert ctl.state.phase is Phase.ROLLED_BACK
    for a, b in itertools.pairwise(phases):
        assert a not in (Phase.ROLLED_BACK, Phase.COMPLETE) or b is a
    stages = [e for e in sink.events if e.kind == STAGE]
    # every promotion follows a passing window
    for i, e in enumerate(sink.events):
        if e.kind == STAGE and i > 0:
            assert sink.events[i - 1].kind == WINDOW and sink.events[i - 1].after == "pass"
    assert len(stages) <= len(plan.stages_bp)


def test_plans_are_checked_whole() -> None:
    for text, why in [
        ("10,1,100", "must increase"),
        ("1,10,10,100", "must increase"),
        ("1,10,150", "at most 100"),
        ("0,100", "over 0"),
        ("1,10,50", "ends at 100"),
        ("1,ten,100", "not a percentage"),
        ("", "comma-separated"),
        ("0.001,100", "steps of 0.01"),
    ]:
        with pytest.raises(BadInputError, match=why):
            parse_plan(text)
    with pytest.raises(BadInputError, match="--window-ticks"):
        parse_plan("1,100", window_ticks=0)
    with pytest.raises(BadInputError, match="--min-exposures"):
        parse_plan("1,100", min_exposures=-1)
    assert parse_plan("0.5, 5%, 100").stages_bp == (50, 500, 10_000)


@given(st.lists(st.one_of(st.floats(allow_nan=True), st.integers(-5, 120), st.text(max_size=4)), max_size=6))
def test_a_plan_is_either_increasing_to_100_or_one_clear_refusal(parts: list[object]) -> None:
    text = ",".join(str(p) for p in parts)
    try:
        plan = parse_plan(text)
    except BadInputError as exc:
        assert exc.message and "\n" not in exc.message
        return
    assert plan.stages_bp[-1] == 10_000 and list(plan.stages_bp) == sorted(set(plan.stages_bp))
    assert all(0 < bp <= 10_000 for bp in plan.stages_bp)


@given(st.text(max_size=60))
def test_a_check_flag_is_a_check_or_one_clear_refusal(text: str) -> None:
    from ouroboros.rollout.plan import parse_check

    try:
        check = parse_check(text)
    except BadInputError as exc:
        assert exc.message and "\n" not in exc.message
        return
    assert check.limit is not None or check.margin is not None


def test_check_flags_read_as_written() -> None:
    from ouroboros.rollout.plan import parse_check

    assert parse_check("faults_per_1000_ticks:margin=1.5:limit=5").as_dict() == {
        "metric": "faults_per_1000_ticks",
        "limit": 5.0,
        "margin": 1.5,
    }
    with pytest.raises(BadInputError, match="finite"):
        parse_check("faults_per_1000_ticks:limit=inf")
