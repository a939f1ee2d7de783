"""Judging a window: each check, its absolute limit and its margin over control, missing metrics,
too little data, hard guards."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ouroboros.errors import BadInputError
from ouroboros.rollout.analysis import (
    BUNDLE_UNVERIFIED,
    DEFAULT_CHECKS,
    METRICS,
    TICK_THREAD_CRASH,
    ArmWindow,
    Check,
    Outcome,
    WindowSample,
    judge,
    metrics,
    run_check,
)
from tests.rollout.kpis import healthy, inflating


def sample(treatment: ArmWindow | None, control: ArmWindow | None, *guards: str) -> WindowSample:
    return WindowSample(0, 100, treatment, control, frozenset(guards))


def test_healthy_arms_pass_every_default_check() -> None:
    verdict = judge(sample(healthy(), healthy()), DEFAULT_CHECKS, 10)
    assert verdict.outcome is Outcome.PASS and verdict.failed == ()
    assert {c.metric for c in verdict.checks} == set(METRICS)


def test_the_metrics_are_rates_of_the_counts() -> None:
    m = metrics(healthy(faults=3, tick_p99_ms=60.0, moderation_incidents=5))
    assert m == {
        "faults_per_1000_ticks": 30.0,
        "tick_p99_over_budget_ms": 10.0,
        "money_supply_growth_permille": 5.0,
        "moderation_per_1000_minutes": 10.0,
        "quest_completion_permille": 750.0,
    }


def test_an_inflating_treatment_fails_the_money_check_by_its_margin_over_control() -> None:
    verdict = judge(sample(inflating(), healthy()), DEFAULT_CHECKS, 10)
    assert verdict.outcome is Outcome.FAIL and verdict.failed == ("money_supply_growth_permille",)
    money = next(c for c in verdict.checks if c.metric == "money_supply_growth_permille")
    assert (money.treatment, money.control) == (80.0, 5.0) and "by 75" in money.why
    # the same growth in both arms is the economy, not the patch
    assert judge(sample(inflating(), inflating()), DEFAULT_CHECKS, 10).outcome is Outcome.PASS


def test_an_absolute_limit_fails_even_when_the_control_is_as_bad() -> None:
    slow = healthy(tick_p99_ms=70.0)
    verdict = judge(sample(slow, slow), DEFAULT_CHECKS, 10)
    assert verdict.failed == ("tick_p99_over_budget_ms",) and "over the limit 0" in verdict.checks[1].why


def test_lower_quest_completion_is_worse() -> None:
    check = Check("quest_completion_permille", limit=500.0, margin=100.0)
    assert not run_check(check, 400.0, 450.0).passed  # under the limit
    assert not run_check(check, 600.0, 750.0).passed  # 150 ‰ worse than control
    assert run_check(check, 700.0, 750.0).passed
    assert run_check(check, 900.0, 750.0).passed  # better is never a failure


@pytest.mark.parametrize(
    "change",
    [
        {"faults": None},
        {"ticks": 0},
        {"tick_budget_ms": None},
        {"money_start": None},
        {"player_minutes": 0.0},
        {"quests_started": 0},
    ],
)
def test_a_missing_metric_is_a_failed_check(change: dict[str, object]) -> None:
    verdict = judge(sample(healthy(**change), healthy()), DEFAULT_CHECKS, 10)  # type: ignore[arg-type]
    assert verdict.outcome is Outcome.FAIL and len(verdict.failed) == 1
    assert "missing metric in the treatment" in verdict.why


def test_a_metric_missing_in_the_control_fails_a_margin_check() -> None:
    verdict = judge(sample(healthy(), healthy(moderation_incidents=None)), DEFAULT_CHECKS, 10)
    assert verdict.failed == ("moderation_per_1000_minutes",)
    assert "missing metric in the control" in verdict.why


def test_an_unreadable_arm_fails_the_window() -> None:
    for t, c in ((None, healthy()), (healthy(), None)):
        verdict = judge(sample(t, c), DEFAULT_CHECKS, 10)
        assert verdict.outcome is Outcome.FAIL and "unreadable" in verdict.why


def test_too_few_exposures_is_insufficient_data_even_when_a_check_would_fail() -> None:
    verdict = judge(sample(inflating(exposures=3), healthy(exposures=200)), DEFAULT_CHECKS, 10)
    assert verdict.outcome is Outcome.INSUFFICIENT and "need 10 each" in verdict.why
    assert judge(sample(healthy(200), healthy(9)), DEFAULT_CHECKS, 10).outcome is Outcome.INSUFFICIENT


def test_a_hard_guard_decides_whatever_the_numbers() -> None:
    verdict = judge(sample(healthy(), healthy(), TICK_THREAD_CRASH), DEFAULT_CHECKS, 10)
    assert verdict.outcome is Outcome.HARD_GUARD and verdict.failed == (TICK_THREAD_CRASH,)
    assert judge(sample(None, None, BUNDLE_UNVERIFIED), DEFAULT_CHECKS, 10).outcome is Outcome.HARD_GUARD


counts = st.one_of(st.none(), st.integers(min_value=0, max_value=10**6))


@given(
    st.builds(
        ArmWindow,
        exposures=st.integers(0, 1000),
        ticks=counts,
        faults=counts,
        money_start=counts,
        money_end=counts,
        quests_started=counts,
        quests_completed=counts,
    ),
    st.integers(0, 100),
)
def test_a_window_never_passes_with_a_missing_metric(arm: ArmWindow, need: int) -> None:
    verdict = judge(sample(arm, healthy()), DEFAULT_CHECKS, need)
    missing = [k for k, v in metrics(arm).items() if v is None]
    if missing and verdict.outcome is not Outcome.INSUFFICIENT:
        assert verdict.outcome is Outcome.FAIL and set(missing) <= set(verdict.failed)
    assert verdict.outcome is not Outcome.PASS or not missing


def test_checks_and_arms_are_validated() -> None:
    with pytest.raises(BadInputError):
        Check("happiness", limit=1.0)
    with pytest.raises(BadInputError):
        Check("faults_per_1000_ticks")
    assert ArmWindow.from_dict(healthy().as_dict()) == healthy()
    for bad in ({"exposures": 1, "mood": 3}, {"ticks": 3}, {"exposures": 1, "ticks": "3"}):
        with pytest.raises(BadInputError):
            ArmWindow.from_dict(bad)
