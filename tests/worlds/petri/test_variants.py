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


big = st.integers(min_value=-(1 << 40), max_value=1 << 40)


@pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="numba is not installed")
@settings(max_examples=60, deadline=None)
@given(
    bots=st.lists(
        st.tuples(st.integers(0, 15), st.integers(1, 1 << 40), st.integers(1000, 65536), big, big, big, big),
        min_size=1,
        max_size=40,
    ),
    counts=st.lists(st.integers(0, 3), min_size=80, max_size=80),
    temperature=st.integers(-100, 150),
    seed=st.integers(0, 1 << 30),
)
def test_fused_builtin_traits_add_what_each_trait_adds(
    bots: list[tuple[int, int, int, int, int, int, int]], counts: list[int], temperature: int, seed: int
) -> None:
    from ouroboros.engine import Stream
    from ouroboros.engine.rng import mix_one
    from ouroboros.worlds.petri import _numba_kernels as nk
    from ouroboros.worlds.petri.traits import BUILTIN_TRAITS, TraitContext

    n = len(bots)
    mask = np.array([b[0] for b in bots], dtype=np.uint64)
    arrays = {
        "ids": np.array([b[1] for b in bots], dtype=np.int64),
        "thrust": np.array([b[2] for b in bots], dtype=np.int64),
        "food_dx": np.array([b[3] for b in bots], dtype=np.int64),
        "food_dy": np.array([b[4] for b in bots], dtype=np.int64),
        "crowd_dx": np.array([b[5] for b in bots], dtype=np.int64),
        "crowd_dy": np.array([b[6] for b in bots], dtype=np.int64),
        "food_count": np.array(counts[:n], dtype=np.int64),
        "crowd_count": np.array(counts[40 : 40 + n], dtype=np.int64),
    }
    sources = {k: (lambda v=v: v) for k, v in arrays.items()}
    streams = {t.name: Stream.for_tick(seed, f"trait:{t.name}", 7) for t in BUILTIN_TRAITS}
    want = [np.zeros(n, dtype=np.int64) for _ in range(3)]
    for bit, trait in enumerate(BUILTIN_TRAITS):
        rows = np.flatnonzero(mask & np.uint64(1 << bit))
        ctx = TraitContext(rows, sources, temperature, streams[trait.name])
        trait.act(ctx)
        want[0][rows] += ctx.thrust_x
        want[1][rows] += ctx.thrust_y
        want[2][rows] += np.maximum(ctx.energy_gain, 0)
    light = max(0, 1000 - abs(temperature - 25) * 1000 // 60)
    key = streams["wander"].key
    got = [np.zeros(n, dtype=np.int64) for _ in range(3)]
    nk._builtin_traits(
        mask,
        arrays["ids"],
        arrays["thrust"].astype(np.int32),
        *(arrays[k] for k in ("food_count", "food_dx", "food_dy", "crowd_count", "crowd_dx", "crowd_dy")),
        np.uint64(mix_one(key, 1)),
        np.uint64(mix_one(key, 2)),
        max((ONE // 40) * light // 1000, 0),
        *got,
    )
    for g, w in zip(got, want, strict=True):
        assert np.array_equal(g, w)


@pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="numba is not installed")
@settings(max_examples=60, deadline=None)
@given(
    points=st.lists(st.tuples(coords, coords), min_size=0, max_size=60),
    queries=st.lists(st.tuples(coords, coords), min_size=1, max_size=30),
    side=st.integers(min_value=1, max_value=300),
)
def test_compiled_fields_and_senses_equal_numpy(
    points: list[tuple[int, int]], queries: list[tuple[int, int]], side: int
) -> None:
    from ouroboros.worlds.petri import _numba_kernels as nk
    from ouroboros.worlds.petri.kernels import prepare_numba
    from ouroboros.worlds.petri.spatial import build_field, neighbourhood
    from ouroboros.worlds.petri.systems import _field_numba, _ro

    prepare_numba()  # as a world does: the kernels take the prepared types only

    px = np.array([p[0] for p in points], dtype=np.int64)
    py = np.array([p[1] for p in points], dtype=np.int64)
    qx = np.array([q[0] for q in queries], dtype=np.int64)
    qy = np.array([q[1] for q in queries], dtype=np.int64)
    want = build_field(px, py, 4, side, side)  # points past the dish land on its edge cells
    got = _field_numba(px, py, 4, side, side)
    assert (got.shift, got.cols, got.rows) == (want.shift, want.cols, want.rows)
    for g, w in ((got.count, want.count), (got.sum_x, want.sum_x), (got.sum_y, want.sum_y)):
        assert np.array_equal(g, w)
    n, sx, sy = neighbourhood(want, qx, qy)
    found = nk._lookup(
        _ro(got.count), _ro(got.sum_x), _ro(got.sum_y), got.shift, got.cols, got.rows, _ro(qx), _ro(qy), 1
    )
    assert np.array_equal(found[0], n - 1)
    assert np.array_equal(found[1], sx - n * qx) and np.array_equal(found[2], sy - n * qy)


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
kernels = (nk._eat, nk._predation, nk._counting_sort, nk._builtin_traits, nk._field, nk._lookup)
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
