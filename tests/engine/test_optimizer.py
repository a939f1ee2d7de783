"""The optimizer: variants swapped at tick boundaries under a digest guard, rules by size and
measurement, a planted wrong variant caught and blacklisted, freeze/force, a history that
survives a restart."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from ouroboros.engine import Component, ManualClock, Variant, World
from ouroboros.engine.errors import EngineError
from ouroboros.engine.optimizer import Optimizer, OptimizerConfig
from ouroboros.optimizer_files import CONTROL_FILE, HISTORY_FILE, file_hooks, read_history

POS = Component("P", x="i8")


def _spend(world: World, seconds: float) -> None:
    """What a system costs, on the world's manual clock: the same on an idle or a loaded machine."""
    clock = world.clock
    assert isinstance(clock, ManualClock)
    clock.advance(round(seconds * 1e9))


def _world(*plugins: object, clock: ManualClock | None = None) -> World:
    return World(1, plugins=plugins, clock=clock or ManualClock())  # type: ignore[arg-type]


def _work(world: World, sleep_s: float, wrong: bool = False) -> None:
    for chunk in world.query("P"):
        x = chunk["P.x"]
        x += (chunk.ids & 7) + 1
        if wrong and x.size > 3:
            x[3] += 1  # off by one in one entity
    _spend(world, sleep_s)


class Plugin:
    name = "opt-toy"

    def __init__(self, variants: list[Variant], n: int = 50, default: str | None = None) -> None:
        self.variants, self.n, self.default = variants, n, default

    def build(self, world: World) -> None:
        world.register_component(POS)
        world.add_system(
            "populate",
            lambda w: w.commands.spawn(["P"], self.n, {"P.x": np.arange(self.n)}),
            phase="startup",
        )
        world.add_system("work", _work, writes=["P"], variants=self.variants, variant=self.default)
        world.add_system("idle", lambda w: _spend(w, 0.0002))


SLOW = Variant("slow", lambda w: _work(w, 0.004), kind="python")
FAST = Variant("fast", lambda w: _work(w, 0.0), kind="numpy")
WRONG = Variant("wrong", lambda w: _work(w, 0.0, wrong=True), kind="numba")
CONFIG = OptimizerConfig(check_every_ticks=4, guard_ticks=4)


def _run(world: World, optimizer: Optimizer | None, ticks: int) -> list[str]:
    digests = []
    for _ in range(ticks):
        report = world.step()
        digests.append(report.digest.hex)
        if optimizer is not None:
            optimizer.after_tick(report)
    return digests


def test_a_faster_variant_is_found_guarded_and_swapped_without_changing_digests() -> None:
    reference = _world(Plugin([SLOW, FAST]))
    expected = _run(reference, None, 40)
    world = _world(Plugin([SLOW, FAST]))
    optimizer = Optimizer(world, CONFIG)
    assert _run(world, optimizer, 40) == expected
    assert world.active_variants() == {"work": "fast"}
    kinds = [d["kind"] for d in optimizer.history]
    assert kinds[:2] == ["guard", "switch"]
    switch = optimizer.history[1]
    assert switch["before_ms"] > switch["after_ms"] and switch["from"] == "slow" and switch["to"] == "fast"


def test_a_planted_wrong_variant_is_caught_rolled_back_and_blacklisted(tmp_path: Path) -> None:
    reference = _world(Plugin([SLOW, WRONG]))
    expected = _run(reference, None, 30)
    world = _world(Plugin([SLOW, WRONG]))
    optimizer = Optimizer(world, CONFIG, hooks=file_hooks(tmp_path))
    assert _run(world, optimizer, 30) == expected  # the live world never ran the wrong one
    assert world.active_variants() == {"work": "slow"}
    failed = [d for d in optimizer.history if d["kind"] == "guard_failed"]
    assert len(failed) == 1 and ("work", "wrong") in optimizer.blacklist
    report = json.loads(Path(failed[0]["report_file"]).read_text())
    assert report["differing_sections"] == ["P.x"] and report["variant"] == "wrong"
    assert sum(d["kind"] == "guard" for d in optimizer.history) == 1  # never tried again


def test_size_hints_keep_unsuitable_variants_out() -> None:
    big_only = Variant("fast", FAST.fn, kind="numba", min_size=10_000)
    world = _world(Plugin([SLOW, big_only]))
    optimizer = Optimizer(world, CONFIG)
    _run(world, optimizer, 30)
    assert world.active_variants() == {"work": "slow"} and optimizer.history == []


def test_freeze_and_force_from_the_control_file_and_history_survives_a_restart(tmp_path: Path) -> None:
    world = _world(Plugin([SLOW, FAST]))
    (tmp_path / CONTROL_FILE).write_text(json.dumps({"frozen": True, "forced": {}}))
    optimizer = Optimizer(world, CONFIG, hooks=file_hooks(tmp_path))
    _run(world, optimizer, 30)
    assert world.active_variants() == {"work": "slow"}  # frozen: nothing rewritten
    _write_control(tmp_path, {"frozen": True, "forced": {"work": "fast"}})  # a fresh stamp, no sleep
    _run(world, optimizer, 1)
    assert world.active_variants() == {"work": "fast"}
    kinds = [d["kind"] for d in read_history(tmp_path / HISTORY_FILE)]
    assert kinds == ["start", "freeze", "force"]
    again = Optimizer(_world(Plugin([SLOW, FAST])), CONFIG, hooks=file_hooks(tmp_path))
    assert [d["kind"] for d in again.history[:4]] == ["start", "freeze", "force", "start"]
    assert again.world.active_variants() == {"work": "fast"}  # forced again at start


def test_an_unreadable_control_file_freezes(tmp_path: Path) -> None:
    (tmp_path / CONTROL_FILE).write_text("{torn")
    optimizer = Optimizer(_world(Plugin([SLOW, FAST])), CONFIG, hooks=file_hooks(tmp_path))
    assert optimizer.frozen


def test_forcing_an_unknown_variant_is_refused_and_set_variant_inside_a_tick_too() -> None:
    world = _world(Plugin([SLOW, FAST]))
    with pytest.raises(EngineError):
        Optimizer(world, CONFIG, forced={"work": "nope"})

    class Sneaky:
        name = "sneaky"

        def build(self, w: World) -> None:
            w.add_system("swap", lambda w2: w2.set_variant("work", "fast"), after=["work"])

    bad = _world(Plugin([SLOW, FAST]), Sneaky())
    with pytest.raises(EngineError):
        bad.step()


def test_profiler_publishes_without_recomputing_between_flips() -> None:
    world = _world(Plugin([FAST]))
    world.profiler.publish_every = 8
    world.run(7)
    assert world.profiler.published()["tick"] == 0
    world.run(1)
    published = world.profiler.published()
    assert published["tick"] == 8 and "work" in published["stats"]
    assert published["counts"]["entities"]["last"] == 50
    world.run(3)
    assert world.profiler.published() is published  # readers get the same object until the next flip


def test_in_a_mixed_guard_the_wrong_candidate_is_named_and_the_good_one_still_wins() -> None:
    Q = Component("Q", x="i8")

    def work2(world: World, sleep_s: float) -> None:
        for chunk in world.query("Q"):
            chunk["Q.x"][:] += 2
        _spend(world, sleep_s)

    class Second:
        name = "second"

        def build(self, world: World) -> None:
            world.register_component(Q)
            world.add_system("spawn_q", lambda w: w.commands.spawn(["Q"], 10, {}), phase="startup")
            world.add_system(
                "work2",
                lambda w: work2(w, 0.004),
                writes=["Q"],
                variants=[
                    Variant("slow", lambda w: work2(w, 0.004)),
                    Variant("fast", lambda w: work2(w, 0.0)),
                ],
            )

    def build() -> World:
        return _world(Plugin([SLOW, WRONG]), Second())

    expected = _run(build(), None, 60)
    world = build()
    optimizer = Optimizer(world, CONFIG)
    assert _run(world, optimizer, 60) == expected
    kinds = [(d["kind"], d["system"]) for d in optimizer.history]
    # each system's shadow is compared on its own, so the failure names its system at once
    assert kinds[:2] == [("guard", "work"), ("guard", "work2")] or kinds[:2] == [
        ("guard", "work2"),
        ("guard", "work"),
    ]
    assert ("guard_failed", "work") in kinds and ("guard_failed", "work2") not in kinds
    assert world.active_variants() == {"work": "slow", "work2": "fast"}


def test_the_layout_is_a_candidate_too_and_can_be_forced() -> None:
    config = OptimizerConfig(check_every_ticks=4, guard_ticks=4, layout_min_size=10)
    steady = Variant("fast", lambda w: _work(w, 0.001), kind="numpy")  # 1 ms in either layout
    reference = _world(Plugin([steady], n=60))
    expected = _run(reference, None, 40)
    world = _world(Plugin([steady], n=60))
    optimizer = Optimizer(world, config)
    assert _run(world, optimizer, 40) == expected
    layout = [d for d in optimizer.history if d["system"] == "layout"]
    # one guard; the same 1 ms in both layouts is no gain, so it keeps SoA and does not retry
    assert [d["kind"] for d in layout] == ["guard", "keep"] and layout[0]["to"] == "aos"
    assert world.default_layout == "soa"
    forced = _world(Plugin([steady], n=60))
    forced.start()  # the archetypes exist: forcing converts them
    Optimizer(forced, config, forced={"layout": "aos"})
    assert forced.layouts() and set(forced.layouts().values()) == {"aos"}
    assert _run(forced, None, 40) == expected
    assert set(forced.layouts().values()) == {"aos"}


def test_status_reports_the_guard_in_progress() -> None:
    world = _world(Plugin([SLOW, FAST]))
    optimizer = Optimizer(world, CONFIG)
    seen = []
    for _ in range(12):
        optimizer.after_tick(world.step())
        seen.append(optimizer.status()["guard"])
    assert {"candidates": {"work": "fast"}, "ticks": 1} in seen
    assert optimizer.status()["variants"]["work"] in ("slow", "fast")


NO_LAYOUT = OptimizerConfig(check_every_ticks=4, guard_ticks=4, include_layout=False)


def _write_control(data: Path, doc: dict[str, object]) -> None:
    """A control file change the optimizer sees at its next check (a fresh mtime whatever the
    filesystem's clock resolution)."""
    path = data / CONTROL_FILE
    stamp = path.stat().st_mtime_ns + 1_000_000 if path.exists() else time.time_ns()
    path.write_text(json.dumps(doc))
    os.utime(path, ns=(stamp, stamp))


def _kinds(optimizer: Optimizer, system: str | None = None) -> list[str]:
    return [d["kind"] for d in optimizer.history if system is None or d["system"] == system]


def test_off_at_start_is_never_undone_by_the_control_file(tmp_path: Path) -> None:
    _write_control(tmp_path, {"frozen": False, "forced": {}})
    world = _world(Plugin([SLOW, FAST]))
    optimizer = Optimizer(world, NO_LAYOUT, hooks=file_hooks(tmp_path), frozen=True)
    assert optimizer.frozen
    _run(world, optimizer, 10)
    _write_control(tmp_path, {"frozen": True, "forced": {}})  # the file may freeze…
    _run(world, optimizer, 2)
    _write_control(tmp_path, {"frozen": False, "forced": {}})  # …but never unfreeze
    _run(world, optimizer, 20)
    assert optimizer.frozen and world.active_variants() == {"work": "slow"}
    assert not {"unfreeze", "guard", "switch"} & set(_kinds(optimizer))


def test_the_control_file_releases_only_what_it_forced(tmp_path: Path) -> None:
    world = _world(Plugin([SLOW, FAST]))
    world.start()
    optimizer = Optimizer(world, CONFIG, hooks=file_hooks(tmp_path), forced={"work": "slow"})
    _write_control(tmp_path, {"frozen": False, "forced": {"layout": "aos"}})
    _run(world, optimizer, 1)
    assert optimizer.forced == {"work": "slow", "layout": "aos"}
    _write_control(tmp_path, {"frozen": False, "forced": {"work": "fast"}})  # a start force stays
    _run(world, optimizer, 1)
    assert optimizer.forced == {"work": "slow"} and world.default_layout == "aos"
    refused = [d for d in optimizer.history if d["kind"] == "refused"]
    assert len(refused) == 1 and refused[0]["system"] == "work" and refused[0]["to"] == "fast"
    _write_control(tmp_path, {"frozen": False, "forced": {}})
    _run(world, optimizer, 30)
    assert optimizer.forced == {"work": "slow"} and world.active_variants() == {"work": "slow"}
    assert [(d["kind"], d["system"]) for d in optimizer.history if d["kind"] == "release"] == [
        ("release", "layout")
    ]


def test_an_input_pending_when_a_guard_starts_is_applied_once_on_the_fork() -> None:
    class Bumps:
        name = "bumps"

        def build(self, world: World) -> None:
            world.resources["bumps"] = 0
            world.register_input("bump", lambda w, n: w.resources.update(bumps=w.resources["bumps"] + n))

    def run(optimizer_on: bool) -> tuple[list[str], Optimizer | None, World]:
        world = _world(Plugin([SLOW, FAST]), Bumps())
        optimizer = Optimizer(world, NO_LAYOUT) if optimizer_on else None
        digests = []
        for tick in range(20):
            report = world.step()
            digests.append(report.digest.hex)
            if tick == 3:
                world.submit("bump", 5)  # pending while the guard forks the world
            if optimizer is not None:
                optimizer.after_tick(report)
                if tick == 3:
                    assert optimizer.guard is not None
        return digests, optimizer, world

    expected, _, _ = run(False)
    digests, optimizer, world = run(True)
    assert digests == expected and world.resources["bumps"] == 5
    assert optimizer is not None and not optimizer.blacklist
    assert _kinds(optimizer, "work")[:2] == ["guard", "switch"]


def test_an_over_budget_warm_up_tick_aborts_the_guard() -> None:
    calls: list[int] = []

    def compiles_on_first_call(world: World) -> None:
        if not calls:
            calls.append(1)
            _spend(world, 0.05)  # a JIT compile in the first fork tick
        _work(world, 0.0)

    jit = Variant("jit", compiles_on_first_call, kind="numba")
    world = _world(Plugin([SLOW, jit]))
    optimizer = Optimizer(world, NO_LAYOUT)
    _run(world, optimizer, 16)
    assert _kinds(optimizer) == ["guard", "abort"] and world.active_variants() == {"work": "slow"}
    assert optimizer.history[1]["tick"] == optimizer.history[0]["tick"] + 1  # at the warm-up tick


def test_a_measured_candidate_the_guard_kept_is_not_guarded_again_at_once() -> None:
    a = Variant("a", lambda w: _work(w, 0.002))
    b = Variant("b", lambda w: _work(w, 0.003))
    world = _world(Plugin([a, b]))
    optimizer = Optimizer(world, NO_LAYOUT)
    optimizer.measured[("work", "b")] = [(50, 0.1)] * 20  # a noisy sample says b is far faster
    _run(world, optimizer, 48)
    assert _kinds(optimizer) == ["guard", "abort"]  # b measured 3 ms against a's 2 in the guard
    assert world.active_variants() == {"work": "a"}


class _LayoutBound:
    """A world whose work is slow in SoA and fast in AoS (same results either way), with three
    archetypes, one of them born after the optimizer switched."""

    name = "layout-bound"

    def build(self, world: World) -> None:
        q = Component("Q", v="i4")
        world.register_component(POS)
        world.register_component(q)

        def populate(w: World) -> None:
            w.commands.spawn(["P"], 40, {"P.x": np.arange(40)})
            w.commands.spawn(["P", "Q"], 20, {"P.x": np.arange(20) * 3, "Q.v": np.arange(20)})

        def late_spawn(w: World) -> None:
            if w.tick == 30:
                w.commands.spawn(["Q"], 5, {"Q.v": np.arange(5)})

        world.add_system("populate", populate, phase="startup")
        only = Variant("only", lambda w: _work(w, 0.004 if w.default_layout == "soa" else 0.0))
        world.add_system("work", _work, writes=["P"], variants=[only])
        world.add_system("late_spawn", late_spawn)


def test_a_guard_that_keeps_a_layout_switch_converts_every_archetype() -> None:
    config = OptimizerConfig(check_every_ticks=4, guard_ticks=4, layout_min_size=10)
    expected = _run(_world(_LayoutBound()), None, 40)
    world = _world(_LayoutBound())
    optimizer = Optimizer(world, config)
    assert _run(world, optimizer, 40) == expected
    assert _kinds(optimizer, "layout") == ["guard", "switch"]
    assert world.default_layout == "aos" and len(world.layouts()) == 3
    assert set(world.layouts().values()) == {"aos"}


def test_a_costly_switch_must_pay_for_itself() -> None:
    def build(horizon: int) -> tuple[World, Optimizer]:
        config = OptimizerConfig(
            check_every_ticks=4, guard_ticks=4, layout_min_size=10, switch_horizon_ticks=horizon
        )
        world = _world(_LayoutBound())
        optimizer = Optimizer(world, config)
        optimizer.converted["aos"] = (60, 50.0)  # converting 60 rows to AoS was measured at 50 ms
        return world, optimizer

    world, optimizer = build(5)  # 50 ms over 5 ticks: 10 ms a tick, more than the 4 ms it saves
    _run(world, optimizer, 20)
    assert world.default_layout == "soa" and "switch" not in _kinds(optimizer)
    assert optimizer.analyze()["systems"]["layout"]["others"]["aos"]["switch_cost_ms"] >= 50
    world, optimizer = build(10_000)  # 0.005 ms a tick: worth it
    _run(world, optimizer, 20)
    assert world.default_layout == "aos"


def test_a_compile_paid_up_front_is_sunk() -> None:
    clock = ManualClock()
    costly = Variant("fast", FAST.fn, kind="numba", prepare=lambda: clock.advance(50_000_000))
    world = _world(Plugin([SLOW, costly]), clock=clock)
    config = OptimizerConfig(check_every_ticks=4, guard_ticks=4, include_layout=False, switch_horizon_ticks=5)
    optimizer = Optimizer(world, config)
    assert optimizer.prepare_all()["work=fast"] >= 50
    _run(world, optimizer, 20)  # the 50 ms are spent whatever is chosen: the 4 ms a tick decide
    assert world.active_variants() == {"work": "fast"}
    assert optimizer.analyze()["systems"]["work"]["others"]["slow"]["switch_cost_ms"] == 0.0


def _variants_ab(a_s: float, b_s: float) -> tuple[Variant, Variant]:
    return Variant("a", lambda w: _work(w, a_s)), Variant("b", lambda w: _work(w, b_s))


def test_a_ratio_measured_elsewhere_bounds_what_is_expected_here() -> None:
    def run(ratio_at: tuple[int, float]) -> Optimizer:
        a, b = _variants_ab(0.001, 0.0)
        world = _world(Plugin([a, b]))  # 50 entities
        optimizer = Optimizer(world, NO_LAYOUT)
        optimizer.ratios[("work", "b", "a")] = [ratio_at] * 3  # b/a measured side by side there
        _run(world, optimizer, 24)
        return optimizer

    near = run((500, 3.0))  # 3× slower a decade away: at best 1.5× slower here, never guarded
    assert _kinds(near) == []
    low, high = near.analyze()["systems"]["work"]["others"]["b"]["ratio_bounds"]
    assert low == pytest.approx(1.5) and high == pytest.approx(6.0)
    far = run((5_000, 3.0)).analyze()["systems"]["work"]["others"]["b"]["ratio_bounds"]
    assert far[0] == pytest.approx(0.75) and far[1] == pytest.approx(12.0)  # maybe faster here


def test_a_guard_is_only_started_within_the_tick_budget() -> None:
    def guards(ratio_at: tuple[int, float]) -> list[str]:
        a, b = _variants_ab(0.002, 0.0)
        world = _world(Plugin([a, b]))
        optimizer = Optimizer(world, NO_LAYOUT)
        optimizer.ratios[("work", "b", "a")] = [ratio_at] * 3
        _run(world, optimizer, 24)
        return _kinds(optimizer)

    assert guards((50, 0.5))[:2] == ["guard", "switch"]  # measured here: costs half of a
    # measured 0.5 two decades away: maybe 0.12×, maybe 2× a's 2 ms — too costly to find out
    assert guards((5_000, 0.5)) == []


def test_a_candidate_that_mutates_what_it_was_handed_never_reaches_the_live_world(tmp_path: Path) -> None:
    class Buffered:
        name = "buffered"

        def build(self, world: World) -> None:
            world.register_component(POS)
            world.resources["seen"] = 0
            world.add_system("populate", lambda w: w.commands.spawn(["P"], 50, {}), phase="startup")
            world.add_system("fill", lambda w: w.scratch.update(buf=np.arange(8)))

            def work(w: World, evil: bool) -> None:
                if evil:
                    w.scratch["buf"][:] = 99  # in place, on what an earlier system left
                _spend(w, 0.004 if not evil else 0.0)

            world.add_system(
                "work",
                lambda w: work(w, False),
                reads=["P"],
                after=["fill"],
                variants=[
                    Variant("honest", lambda w: work(w, False)),
                    Variant("evil", lambda w: work(w, True)),
                ],
            )
            world.add_system(
                "tally",
                lambda w: w.resources.update(seen=w.resources["seen"] + int(w.scratch["buf"].sum())),
                after=["work"],
            )

    expected = _run(_world(Buffered()), None, 20)
    world = _world(Buffered())
    optimizer = Optimizer(world, NO_LAYOUT, hooks=file_hooks(tmp_path))
    assert _run(world, optimizer, 20) == expected
    (failed,) = [d for d in optimizer.history if d["kind"] == "guard_failed"]
    assert failed["report"]["differing_sections"] == ["scratch:buf"]
    assert world.active_variants() == {"work": "honest"} and ("work", "evil") in optimizer.blacklist


def test_the_decision_history_stays_bounded_in_memory_and_on_disk(tmp_path: Path) -> None:
    config = OptimizerConfig(check_every_ticks=4, guard_ticks=4, history_max_entries=5)
    optimizer = Optimizer(World(1, plugins=[Plugin([SLOW, FAST])]), config, hooks=file_hooks(tmp_path))
    for i in range(40):  # a server that runs for weeks: freeze, unfreeze, ...
        optimizer.freeze(i % 2 == 0, why=f"turn {i}")
    assert len(optimizer.history) == 5
    assert optimizer.history[-1]["why"] == "turn 39"
    on_disk = read_history(tmp_path / HISTORY_FILE)
    assert 5 <= len(on_disk) <= 10 and on_disk[-1]["why"] == "turn 39"
    again = Optimizer(World(1, plugins=[Plugin([SLOW, FAST])]), config, hooks=file_hooks(tmp_path))
    assert len(again.history) == 5 and again.history[-1]["kind"] == "start"
