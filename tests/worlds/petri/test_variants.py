"""Petri's system variants (python scalar, numpy, numba) are bit-identical: on any layout, over
whole runs, and when swapped mid-run — the contract the engine's optimizer relies on."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ouroboros.engine import World
from ouroboros.worlds.petri import ONE, PetriPlugin
from ouroboros.worlds.petri import kernels as K
from ouroboros.worlds.petri.spatial import build_grid

coords = st.integers(min_value=0, max_value=120 * ONE)


@settings(max_examples=80, deadline=None)
@given(
    bots=st.lists(
        st.tuples(coords, coords, st.integers(2 * ONE, 4 * ONE), st.integers(1, 5)), min_size=1, max_size=50
    ),
    food=st.lists(st.tuples(coords, coords), min_size=0, max_size=50),
)
def test_every_kernel_set_agrees_on_any_layout(
    bots: list[tuple[int, int, int, int]], food: list[tuple[int, int]]
) -> None:
    bx = np.array([b[0] for b in bots], dtype=np.int64)
    by = np.array([b[1] for b in bots], dtype=np.int64)
    br = np.array([b[2] for b in bots], dtype=np.int32)
    energy = np.array([b[3] * ONE for b in bots], dtype=np.int64)
    fx = np.array([f[0] for f in food], dtype=np.int64)
    fy = np.array([f[1] for f in food], dtype=np.int64)
    bot_grid = build_grid(bx, by, 3, 120, 120)
    food_grid = build_grid(fx, fy, 3, 120, 120)
    cells = bot_grid.cy * bot_grid.cols + bot_grid.cx
    want = (
        K.NUMPY.eat_contacts(bx, by, br, fx, fy, food_grid, bot_grid),
        K.NUMPY.predation_contacts(bx, by, br, energy, bot_grid),
        K.NUMPY.sort_cells(cells, bot_grid.cols * bot_grid.rows),
    )
    for k in K.variant_kernels():
        got = (
            k.eat_contacts(bx, by, br, fx, fy, food_grid, bot_grid),
            k.predation_contacts(bx, by, br, energy, bot_grid),
            k.sort_cells(cells, bot_grid.cols * bot_grid.rows),
        )
        for g, w in zip(got, want, strict=True):
            assert np.array_equal(g[0], w[0]) and np.array_equal(g[1], w[1]), k.name


def _world(variant: str | None) -> World:
    world = World(5, plugins=[PetriPlugin(entities=300, kernels="numpy")])
    if variant is not None:
        for system in world.variants():
            world.set_variant(system, variant)
    return world


def test_whole_runs_agree_whatever_the_variant() -> None:
    runs = {}
    for variant in [k.name for k in K.variant_kernels()]:
        world = _world(variant)
        runs[variant] = [world.step().digest.hex for _ in range(120)]
    first = next(iter(runs.values()))
    assert all(r == first for r in runs.values())
    assert world.resources["stats"]["food_eaten"] > 0 and world.resources["stats"]["deaths"]["collision"] > 0


def test_swapping_variants_mid_run_leaves_the_digests_unchanged() -> None:
    names = [k.name for k in K.variant_kernels()]
    steady, swapped = _world(None), _world(None)
    for tick in range(120):
        if tick % 7 == 0:
            for i, system in enumerate(swapped.variants()):
                swapped.set_variant(system, names[(tick // 7 + i) % len(names)])
        assert swapped.step().digest.hex == steady.step().digest.hex, f"tick {tick}"


def test_shrinking_the_dish_rescales_positions_instead_of_piling_them_on_a_wall() -> None:
    world = World(
        2, plugins=[PetriPlugin(entities=400, params={"width": 2000, "height": 2000}, kernels="numpy")]
    )
    world.run(3)
    world.submit("set_param", {"name": "width", "value": 500})
    world.submit("set_param", {"name": "height", "value": 400})
    world.step()
    for chunk in world.query("Position"):
        x, y = chunk["Position.x"], chunk["Position.y"]
        assert x.max() <= 500 * ONE and y.max() <= 400 * ONE
        assert np.unique(x // (50 * ONE)).size > 5  # spread over the dish, not on one edge


# A fresh interpreter: what earlier tests compiled in this process must not hide a missing
# signature.
_COMPILES_IN_TICKS = """
import json
from ouroboros.engine import World
from ouroboros.worlds.petri import PetriPlugin
from ouroboros.worlds.petri import _numba_kernels as nk
from ouroboros.worlds.petri.kernels import prepare_numba

prepare_numba()
kernels = (nk._eat, nk._predation, nk._counting_sort)
prepared = [len(k.signatures) for k in kernels]
for layout, food_only in (("soa", False), ("aos", False), ("aos", True)):
    world = World(5, plugins=[PetriPlugin(entities=300, kernels="numba")])
    world.run(1)
    world.set_layout(layout, ["Food"] if food_only else None)  # AoS everywhere, or mixed
    world.run(3)
print(json.dumps({"prepared": prepared, "after_ticks": [len(k.signatures) for k in kernels]}))
"""


@pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="numba is not installed")
def test_prepare_numba_compiles_every_signature_a_tick_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _COMPILES_IN_TICKS], capture_output=True, text=True, timeout=300, check=True
    )
    counts = json.loads(done.stdout.splitlines()[-1])
    assert counts["after_ticks"] == counts["prepared"]  # read-only and strided columns included
