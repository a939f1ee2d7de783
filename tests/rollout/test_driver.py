"""The driver a running world calls between ticks: it follows the ledger (steering from another
process), judges windows from the KPI book, and hands the router the state to follow."""

from __future__ import annotations

from collections.abc import Callable

from ouroboros.patches.governor import Governor
from ouroboros.patches.states import State
from ouroboros.rollout.controller import Phase
from ouroboros.rollout.driver import RolloutDriver
from ouroboros.rollout.kpis import KpiBook, TickReport
from ouroboros.rollout.plan import parse_plan
from ouroboros.rollout.router import Fleet
from ouroboros.rollout.service import RolloutService
from tests.rollout.kpis import TickClock

W = 100
PLAN = parse_plan("10,50,100", window_ticks=W, min_exposures=3, threshold=2)
SHARDS = ("neon-1", "neon-2", "neon-3", "neon-4")


class World:
    """Four shards reporting every tick; the treatment's economy may be made to inflate."""

    def __init__(self, book: KpiBook, clock: TickClock) -> None:
        self.book, self.clock = book, clock
        self.running: dict[str, str | None] = dict.fromkeys(SHARDS)
        self.inflate = 0

    def run(self, ticks: int, patch: str) -> None:
        for _ in range(ticks):
            tick = self.clock.tick
            for i, shard in enumerate(SHARDS):
                version = self.running[shard]
                growth = 1 + (self.inflate if version == patch else 0)
                self.book.observe(
                    shard,
                    version,
                    TickReport(
                        tick,
                        10.0,
                        money_supply=10_000 + tick * growth,
                        exposed=frozenset(f"{shard}-p{j}" for j in range(5 + i)),
                        quests_started=1,
                        quests_completed=1,
                    ),
                )
            self.clock.advance(1)


def setup(gov: Governor, patch: str) -> tuple[RolloutDriver, World, RolloutService]:
    svc = RolloutService(gov)
    svc.start(patch, PLAN, "alice", "stage it")
    clock = TickClock(1000)
    book = KpiBook(ticks_per_second=10, tick_budget_ms=50)
    driver = RolloutDriver(svc, book, clock)
    world = World(book, clock)
    return driver, world, svc


def follow(driver: RolloutDriver, world: World) -> None:
    """What the runtime does at a tick boundary: the shards switch as the router says."""
    fleet, _ = driver.router().step(Fleet(dict(world.running)), world.clock.tick)
    world.running = dict(fleet.running)


def test_a_healthy_rollout_runs_to_completion_from_the_driver(
    gov: Governor, validated: Callable[..., str]
) -> None:
    patch = validated()
    driver, world, _ = setup(gov, patch)
    driver.poll()
    follow(driver, world)
    assert list(world.running.values()).count(patch) == 1  # 10 % of 4 shards: one
    for _ in range(2):
        world.run(W, patch)
        driver.poll()
        follow(driver, world)
    assert driver.last is not None and driver.last.phase is Phase.COMPLETE
    assert gov.active() == patch and set(world.running.values()) == {patch}


def test_an_inflating_treatment_rolls_back_and_every_shard_returns(
    gov: Governor, validated: Callable[..., str]
) -> None:
    patch = validated()
    driver, world, _ = setup(gov, patch)
    driver.poll()
    follow(driver, world)
    world.inflate = 50
    for _ in range(2):
        world.run(W, patch)
        driver.poll()
    assert driver.last is not None and driver.last.phase is Phase.ROLLED_BACK
    follow(driver, world)
    assert set(world.running.values()) == {None} and gov.ledger.state_of(patch) == State.ROLLED_BACK
    assert driver.poll() is driver.last  # nothing live: the router keeps following the rollback


def test_a_pause_from_another_process_holds_and_a_resume_goes_on(
    gov: Governor, validated: Callable[..., str]
) -> None:
    patch = validated()
    driver, world, _ = setup(gov, patch)
    driver.poll()
    follow(driver, world)
    elsewhere = Governor(gov.data, environ={})  # the CLI, in its own process
    try:
        RolloutService(elsewhere).pause("bob", "hold on")
        world.run(W, patch)
        assert driver.poll().phase is Phase.PAUSED  # type: ignore[union-attr]
        assert driver.last is not None and driver.last.stage == 0 and driver.last.windows == 1
        RolloutService(elsewhere).resume("bob", "go")
        world.run(W, patch)
        assert driver.poll().stage == 1  # type: ignore[union-attr]
    finally:
        elsewhere.close()


def test_a_hard_guard_rolls_back_between_windows(gov: Governor, validated: Callable[..., str]) -> None:
    patch = validated()
    driver, world, _ = setup(gov, patch)
    driver.poll()
    world.run(10, patch)
    assert driver.guard("tick_thread_crash").phase is Phase.ROLLED_BACK  # type: ignore[union-attr]
    rollback = gov.ledger.entries(patch_id=patch, kind="rollout_rollback")[-1]
    assert rollback.evidence["fired"] == ["tick_thread_crash"]
