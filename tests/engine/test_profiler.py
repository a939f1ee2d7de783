"""The profiler: time per system per tick, as data, never state."""

from __future__ import annotations

import time

import pytest

from ouroboros.engine import ManualClock, Profiler, World

from .toy import build_world


def test_stats_cover_every_system_and_the_whole_tick() -> None:
    world = build_world()
    world.run(20)
    stats = world.profiler.stats()
    assert set(world.schedule.names()) | {"<tick>"} == set(stats)
    for name, s in stats.items():
        assert 0 <= s["p50_ms"] <= s["p95_ms"] <= s["max_ms"], name
        assert s["mean_ms"] <= s["max_ms"]
    assert stats["move"]["samples"] == 20
    assert stats["<tick>"]["samples"] == 20
    assert stats["populate"]["samples"] == 1
    assert world.profiler.tick_stats() == stats["<tick>"]


def test_a_slow_system_shows_its_time() -> None:
    clock = ManualClock()
    world = World(1, clock=clock)
    world.add_system("nap", lambda w: clock.advance_ms(2.0))
    world.add_system("quick", lambda w: None)
    world.run(3)
    stats = world.profiler.stats()
    assert stats["nap"]["p50_ms"] == 2.0 and stats["quick"]["max_ms"] == 0.0
    assert stats["<tick>"]["max_ms"] == 2.0


def test_a_real_sleep_shows_on_the_default_clock() -> None:
    world = World(1)
    world.add_system("nap", lambda w: time.sleep(0.002))
    world.run(2)
    assert world.profiler.stats()["nap"]["p50_ms"] >= 2.0  # a sleep is never shorter than asked


def test_the_window_keeps_only_recent_ticks() -> None:
    world = build_world(profiler_window=4)
    world.run(10)
    assert world.profiler.stats()["move"]["samples"] == 4
    world.profiler.reset()
    assert world.profiler.stats() == {}
    assert world.profiler.tick_stats()["p50_ms"] == 0.0


def test_profiling_does_not_reach_the_digest() -> None:
    clock = ManualClock()
    fast, slow = build_world(), build_world(clock=clock)
    slow.add_system("nap", lambda w: clock.advance_ms(5.0), phase="post_tick")
    fast.add_system("nap", lambda w: None, phase="post_tick")
    fast.run(3)
    slow.run(3)
    assert fast.digest() == slow.digest()


def test_a_window_under_one_tick_is_refused() -> None:
    with pytest.raises(ValueError):
        Profiler(0)


def test_the_allocation_signal_is_sampled_not_paid_every_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    """``sys.getallocatedblocks`` walks every arena (tens of µs with numba loaded), so the world
    samples it on one tick in ``ALLOC_SAMPLE_TICKS``; the signal still shows an allocating system."""
    import sys

    from ouroboros.engine import world as world_module

    kept: list[object] = []
    calls = 0
    real = sys.getallocatedblocks

    def counting() -> int:
        nonlocal calls
        calls += 1
        return real()

    world = World(1)
    world.add_system("hoard", lambda w: kept.extend(object() for _ in range(2000)))
    monkeypatch.setattr(world_module.sys, "getallocatedblocks", counting)
    ticks = 4 * world_module.ALLOC_SAMPLE_TICKS
    world.run(ticks)
    assert calls <= 2 * (ticks // world_module.ALLOC_SAMPLE_TICKS + 1)
    world.profiler.publish(world.tick)
    stats = world.profiler.published()["stats"]
    assert stats["hoard"]["alloc_blocks_mean"] >= 1000  # type: ignore[index]
