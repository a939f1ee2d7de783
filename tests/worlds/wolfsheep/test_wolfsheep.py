"""WolfSheep as a user of the engine sees it: the spec's rules, deterministic, populations that
agree with an independent sequential implementation, presets from the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.cli.conftest import invoke, json_of, one_error_line, ouroboros
from tests.worlds.wolfsheep import sequential_reference

from ouroboros.engine import SyncTest, World
from ouroboros.errors import WorldError
from ouroboros.worlds import build_world
from ouroboros.worlds.wolfsheep import PRESETS, WolfSheepPlugin, compute_kpis, counts
from ouroboros.worlds.wolfsheep.systems import grass_chunk, sheep_chunk, wolf_chunk


def world(seed: int = 1, preset: str = "small", **params: int) -> World:
    return World(seed, plugins=[WolfSheepPlugin(preset, params)])


def test_the_large_preset_runs_under_the_sync_test() -> None:
    sync = SyncTest(world(7, "large"), rollback=2)
    sync.run(12)
    assert sync.checked_ticks >= 20


def test_same_seed_same_run_other_seed_other_run() -> None:
    a, b, c = world(3, "large"), world(3, "large"), world(4, "large")
    for w in (a, b, c):
        w.run(30)
    assert a.digest().hex == b.digest().hex
    assert a.digest().hex != c.digest().hex


def test_the_start_follows_the_preset() -> None:
    w = world(2, "large")
    w.start()
    p = PRESETS["large"]
    assert counts(w)["sheep"] == p["initial_sheep"] and counts(w)["wolves"] == p["initial_wolves"]
    sheep, wolves = sheep_chunk(w), wolf_chunk(w)
    assert sheep is not None and wolves is not None
    # integer energies 0..2*delta-1 (SPEC 1.3), in Q16
    assert set(np.unique(sheep["Energy.q16"] >> 16)) == set(range(10))
    assert set(np.unique(wolves["Energy.q16"] >> 16)) == set(range(26))
    grass = grass_chunk(w)
    assert grass is not None and grass.count == 100 * 100
    grown = grass["Grass.grown"]
    assert 0.45 < grown.mean() < 0.55
    assert (grass["Grass.countdown"][grown] == 10).all()
    assert set(np.unique(grass["Grass.countdown"][~grown])) == set(range(10))


def test_every_animal_steps_to_an_in_bounds_moore_neighbour() -> None:
    w = world(5, "small", sheep_reproduce_ppm=0, wolf_reproduce_ppm=0, initial_wolves=0)
    w.start()
    before = {
        int(i): (x, y)
        for i, x, y in zip(
            sheep_chunk(w).ids, sheep_chunk(w)["Position.x"], sheep_chunk(w)["Position.y"], strict=True
        )
    }  # type: ignore[union-attr]
    w.step()
    s = sheep_chunk(w)
    assert s is not None
    for i, x, y in zip(s.ids, s["Position.x"], s["Position.y"], strict=True):
        bx, by = before[int(i)]
        assert max(abs(x - bx), abs(y - by)) == 1
        assert 0 <= x < 25 and 0 <= y < 25


def test_an_eaten_cell_regrows_after_r_plus_one_grass_phases() -> None:
    w = world(1, "small", initial_sheep=0, initial_wolves=0)
    w.start()
    grass = grass_chunk(w)
    assert grass is not None
    grass["Grass.grown"][0] = False  # eaten now: the countdown still holds R = 20
    grass["Grass.countdown"][0] = 20
    for _ in range(20):
        w.step()
    assert not grass_chunk(w)["Grass.grown"][0]  # type: ignore[index]
    w.step()
    assert grass_chunk(w)["Grass.grown"][0]  # type: ignore[index]
    assert (grass_chunk(w)["Grass.grown"]).all()  # type: ignore[index]


def test_starving_animals_die_and_wolves_eat_sheep() -> None:
    w = world(2, "small", initial_sheep=0, wolf_gain=0)  # wolves alone: energy 0..25, minus one a step
    w.run(27)
    assert counts(w)["wolves"] == 0
    w = world(2, "large")
    w.run(20)
    assert compute_kpis(w)["sheep_eaten_total"] > 1000


@pytest.mark.parametrize("preset", ["small", "large"])
def test_populations_over_seeds_stay_alive_and_bounded(preset: str) -> None:
    for seed in range(1, 6):
        w = world(seed, preset)
        w.run(100)
        c = counts(w)
        start = PRESETS[preset]["initial_sheep"] + PRESETS[preset]["initial_wolves"]
        assert c["sheep"] > 0 and c["wolves"] > 0, (preset, seed, c)
        assert c["sheep"] + c["wolves"] < 10 * start, (preset, seed, c)


def test_populations_match_an_independent_sequential_implementation() -> None:
    """Mean populations over steps 20..100 and 40 seeds: the vectorised world and a one-agent-at-a-
    time implementation of the spec agree within 8 % (their random streams differ)."""
    seeds = range(40)
    ref = np.array([sequential_reference.run("small", s, 100) for s in seeds], dtype=float)
    ours = []
    for s in seeds:
        w = World(s, plugins=[WolfSheepPlugin("small")], digest_every_tick=False)
        history = []
        for _ in range(100):
            w.step()
            c = counts(w)
            history.append((c["sheep"], c["wolves"]))
        ours.append(history)
    mine = np.array(ours, dtype=float)
    for kind in (0, 1):
        r, m = ref[:, 20:, kind].mean(), mine[:, 20:, kind].mean()
        assert abs(m - r) < 0.08 * r, (kind, m, r)


def test_bad_config_is_a_world_error() -> None:
    with pytest.raises(WorldError, match="preset"):
        build_world("wolfsheep", 1, {"preset": "huge"})
    with pytest.raises(WorldError, match="presets"):
        build_world("wolfsheep", 1, {"entities": 10})
    with pytest.raises(WorldError, match="outside"):
        build_world("wolfsheep", 1, {"params": {"width": 1}})


def test_cli_runs_the_large_preset_with_sheep_and_wolves(tmp_path: Path) -> None:
    out = json_of(
        ouroboros(
            "run",
            "--world",
            "wolfsheep",
            "--preset",
            "large",
            "--ticks",
            100,
            "--seed",
            1,
            "--json",
            cwd=tmp_path,
        )
    )
    assert out["world"] == "wolfsheep" and out["ticks"] == 100
    assert out["kpis"]["sheep"] > 0 and out["kpis"]["wolves"] > 0
    again = json_of(
        ouroboros(
            "run",
            "--world",
            "wolfsheep",
            "--preset",
            "large",
            "--ticks",
            100,
            "--seed",
            1,
            "--json",
            cwd=tmp_path,
        )
    )
    assert again["digest"] == out["digest"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--preset", "huge"], "unknown wolfsheep preset"),
        (["--entities", "10"], "presets"),
        (["--init", "nowhere.npz"], "init"),
        (["--dump", "out.npz"], "no end state"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(args: list[str], expected: str) -> None:
    code, _, err = invoke("run", "--world", "wolfsheep", "--ticks", 1, *args)
    assert code == 2
    assert expected in one_error_line(err)


def test_numpy_and_numba_kernels_leave_the_same_digest() -> None:
    from ouroboros.worlds.wolfsheep.kernels import available

    kinds = [k.name for k in available()]
    if "numba" not in kinds:
        pytest.skip("numba is not installed")
    digests = set()
    for kernels in kinds:
        w = World(6, plugins=[WolfSheepPlugin("large", kernels=kernels)])
        w.run(40)
        digests.add(w.digest().hex)
    assert len(digests) == 1
