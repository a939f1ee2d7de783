"""The optimizer's advisor: decision support only. Its advice is logged beside each decision, it
runs off the tick thread, and a decision never waits for it: late, failed or absent advice is
logged as such and the rules decide alone. Time is the world's ManualClock throughout."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from ouroboros.engine import ManualClock, Variant, World
from ouroboros.engine.optimizer import Advice, Optimizer, OptimizerConfig, ProfileSummary, Risk
from ouroboros.optimizer_files import HISTORY_FILE, file_hooks, read_history

from .test_optimizer import FAST, SLOW, Plugin, _run, _work, _world

CONFIG = OptimizerConfig(check_every_ticks=4, guard_ticks=4, include_layout=False)
WAIT_S = 30.0  # an event wait's bound on a loaded machine; the tests never sleep


def _decisions(optimizer: Optimizer) -> list[dict[str, Any]]:
    return [d for d in optimizer.history if d["kind"] in ("switch", "keep", "abort", "guard_failed")]


def _run_until_guard(world: World, optimizer: Optimizer, limit: int = 40) -> None:
    for _ in range(limit):
        optimizer.after_tick(world.step())
        if optimizer.guard is not None:
            return
    raise AssertionError("no guard started")


class Recording:
    """An advisor that ranks what it is given, risk 0.25, and remembers what it saw."""

    name = "recording"

    def __init__(self) -> None:
        self.seen: list[ProfileSummary] = []
        self.threads: list[int] = []

    def __call__(self, summary: ProfileSummary) -> Advice:
        self.seen.append(summary)
        self.threads.append(threading.get_ident())
        return Advice(self.name, summary.ids, {i: Risk(0.25, "looks fine") for i in summary.ids})


def test_the_advice_is_logged_beside_the_decision_and_the_journal_and_never_decides(tmp_path: Path) -> None:
    reference = _run(_world(Plugin([SLOW, FAST])), None, 40)
    advisor = Recording()
    world = _world(Plugin([SLOW, FAST]))
    optimizer = Optimizer(world, CONFIG, hooks=file_hooks(tmp_path), advisor=advisor)
    _run_until_guard(world, optimizer)
    assert optimizer.wait_for_advice(WAIT_S)  # an event wait, for the test; the tick never waits
    digests = [world.last_digest.hex] if world.last_digest else []
    digests += _run(world, optimizer, 40 - world.tick)
    assert digests[-1] == reference[-1] and world.active_variants() == {"work": "fast"}  # the rules' call
    (switch,) = _decisions(optimizer)
    assert switch["kind"] == "switch" and switch["to"] == "fast"
    assert switch["advice"] == {
        "advisor": "recording",
        "status": "ok",
        "rank": 1,
        "of": 1,
        "risk": 0.25,
        "reason": "looks fine",
    }
    assert advisor.threads and threading.get_ident() not in advisor.threads  # asked off the tick thread
    (summary,) = advisor.seen
    (figures,) = summary.candidates
    assert figures.id == "work=fast" and figures.chosen and figures.current_ms > 0
    assert summary.systems["work"] > 0 and summary.tick_ms > 0
    on_disk = [e for e in read_history(tmp_path / HISTORY_FILE) if e["kind"] == "switch"]
    assert on_disk[0]["advice"]["risk"] == 0.25


def test_a_slow_advisor_never_delays_a_tick_and_the_rules_decide_without_it() -> None:
    release, asked = threading.Event(), threading.Event()

    class Stuck:
        name = "stuck"

        def __call__(self, summary: ProfileSummary) -> Advice:
            asked.set()
            release.wait(WAIT_S)  # far longer than the whole guard takes on the world's clock
            return Advice(self.name, summary.ids, {i: Risk(0.9, "would have said no") for i in summary.ids})

    clock = ManualClock()
    world = _world(Plugin([SLOW, FAST]), clock=clock)
    optimizer = Optimizer(world, CONFIG, advisor=Stuck())
    _run_until_guard(world, optimizer)
    assert asked.wait(WAIT_S)
    ticks_before = world.tick
    clock_before = clock()
    _run(world, optimizer, 10)  # every tick runs and the guard is decided while the advisor is stuck
    assert world.tick == ticks_before + 10
    # the clock moved by what the systems cost and nothing else: no tick waited for the advisor
    assert clock() - clock_before <= 10 * (4_000_000 + 200_000)
    (switch,) = _decisions(optimizer)
    assert switch["kind"] == "switch" and world.active_variants() == {"work": "fast"}
    assert switch["advice"]["status"] == "late" and switch["advice"]["advisor"] == "stuck"
    assert "decided by the rules alone" in switch["advice"]["why"]
    release.set()
    assert optimizer.wait_for_advice(WAIT_S)
    _run(world, optimizer, 1)
    (late,) = [d for d in optimizer.history if d["kind"] == "advice"]  # logged once, when it came
    assert late["advice"]["status"] == "late" and late["advice"]["ranking"] == ["work=fast"]
    _run(world, optimizer, 5)
    assert [d["kind"] for d in optimizer.history].count("advice") == 1


def test_an_answer_past_the_timeout_on_the_worlds_clock_is_late_even_if_it_came_before_the_decision() -> None:
    clock = ManualClock()

    class Ponderous:
        name = "ponderous"

        def __call__(self, summary: ProfileSummary) -> Advice:
            clock.advance_ms(CONFIG.advisor_timeout_ms + 1)  # thinking took longer than allowed
            return Advice(self.name, summary.ids)

    world = _world(Plugin([SLOW, FAST]), clock=clock)
    optimizer = Optimizer(world, CONFIG, advisor=Ponderous())
    _run_until_guard(world, optimizer)
    assert optimizer.wait_for_advice(WAIT_S)
    _run(world, optimizer, 10)
    (decision,) = _decisions(optimizer)
    assert decision["advice"]["status"] == "late"


def test_a_failing_advisor_and_no_advisor_are_logged_as_such() -> None:
    def broken(summary: ProfileSummary) -> Advice:
        raise RuntimeError("model went away")

    world = _world(Plugin([SLOW, FAST]))
    optimizer = Optimizer(world, CONFIG, advisor=broken)
    _run_until_guard(world, optimizer)
    assert optimizer.wait_for_advice(WAIT_S)
    _run(world, optimizer, 10)
    (decision,) = _decisions(optimizer)
    assert decision["kind"] == "switch" and decision["advice"]["status"] == "failed"
    assert "RuntimeError: model went away" in decision["advice"]["why"]

    world = _world(Plugin([SLOW, FAST]))
    plain = Optimizer(world, CONFIG)
    _run(world, plain, 20)
    (decision,) = _decisions(plain)
    assert decision["kind"] == "switch" and decision["advice"] == {"status": "absent", "why": "no advisor"}


def test_what_an_advisor_may_not_say_is_ignored_with_its_reason() -> None:
    def wild(summary: ProfileSummary) -> Advice:
        return Advice(
            "wild",
            ("work=quantum", *summary.ids, *summary.ids),
            {"work=fast": Risk(1.5, "very sure"), "idle=none": Risk(0.1, "?")},
        )

    world = _world(Plugin([SLOW, FAST]))
    optimizer = Optimizer(world, CONFIG, advisor=wild)
    _run_until_guard(world, optimizer)
    assert optimizer.wait_for_advice(WAIT_S)
    _run(world, optimizer, 10)
    (decision,) = _decisions(optimizer)
    advice = decision["advice"]
    assert advice["status"] == "ok" and advice["rank"] == 1 and "risk" not in advice
    assert advice["ignored"] == [
        "ranking: unknown candidate 'work=quantum'",
        "ranking: repeated candidate 'work=fast'",
        "risk of work=fast: 1.5 is outside 0..1",
        "risk: unknown candidate 'idle=none'",
    ]
    assert world.active_variants() == {"work": "fast"}


def test_a_busy_advisor_is_not_asked_again_and_the_next_guard_goes_without() -> None:
    release = threading.Event()
    calls: list[int] = []

    def stuck(summary: ProfileSummary) -> Advice:
        calls.append(summary.tick)
        release.wait(WAIT_S)
        return Advice("stuck", summary.ids)

    barely = Variant("barely", lambda w: _work(w, 0.0039), kind="numpy")  # 2.5 % faster: kept out
    world = _world(Plugin([SLOW, barely, FAST]))
    optimizer = Optimizer(world, CONFIG, advisor=stuck)
    try:
        _run(world, optimizer, 60)
        first, second = _decisions(optimizer)
        assert (first["kind"], first["to"], second["kind"], second["to"]) == (
            "keep",
            "barely",
            "switch",
            "fast",
        )
        assert len(calls) == 1 and first["advice"]["status"] == "late"
        assert second["advice"] == {
            "status": "absent",
            "why": "the advisor was still busy with an earlier question",
        }
    finally:
        release.set()
