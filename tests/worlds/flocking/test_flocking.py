"""Flocking as a user of the engine sees it: the spec's sequential rule bit for bit against a plain
reference, from an init file to a dump; deterministic; bad files refused with one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.cli.conftest import invoke, json_of, one_error_line, ouroboros
from tests.worlds.flocking import plain_reference

from ouroboros.engine import SyncTest, World
from ouroboros.errors import WorldError
from ouroboros.worlds.flocking import FlockingPlugin, compute_kpis, state_arrays
from ouroboros.worlds.flocking import kernels as K
from ouroboros.worlds.flocking.initfile import read_init

HAS_NUMBA = "numba" in K.available()


def init_file(path: Path, n: int, steps: int, extent: float, seed: int = 0, clumped: bool = False) -> Path:
    rng = np.random.default_rng(seed)
    pos = rng.random((n, 2)) * extent
    if clumped:  # birds across the seams and closer than the separation distance
        pos[: n // 2] = (rng.random((n // 2, 2)) * 3.0 - 1.5) % extent
    vel = rng.random((n, 2)) * 2 - 1
    orders = np.array([rng.permutation(n) for _ in range(steps)])
    np.savez(path, pos0=pos, vel0=vel, orders=orders)
    return path


@pytest.mark.parametrize("clumped", [False, True])
def test_dump_equals_the_plain_reference_bit_for_bit(tmp_path: Path, clumped: bool) -> None:
    src = init_file(tmp_path / "init.npz", n=90, steps=12, extent=150.0, seed=3, clumped=clumped)
    out = tmp_path / "out.npz"
    result = json_of(
        ouroboros(
            "run",
            "--world",
            "flocking",
            "--preset",
            "large",
            "--init",
            src,
            "--dump",
            out,
            "--ticks",
            12,
            "--json",
            cwd=tmp_path,
        )
    )
    assert result["kpis"]["birds"] == 90
    with np.load(src) as f, np.load(out) as got:
        pos, vel = plain_reference.run(f["pos0"], f["vel0"], f["orders"], extent=150.0, r=15.0)
        assert got["pos"].dtype == np.float64 and got["pos"].shape == (90, 2)
        assert np.array_equal(got["pos"], pos)
        assert np.array_equal(got["vel"], vel)


@pytest.mark.parametrize("kernels", ["numpy", "numba"] if HAS_NUMBA else ["numpy"])
def test_each_kernel_equals_the_plain_reference_on_the_small_preset(tmp_path: Path, kernels: str) -> None:
    src = init_file(tmp_path / "init.npz", n=120, steps=6, extent=100.0, seed=8, clumped=True)
    w = World(0, plugins=[FlockingPlugin("small", init=src, kernels=kernels)])
    w.run(6)
    with np.load(src) as f:
        pos, vel = plain_reference.run(f["pos0"], f["vel0"], f["orders"], extent=100.0, r=5.0)
    got = state_arrays(w)
    assert np.array_equal(got["pos"], pos) and np.array_equal(got["vel"], vel)


@pytest.mark.skipif(not HAS_NUMBA, reason="numba is not installed")
def test_numba_and_numpy_variants_leave_the_same_digest() -> None:
    worlds = [World(4, plugins=[FlockingPlugin("large", kernels=k)]) for k in ("numpy", "numba")]
    for w in worlds:
        w.run(15)
    assert worlds[0].digest().hex == worlds[1].digest().hex


def test_the_large_preset_runs_under_the_sync_test() -> None:
    sync = SyncTest(World(2, plugins=[FlockingPlugin("large")]), rollback=2)
    sync.run(10)
    assert sync.checked_ticks >= 17


def test_a_random_start_follows_the_spec_and_the_flock_aligns() -> None:
    w = World(9, plugins=[FlockingPlugin("large")])
    w.start()
    s = state_arrays(w)
    assert s["pos"].shape == (400, 2) and (s["pos"] >= 0).all() and (s["pos"] < 150).all()
    speeds = np.hypot(s["vel"][:, 0], s["vel"][:, 1])
    assert (np.abs(s["vel"]) < 1).all() and not np.allclose(speeds, 1.0)  # not normalised
    before = compute_kpis(w)["alignment"]
    w.run(100)
    s = state_arrays(w)
    assert np.allclose(np.hypot(s["vel"][:, 0], s["vel"][:, 1]), 1.0)
    assert compute_kpis(w)["alignment"] > 2 * before


def test_same_seed_same_flight_other_seed_other_flight() -> None:
    a, b, c = (World(s, plugins=[FlockingPlugin("small")]) for s in (5, 5, 6))
    for w in (a, b, c):
        w.run(20)
    assert a.digest().hex == b.digest().hex != c.digest().hex


def _write(path: Path, **arrays: np.ndarray) -> Path:
    np.savez(path, **arrays)  # type: ignore[arg-type]
    return path


@pytest.mark.parametrize(
    ("arrays", "expected"),
    [
        ({"pos0": np.zeros((3, 2))}, "lacks vel0"),
        ({"pos0": np.zeros((3, 2)), "vel0": np.zeros((2, 2))}, "vel0 2"),
        ({"pos0": np.zeros((3, 3)), "vel0": np.zeros((3, 2))}, "Nx2"),
        ({"pos0": np.full((3, 2), np.nan), "vel0": np.zeros((3, 2))}, "NaN"),
        ({"pos0": np.full((3, 2), 500.0), "vel0": np.zeros((3, 2))}, "outside the extent"),
        (
            {"pos0": np.zeros((3, 2)), "vel0": np.zeros((3, 2)), "orders": np.array([[0, 0, 1]])},
            "permutation",
        ),
        ({"pos0": np.zeros((3, 2)), "vel0": np.zeros((3, 2)), "orders": np.zeros((2, 3)) + 0.5}, "integer"),
    ],
)
def test_a_bad_init_file_exits_2_with_one_line(
    tmp_path: Path, arrays: dict[str, np.ndarray], expected: str
) -> None:
    src = _write(tmp_path / "bad.npz", **arrays)
    code, _, err = invoke("run", "--world", "flocking", "--init", src, "--ticks", 1)
    assert code == 2
    assert expected in one_error_line(err)


def test_a_damaged_npz_member_exits_2_with_one_line(tmp_path: Path) -> None:
    src = init_file(tmp_path / "init.npz", n=50, steps=2, extent=100.0)
    data = bytearray(src.read_bytes())
    middle = len(data) // 3
    data[middle : middle + 64] = bytes(64)  # inside a member: its CRC no longer matches
    src.write_bytes(bytes(data))
    code, _, err = invoke("run", "--world", "flocking", "--init", src, "--ticks", 1)
    assert code == 2
    assert "init file" in one_error_line(err)


def test_not_an_npz_and_too_many_ticks_exit_2(tmp_path: Path) -> None:
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    code, _, err = invoke("run", "--world", "flocking", "--init", junk, "--ticks", 1)
    assert code == 2 and "not a readable .npz" in one_error_line(err)
    src = init_file(tmp_path / "init.npz", n=10, steps=3, extent=100.0)
    out = tmp_path / "out.npz"
    code, _, err = invoke("run", "--world", "flocking", "--init", src, "--dump", out, "--ticks", 4)
    assert code == 2 and "passes tick 3" in one_error_line(err)
    assert not out.exists()


def test_a_logged_init_run_replays_and_a_snapshot_resumes_to_the_same_end(tmp_path: Path) -> None:
    src = init_file(tmp_path / "init.npz", n=60, steps=10, extent=100.0, seed=2)
    straight = json_of(
        ouroboros("run", "--world", "flocking", "--init", src, "--ticks", 10, "--json", cwd=tmp_path)
    )
    first = json_of(
        ouroboros(
            "run", "--world", "flocking", "--init", src, "--ticks", 4, "--log", "a.log", "--save", "a.snap",
            "--json", cwd=tmp_path,
        )
    )  # fmt: skip
    assert first["ticks"] == 4
    replayed = ouroboros("replay", "a.log", cwd=tmp_path)
    assert replayed.returncode == 0, replayed.stderr
    resumed = json_of(
        ouroboros("run", "--from", "a.snap", "--ticks", 6, "--dump", "end.npz", "--json", cwd=tmp_path)
    )
    assert resumed["digest"] == straight["digest"]
    with np.load(tmp_path / "end.npz") as end:
        assert end["pos"].shape == (60, 2)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 6),
    pos_cols=st.sampled_from([1, 2, 3]),
    fill=st.sampled_from([0.0, 50.0, 99.5, 100.0, 150.0, -1.0, float("nan"), float("inf")]),
    orders=st.one_of(st.none(), st.lists(st.lists(st.integers(-2, 7), min_size=0, max_size=7), max_size=3)),
    with_vel=st.booleans(),
)
def test_any_init_file_is_read_or_refused_with_a_world_error(
    tmp_path_factory: pytest.TempPathFactory,
    n: int,
    pos_cols: int,
    fill: float,
    orders: list[list[int]] | None,
    with_vel: bool,
) -> None:
    """Whatever arrays an .npz holds, reading it gives a checked start state or one WorldError."""
    path = tmp_path_factory.mktemp("init") / "f.npz"
    arrays: dict[str, np.ndarray] = {"pos0": np.full((n, pos_cols), fill)}
    if with_vel:
        arrays["vel0"] = np.zeros((n, 2))
    if orders is not None:
        width = max((len(row) for row in orders), default=0)
        padded = [row + [0] * (width - len(row)) for row in orders]
        arrays["orders"] = np.array(padded, dtype=np.int64).reshape(len(orders), width)
    np.savez(path, **arrays)  # type: ignore[arg-type]
    try:
        state = read_init(path, 100.0, 100.0)
    except WorldError:
        return
    assert state.pos0.shape == (n, 2) and np.isfinite(state.pos0).all()
    assert ((state.pos0 >= 0) & (state.pos0 <= 100.0)).all()
    if state.orders is not None:
        for row in state.orders:
            assert sorted(row.tolist()) == list(range(n))
