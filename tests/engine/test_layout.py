"""Component layout as a variant: SoA and AoS hold the same rows, switch at tick boundaries, and
never change a digest."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ouroboros.engine import Component, World
from ouroboros.engine.errors import ComponentError, EngineError
from ouroboros.engine.storage import Archetype
from ouroboros.worlds import build_world


def _petri() -> World:
    return build_world("petri", 4, {"entities": 250})


def test_switching_layouts_mid_run_keeps_the_digest_sequence() -> None:
    steady, switching = _petri(), _petri()
    for tick in range(80):
        if tick % 5 == 0:
            switching.set_layout("aos" if (tick // 5) % 2 == 0 else "soa")
        assert switching.step().digest.hex == steady.step().digest.hex, f"tick {tick}"
    assert switching.resources["stats"]["births"] > 0  # growth and spawns happened in both layouts


def test_fork_keeps_the_layout_and_snapshots_do_not_depend_on_it() -> None:
    world = _petri()
    world.run(5)
    world.set_layout("aos", ["Body"])
    layouts = world.layouts()
    assert "aos" in layouts.values() and "soa" in layouts.values()
    fork = world.fork()
    assert fork.layouts() == layouts
    soa = _petri()
    soa.run(5)
    assert world.snapshot() == soa.snapshot()
    restored = _petri()
    restored.restore(world.snapshot())
    assert restored.digest().hex == world.digest().hex
    fork.run(10)
    world.run(10)
    assert fork.digest().hex == world.digest().hex


def test_new_archetypes_follow_a_world_wide_layout_and_bad_calls_are_refused() -> None:
    world = World(1)
    world.register_component(Component("A", v="i4"))
    world.set_layout("aos")
    world.spawn(A={"v": 3})
    assert set(world.layouts().values()) == {"aos"}
    with pytest.raises(ComponentError):
        world.set_layout("diagonal")
    assert set(world.layouts().values()) == {"aos"}

    class Sneaky:
        name = "sneaky"

        def build(self, w: World) -> None:
            w.add_system("flip", lambda w2: w2.set_layout("soa"))

    with pytest.raises(EngineError):
        World(1, plugins=[Sneaky()]).step()


COMPS = (Component("P", x="i8", y="i4"), Component("T", m="u1"))


@settings(max_examples=60, deadline=None)
@given(
    ops=st.lists(st.tuples(st.sampled_from(["append", "compact", "flip"]), st.integers(0, 40)), max_size=25)
)
def test_both_layouts_hold_the_same_rows_through_any_sequence(ops: list[tuple[str, int]]) -> None:
    soa, aos = Archetype(COMPS, capacity=2), Archetype(COMPS, capacity=2)
    aos.set_layout("aos")
    next_id = 0
    for op, k in ops:
        if op == "append":
            ids = np.arange(next_id, next_id + k, dtype=np.int64)
            next_id += k
            values = {"P.x": ids * 3 - 7, "P.y": ids % 11, "T.m": ids % 256}
            soa.append(ids, values)
            aos.append(ids, values)
        elif op == "compact":
            keep = (np.arange(soa.count) % (k % 3 + 2)) != 0
            soa.compact(keep)
            aos.compact(keep)
        else:
            aos.set_layout("soa" if aos.layout == "aos" else "aos")
        assert soa.count == aos.count
        for key in soa.columns:
            assert np.array_equal(soa.view(key), aos.view(key)), key
