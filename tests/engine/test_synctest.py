"""Sync-test mode: re-simulating recent ticks from snapshots exposes hidden nondeterminism."""

from __future__ import annotations

import random
import time

import pytest

from ouroboros.engine import SyncTest, World
from ouroboros.engine.errors import SyncTestError

from .toy import build_world


def test_a_deterministic_world_passes_and_is_checked_every_tick() -> None:
    world = build_world()
    sync = SyncTest(world, rollback=3)
    for t in range(1, 13):
        if t % 4 == 0:
            world.submit("push", {"dx": 1, "dy": -1})
        report = sync.step()
        assert report.tick == t
    # tick t re-simulates min(t, rollback) ticks
    assert sync.checked_ticks == 1 + 2 + 3 * 10
    # and the run is the run it would have been without the sync test
    plain = build_world()
    for t in range(1, 13):
        if t % 4 == 0:
            plain.submit("push", {"dx": 1, "dy": -1})
        plain.step()
    assert plain.digest() == world.digest()


def test_state_kept_in_world_resources_passes() -> None:
    world = build_world()

    def tally(w: World) -> None:
        w.resources["calls"] = w.resources.get("calls", 0) + 1

    world.add_system("tally", tally)
    SyncTest(world).run(8)
    assert world.resources["calls"] == 8


def test_a_system_using_the_global_random_is_caught() -> None:
    world = build_world()

    def gambler(w: World) -> None:
        for chunk in w.query("Vel"):
            chunk["Vel.y"][:] += random.randint(-1000, 1000)

    world.add_system("gambler", gambler, writes=["Vel"])
    with pytest.raises(SyncTestError) as info:
        SyncTest(world).run(3)
    assert info.value.tick <= 3
    assert "Vel.y" in info.value.sections


def test_a_counter_kept_in_a_closure_is_caught() -> None:
    world = build_world()
    calls = 0

    def tally(w: World) -> None:
        nonlocal calls
        calls += 1
        w.resources["calls"] = calls

    world.add_system("tally", tally)
    with pytest.raises(SyncTestError) as info:
        SyncTest(world).run(3)
    assert info.value.tick == 1
    assert info.value.sections == ["resources"]


def test_a_system_reading_the_wall_clock_is_caught() -> None:
    world = build_world()

    def clock(w: World) -> None:
        for chunk in w.query("Pos"):
            chunk["Pos.x"][:1] = time.perf_counter_ns()

    world.add_system("clock", clock, writes=["Pos"])
    with pytest.raises(SyncTestError) as info:
        SyncTest(world).run(3)
    assert "Pos.x" in info.value.sections


def test_a_rollback_under_one_tick_is_refused() -> None:
    with pytest.raises(ValueError):
        SyncTest(build_world(), rollback=0)
