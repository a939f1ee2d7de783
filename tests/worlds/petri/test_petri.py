"""The petri dish as a user of the engine sees it: alive, bounded, deterministic, steerable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ouroboros.engine import SyncTest, World
from ouroboros.errors import InputError, WorldError
from ouroboros.worlds import build_world, world_names
from ouroboros.worlds.petri import PetriPlugin, compute_kpis
from ouroboros.worlds.petri import kernels as K
from ouroboros.worlds.petri.params import ONE
from ouroboros.worlds.petri.spatial import build_grid
from ouroboros.worlds.petri.systems import molbots

WORLDS_DIR = Path(__file__).resolve().parents[3] / "src" / "ouroboros" / "worlds"
HAS_NUMBA = "numba" in K.available()


def petri(seed: int = 5, entities: int = 150, kernels: str = "auto", **params: int) -> World:
    return World(seed, plugins=[PetriPlugin(entities=entities, params=params, kernels=kernels)])


@pytest.mark.parametrize("name", world_names())
def test_every_world_passes_the_sync_test(name: str) -> None:
    """Re-simulating the last 3 ticks from a snapshot, every tick, gives the same digests."""
    world = build_world(name, 11, {"entities": 120} if name == "petri" else {})
    sync = SyncTest(world, rollback=3)
    sync.run(60)
    assert sync.checked_ticks >= 170
    assert world.tick == 60


@pytest.mark.parametrize("name", world_names())
def test_every_world_folder_has_the_same_shape(name: str) -> None:
    folder = WORLDS_DIR / name
    for part in ("__init__.py", "components.py", "params.py", "systems.py", "plugin.py", "README.md"):
        assert (folder / part).is_file(), f"{name} lacks {part}"


def test_dish_lives_births_and_deaths_by_every_cause() -> None:
    world = petri(seed=3, entities=400, max_age=300)
    world.run(900)
    stats = world.resources["stats"]
    assert stats["births"] > 100
    for cause in ("starvation", "age", "collision"):
        assert stats["deaths"][cause] > 0, cause
    kpis = compute_kpis(world)
    assert kpis["entity_count"] > 0
    assert kpis["max_generation"] >= 2
    assert kpis["dominant_trait"] in world.meta["traits"]


def test_state_stays_inside_the_rules() -> None:
    world = petri(seed=9, entities=300, width=500, height=400, gravity_fp=ONE // 8)
    for _ in range(300):
        world.step()
        mb = molbots(world)
        assert mb is not None
        assert (mb["Position.x"] >= 0).all() and (mb["Position.x"] <= 500 * ONE).all()
        assert (mb["Position.y"] >= 0).all() and (mb["Position.y"] <= 400 * ONE).all()
        vmax = world.resources["params"]["max_speed_fp"]
        assert (np.abs(mb["Velocity.x"]) <= vmax).all() and (np.abs(mb["Velocity.y"]) <= vmax).all()
        assert (mb["Body.energy"] <= mb["Body.max_energy"]).all()
        assert (mb["Body.energy"] > 0).all(), "the dead are removed at the tick boundary"


def test_minimum_population_reseeds_an_empty_dish() -> None:
    world = petri(seed=4, entities=0, min_population=25)
    world.run(1)
    assert molbots(world) is not None and molbots(world).count == 25  # type: ignore[union-attr]
    assert world.resources["stats"]["reseeded"] == 25


def test_population_never_passes_max_entities() -> None:
    world = petri(seed=8, entities=100, max_entities=130, resource_spawn_rate_fp=200 * ONE, max_food=5000)
    for _ in range(400):
        world.step()
        assert molbots(world).count <= 130  # type: ignore[union-attr]
    assert world.resources["stats"]["births"] > 0


def test_set_param_applies_at_the_next_tick_boundary() -> None:
    world = petri(seed=2)
    world.run(5)
    world.submit("set_param", {"name": "temperature", "value": 60})
    assert world.resources["params"]["temperature"] == 20, "not before the boundary"
    report = world.step()
    assert world.resources["params"]["temperature"] == 60
    assert [i.kind for i in report.inputs] == ["set_param"]


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "gravity_fp", "value": 10 * ONE},
        {"name": "warp_drive", "value": 1},
        {"name": "friction_fp", "value": 0.5},
        {"name": "width"},
        "temperature=5",
    ],
)
def test_bad_set_param_is_refused_when_submitted(payload: object) -> None:
    world = petri()
    before = world.digest().hex
    with pytest.raises((WorldError, InputError)):
        world.submit("set_param", payload)
    world.run(1)
    assert world.resources["params"] == PetriPlugin(entities=150).params
    assert world.digest().hex != before  # the world went on


def test_parameters_change_what_happens() -> None:
    hot = petri(seed=6, entities=300)
    cold = petri(seed=6, entities=300)
    cold.submit("set_param", {"name": "resource_spawn_rate_fp", "value": 0})
    cold.submit("set_param", {"name": "max_food", "value": 0})
    hot.run(400)
    cold.run(400)
    assert molbots(hot).count > molbots(cold).count  # type: ignore[union-attr]
    assert cold.resources["stats"]["deaths"]["starvation"] > hot.resources["stats"]["deaths"]["starvation"]


def test_telemetry_every_n_ticks() -> None:
    world = petri(seed=1, telemetry_every=10)
    world.run(9)
    assert world.resources["telemetry"] is None
    world.run(1)
    t = world.resources["telemetry"]
    assert t["tick"] == 10
    for key in (
        "entity_count",
        "avg_energy_fp",
        "births",
        "deaths",
        "resource_density_per_mil",
        "trait_diversity",
        "dominant_trait",
    ):
        assert key in t
    assert set(t["deaths"]) == {"starvation", "age", "collision"}


def test_unknown_world_and_bad_config_are_refused() -> None:
    with pytest.raises(WorldError):
        build_world("atlantis", 1)
    with pytest.raises(WorldError):
        build_world("petri", 1, {"entities": -5})
    with pytest.raises(WorldError):
        build_world("petri", 1, {"params": {"width": 10**9}})


@pytest.mark.skipif(not HAS_NUMBA, reason="numba is not installed")
def test_numba_and_numpy_kernels_give_identical_digests() -> None:
    a = petri(seed=12, entities=600, kernels="numpy")
    b = petri(seed=12, entities=600, kernels="numba")
    for _ in range(250):
        da, db = a.step().digest, b.step().digest
        assert da is not None and db is not None
        assert da.hex == db.hex, f"tick {a.tick}: {da.differing_sections(db)}"
    assert a.resources["stats"]["deaths"]["collision"] > 0
    assert a.resources["stats"]["food_eaten"] > 0


coords = st.integers(min_value=0, max_value=120 * ONE)


@pytest.mark.skipif(not HAS_NUMBA, reason="numba is not installed")
@settings(max_examples=60, deadline=None)
@given(
    bots=st.lists(
        st.tuples(coords, coords, st.integers(2 * ONE, 4 * ONE), st.integers(1, 5)), min_size=1, max_size=60
    ),
    food=st.lists(st.tuples(coords, coords), min_size=0, max_size=60),
)
def test_contact_kernels_agree_on_any_layout(
    bots: list[tuple[int, int, int, int]], food: list[tuple[int, int]]
) -> None:
    """Crowded, tied and empty layouts alike: both kernels pick the same eater and predator."""
    numba_k = K.select("numba")
    bx = np.array([b[0] for b in bots], dtype=np.int64)
    by = np.array([b[1] for b in bots], dtype=np.int64)
    br = np.array([b[2] for b in bots], dtype=np.int32)
    energy = np.array([b[3] * ONE for b in bots], dtype=np.int64)
    fx = np.array([f[0] for f in food], dtype=np.int64)
    fy = np.array([f[1] for f in food], dtype=np.int64)
    bot_grid = build_grid(bx, by, 3, 120, 120)
    food_grid = build_grid(fx, fy, 3, 120, 120)
    for got, want in (
        (
            numba_k.eat_contacts(bx, by, br, fx, fy, food_grid, bot_grid),
            K.NUMPY.eat_contacts(bx, by, br, fx, fy, food_grid, bot_grid),
        ),
        (
            numba_k.predation_contacts(bx, by, br, energy, bot_grid),
            K.NUMPY.predation_contacts(bx, by, br, energy, bot_grid),
        ),
        (
            numba_k.sort_cells(bot_grid.cy * bot_grid.cols + bot_grid.cx, bot_grid.cols * bot_grid.rows),
            K.NUMPY.sort_cells(bot_grid.cy * bot_grid.cols + bot_grid.cx, bot_grid.cols * bot_grid.rows),
        ),
    ):
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_unknown_kernels_are_refused() -> None:
    with pytest.raises(WorldError):
        PetriPlugin(kernels="quantum")
