"""The optimizer: variants swapped at tick boundaries under a digest guard, rules by size and
measurement, a planted wrong variant caught and blacklisted, freeze/force, a history that
survives a restart."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from ouroboros.engine import Component, Variant, World
from ouroboros.engine.errors import EngineError
from ouroboros.engine.optimizer import CONTROL_FILE, HISTORY_FILE, Optimizer, OptimizerConfig, read_history

POS = Component("P", x="i8")


def _work(world: World, sleep_s: float, wrong: bool = False) -> None:
    for chunk in world.query("P"):
        x = chunk["P.x"]
        x += (chunk.ids & 7) + 1
        if wrong and x.size > 3:
            x[3] += 1  # off by one in one entity
    if sleep_s:
        time.sleep(sleep_s)


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
        world.add_system("idle", lambda w: time.sleep(0.0002))


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
    reference = World(1, plugins=[Plugin([SLOW, FAST])])
    expected = _run(reference, None, 40)
    world = World(1, plugins=[Plugin([SLOW, FAST])])
    optimizer = Optimizer(world, CONFIG)
    assert _run(world, optimizer, 40) == expected
    assert world.active_variants() == {"work": "fast"}
    kinds = [d["kind"] for d in optimizer.history]
    assert kinds[:2] == ["guard", "switch"]
    switch = optimizer.history[1]
    assert switch["before_ms"] > switch["after_ms"] and switch["from"] == "slow" and switch["to"] == "fast"


def test_a_planted_wrong_variant_is_caught_rolled_back_and_blacklisted(tmp_path: Path) -> None:
    reference = World(1, plugins=[Plugin([SLOW, WRONG])])
    expected = _run(reference, None, 30)
    world = World(1, plugins=[Plugin([SLOW, WRONG])])
    optimizer = Optimizer(world, CONFIG, data=tmp_path)
    assert _run(world, optimizer, 30) == expected  # the live world never ran the wrong one
    assert world.active_variants() == {"work": "slow"}
    failed = [d for d in optimizer.history if d["kind"] == "guard_failed"]
    assert len(failed) == 1 and ("work", "wrong") in optimizer.blacklist
    report = json.loads(Path(failed[0]["report_file"]).read_text())
    assert report["differing_sections"] == ["P.x"] and report["variant"] == "wrong"
    assert sum(d["kind"] == "guard" for d in optimizer.history) == 1  # never tried again


def test_size_hints_keep_unsuitable_variants_out() -> None:
    big_only = Variant("fast", FAST.fn, kind="numba", min_size=10_000)
    world = World(1, plugins=[Plugin([SLOW, big_only])])
    optimizer = Optimizer(world, CONFIG)
    _run(world, optimizer, 30)
    assert world.active_variants() == {"work": "slow"} and optimizer.history == []


def test_freeze_and_force_from_the_control_file_and_history_survives_a_restart(tmp_path: Path) -> None:
    world = World(1, plugins=[Plugin([SLOW, FAST])])
    (tmp_path / CONTROL_FILE).write_text(json.dumps({"frozen": True, "forced": {}}))
    optimizer = Optimizer(world, CONFIG, data=tmp_path)
    _run(world, optimizer, 30)
    assert world.active_variants() == {"work": "slow"}  # frozen: nothing rewritten
    time.sleep(0.01)
    (tmp_path / CONTROL_FILE).write_text(json.dumps({"frozen": True, "forced": {"work": "fast"}}))
    _run(world, optimizer, 1)
    assert world.active_variants() == {"work": "fast"}
    kinds = [d["kind"] for d in read_history(tmp_path / HISTORY_FILE)]
    assert kinds == ["freeze", "force"]
    again = Optimizer(World(1, plugins=[Plugin([SLOW, FAST])]), CONFIG, data=tmp_path)
    assert [d["kind"] for d in again.history[:2]] == ["freeze", "force"]
    assert again.world.active_variants() == {"work": "fast"}  # forced again at start


def test_an_unreadable_control_file_freezes(tmp_path: Path) -> None:
    (tmp_path / CONTROL_FILE).write_text("{torn")
    optimizer = Optimizer(World(1, plugins=[Plugin([SLOW, FAST])]), CONFIG, data=tmp_path)
    assert optimizer.frozen


def test_forcing_an_unknown_variant_is_refused_and_set_variant_inside_a_tick_too() -> None:
    world = World(1, plugins=[Plugin([SLOW, FAST])])
    with pytest.raises(EngineError):
        Optimizer(world, CONFIG, forced={"work": "nope"})

    class Sneaky:
        name = "sneaky"

        def build(self, w: World) -> None:
            w.add_system("swap", lambda w2: w2.set_variant("work", "fast"), after=["work"])

    bad = World(1, plugins=[Plugin([SLOW, FAST]), Sneaky()])
    with pytest.raises(EngineError):
        bad.step()


def test_profiler_publishes_without_recomputing_between_flips() -> None:
    world = World(1, plugins=[Plugin([FAST])])
    world.profiler.publish_every = 8
    world.run(7)
    assert world.profiler.published()["tick"] == 0
    world.run(1)
    published = world.profiler.published()
    assert published["tick"] == 8 and "work" in published["stats"]
    assert published["counts"]["entities"]["last"] == 50
    world.run(3)
    assert world.profiler.published() is published  # readers get the same object until the next flip


def test_a_mixed_guard_that_fails_is_split_and_the_good_candidate_still_wins() -> None:
    Q = Component("Q", x="i8")

    def work2(world: World, sleep_s: float) -> None:
        for chunk in world.query("Q"):
            chunk["Q.x"][:] += 2
        if sleep_s:
            time.sleep(sleep_s)

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
        return World(1, plugins=[Plugin([SLOW, WRONG]), Second()])

    expected = _run(build(), None, 60)
    world = build()
    optimizer = Optimizer(world, CONFIG)
    assert _run(world, optimizer, 60) == expected
    kinds = [(d["kind"], d["system"]) for d in optimizer.history]
    assert ("guard_split", "work") in kinds and ("guard_failed", "work") in kinds
    assert world.active_variants() == {"work": "slow", "work2": "fast"}


def test_the_layout_is_a_candidate_too_and_can_be_forced() -> None:
    config = OptimizerConfig(check_every_ticks=4, guard_ticks=4, layout_min_size=10)
    reference = World(1, plugins=[Plugin([FAST], n=60)])
    expected = _run(reference, None, 40)
    world = World(1, plugins=[Plugin([FAST], n=60)])
    optimizer = Optimizer(world, config)
    assert _run(world, optimizer, 40) == expected
    layout_guards = [d for d in optimizer.history if d["system"] == "layout"]
    assert layout_guards and layout_guards[0]["kind"] == "guard" and layout_guards[0]["to"] == "aos"
    assert {d["kind"] for d in layout_guards[1:]} <= {"switch", "keep", "abort"}
    forced = World(1, plugins=[Plugin([FAST], n=60)])
    Optimizer(forced, config, forced={"layout": "aos"})
    assert set(forced.layouts().values()) == {"aos"} or forced.layouts() == {}
    assert _run(forced, None, 40) == expected
    assert set(forced.layouts().values()) == {"aos"}


def test_status_reports_the_guard_in_progress() -> None:
    world = World(1, plugins=[Plugin([SLOW, FAST])])
    optimizer = Optimizer(world, CONFIG)
    seen = []
    for _ in range(12):
        optimizer.after_tick(world.step())
        seen.append(optimizer.status()["guard"])
    assert {"candidates": {"work": "fast"}, "ticks": 1} in seen
    assert optimizer.status()["variants"]["work"] in ("slow", "fast")
