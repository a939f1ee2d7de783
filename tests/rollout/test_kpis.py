"""The KPI book: shards' tick reports become per-arm windows the controller judges."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ouroboros.errors import BadInputError
from ouroboros.rollout.analysis import DEFAULT_CHECKS, Outcome, judge
from ouroboros.rollout.controller import Controller, Phase, RolloutState
from ouroboros.rollout.kpis import KpiBook, TickReport, p99
from ouroboros.rollout.plan import parse_plan
from tests.rollout.kpis import TickClock

PLAN = parse_plan("1,50,100", window_ticks=100, min_exposures=5, threshold=2)
STATE = RolloutState("ro-1-0123456789", "p-new", "p-old", PLAN, Phase.RUNNING, 0, 0)
PLAYERS_A = frozenset(f"a{i}" for i in range(8))
PLAYERS_B = frozenset(f"b{i}" for i in range(30))


def feed(book: KpiBook, start: int, end: int, *, inflate: int = 0, faults_every: int = 0) -> None:
    """Two shards: neon-1 runs the patch, neon-2 the stable version."""
    for tick in range(start, end):
        quests = 1 if tick % 10 == 0 else 0
        book.observe(
            "neon-1",
            "p-new",
            TickReport(
                tick,
                12.0,
                faults=1 if faults_every and tick % faults_every == 0 else 0,
                money_supply=10_000 + tick * (1 + inflate),
                exposed=PLAYERS_A,
                quests_started=quests,
                quests_completed=quests,
            ),
        )
        book.observe(
            "neon-2",
            "p-old",
            TickReport(
                tick,
                14.0,
                money_supply=50_000 + tick * 5,
                exposed=PLAYERS_B,
                quests_started=quests,
                quests_completed=quests,
            ),
        )


def book() -> KpiBook:
    return KpiBook(ticks_per_second=10, tick_budget_ms=50)


def test_reports_become_per_arm_windows() -> None:
    b = book()
    feed(b, 0, 200)
    sample = b.window(STATE, 100, 200)
    t, c = sample.treatment, sample.control
    assert t is not None and c is not None
    assert (t.exposures, t.ticks, t.money_start, t.money_end) == (8, 100, 10_100, 10_199)
    assert (c.exposures, c.ticks, c.money_start, c.money_end) == (30, 100, 50_500, 50_995)
    assert t.player_minutes == pytest.approx(8 * 100 / 10 / 60)
    assert judge(sample, DEFAULT_CHECKS, 5).outcome is Outcome.PASS


def test_an_inflating_treatment_is_rolled_back_by_the_controller() -> None:
    b, clock = book(), TickClock(0)
    recorded: list[str] = []
    ctl = Controller(STATE, b, clock, lambda before, after, events: recorded.extend(e.kind for e in events))
    feed(b, 0, 100, inflate=40)
    clock.advance(100)
    assert ctl.poll().failed_checks == 1
    feed(b, 100, 200, inflate=40)
    clock.advance(100)
    assert ctl.poll().phase is Phase.ROLLED_BACK and recorded[-1] == "rollout_rollback"


def test_a_shard_that_stopped_reporting_is_unreadable_not_healthy() -> None:
    b = book()
    feed(b, 0, 100)
    sample = b.window(STATE, 100, 200)
    assert sample.treatment is None and sample.control is None
    assert judge(sample, DEFAULT_CHECKS, 5).outcome is Outcome.FAIL


def test_a_shard_that_switched_mid_window_counts_in_each_arm_with_its_own_segment() -> None:
    b = book()
    for tick in range(100):
        version = "p-old" if tick < 40 else "p-new"
        b.observe(
            "neon-3", version, TickReport(tick, 10.0, money_supply=1000 + tick, exposed=frozenset({"x"}))
        )
    sample = b.window(STATE, 0, 100)
    assert sample.control is not None and sample.treatment is not None
    assert (sample.control.ticks, sample.control.money_start, sample.control.money_end) == (40, 1000, 1039)
    assert (sample.treatment.ticks, sample.treatment.money_start, sample.treatment.money_end) == (
        60,
        1040,
        1099,
    )


def test_a_missing_money_report_makes_the_metric_missing() -> None:
    b = book()
    b.observe("neon-1", "p-new", TickReport(0, 10.0, money_supply=None))
    sample = b.window(STATE, 0, 100)
    assert sample.treatment is not None and sample.treatment.money_start is None


def test_guards_land_in_the_window_that_holds_their_tick() -> None:
    b = book()
    feed(b, 0, 200)
    b.guard("invariant_broken", 150)
    assert b.window(STATE, 0, 100).guards == frozenset()
    assert judge(b.window(STATE, 100, 200), DEFAULT_CHECKS, 5).outcome is Outcome.HARD_GUARD


def test_reports_go_forward_and_old_ones_are_dropped() -> None:
    b = KpiBook(ticks_per_second=10, tick_budget_ms=50, keep_ticks=50)
    feed(b, 0, 200)
    with pytest.raises(BadInputError):
        b.observe("neon-1", "p-new", TickReport(10, 1.0))
    assert b.window(STATE, 0, 100).treatment is None  # beyond what is kept
    with pytest.raises(BadInputError):
        KpiBook(ticks_per_second=0, tick_budget_ms=50)


@given(st.lists(st.floats(0, 1e4, allow_nan=False), min_size=1, max_size=300))
def test_p99_is_the_nearest_rank(values: list[float]) -> None:
    got = p99(values)
    assert got in values
    assert sum(v <= got for v in values) >= 0.99 * len(values)
    assert sum(v < got for v in values) < 0.99 * len(values)
