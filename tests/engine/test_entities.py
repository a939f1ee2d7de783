"""Entity ids carry a generation: a stale id never reaches the entity that reuses its slot."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ouroboros.engine import NO_ENTITY, World
from ouroboros.engine.errors import ComponentError, EntityNotFoundError

INDEX_MASK = (1 << 32) - 1


def spawn_row(world: World, n: int) -> list[int]:
    return [world.spawn(Pos={"x": i, "y": -i}) for i in range(n)]


def test_despawned_id_is_not_alive_and_lookups_say_so(bare: World) -> None:
    a, b = spawn_row(bare, 2)
    bare.despawn([a])
    assert not bare.is_alive(a)
    assert bare.is_alive(b)
    with pytest.raises(EntityNotFoundError):
        bare.get(a, "Pos")
    assert bare.try_get(a, "Pos") is None
    assert bare.get(b, "Pos") == {"x": 1, "y": -1}
    assert bare.entity_count == 1


def test_freed_slots_are_reused_oldest_first_under_new_ids(bare: World) -> None:
    ids = spawn_row(bare, 5)
    bare.despawn([ids[3]])
    bare.despawn([ids[1]])
    fresh = [bare.spawn(Pos={"x": 100 + i, "y": 0}) for i in range(3)]
    # slot of ids[3] (freed first), then of ids[1], then a never-used slot
    assert [f & INDEX_MASK for f in fresh] == [ids[3] & INDEX_MASK, ids[1] & INDEX_MASK, 5]
    assert fresh[0] != ids[3] and fresh[1] != ids[1]
    assert all(bare.is_alive(f) for f in fresh)
    assert not bare.is_alive(ids[3]) and not bare.is_alive(ids[1])
    assert bare.entity_count == 6


def test_a_stale_id_never_reaches_the_entity_that_reuses_its_slot(bare: World) -> None:
    (old,) = spawn_row(bare, 1)
    bare.despawn([old])
    new = bare.spawn(Pos={"x": 42, "y": 42})
    assert new & INDEX_MASK == old & INDEX_MASK
    with pytest.raises(EntityNotFoundError):
        bare.get(old, "Pos")
    assert bare.try_get(old, "Pos") is None
    with pytest.raises(EntityNotFoundError):
        bare.set(old, "Pos", x=0)
    with pytest.raises(EntityNotFoundError):
        bare.despawn([old])
    assert bare.get(new, "Pos") == {"x": 42, "y": 42}


def test_id_zero_and_garbage_ids_are_never_alive(bare: World) -> None:
    assert NO_ENTITY == 0
    assert not bare.is_alive(0)
    ids = bare.spawn_batch(["Pos"], 50)
    assert 0 not in ids.tolist()
    for bad in (0, -1, ids.max() + 1, int(ids[0]) + (7 << 32)):
        assert not bare.is_alive(int(bad))
        assert bare.try_get(int(bad), "Pos") is None
    with pytest.raises(EntityNotFoundError):
        bare.get(0, "Pos")


def test_despawning_an_unknown_id_refuses_the_whole_batch(bare: World) -> None:
    a, b = spawn_row(bare, 2)
    bare.despawn([b])
    with pytest.raises(EntityNotFoundError):
        bare.despawn([a, b])
    assert bare.is_alive(a)


def test_missing_component_raises_and_try_get_returns_none(bare: World) -> None:
    (a,) = spawn_row(bare, 1)
    with pytest.raises(ComponentError):
        bare.get(a, "Vel")
    assert bare.try_get(a, "Vel") is None
    assert bare.try_get(a, "NoSuchComponent") is None


def test_spawn_batch_gives_distinct_ids_and_the_values_asked_for(bare: World) -> None:
    ids = bare.spawn_batch(["Pos", "Vel"], 4, {"Pos.x": np.arange(4), "Vel.y": 9})
    assert len(set(ids.tolist())) == 4
    assert [bare.get(int(e), "Pos") for e in ids] == [{"x": i, "y": 0} for i in range(4)]
    assert all(bare.get(int(e), "Vel") == {"x": 0, "y": 9} for e in ids)


def test_a_refused_spawn_leaves_no_ghost_entities(bare: World) -> None:
    spawn_row(bare, 2)
    with pytest.raises(ComponentError):
        bare.spawn_batch(["Pos"], 3, {"Pos.z": 1})  # a typo in the column name
    with pytest.raises(ComponentError):
        bare.spawn_batch(["Pos"], 3, {"Pos.x": [1, 2]})  # one value short
    assert bare.entity_count == 2
    assert bare.count("Pos") == 2
    bare.restore(bare.snapshot())


def test_a_slot_stays_usable_after_two_billion_reuses(bare: World) -> None:
    (first,) = spawn_row(bare, 1)
    # A steady population reuses the same slot every tick; 2**31 reuses take weeks at a few
    # thousand ticks per second. Jump there instead of looping.
    bare._entities.generation[first & INDEX_MASK] = 2**31 - 1
    old = int(bare._entities.ids_of(np.array([first & INDEX_MASK]))[0])
    bare.despawn([old])
    new = bare.spawn(Pos={"x": 7, "y": 7})
    assert new > 0
    assert bare.is_alive(new)
    assert bare.get(new, "Pos") == {"x": 7, "y": 7}
    assert not bare.is_alive(old)


@given(st.lists(st.integers(-(2**62), 2**62), max_size=40))
def test_unique_sorted_is_numpy_s_unique(values: list[int]) -> None:
    from ouroboros.engine.structure import unique_sorted

    array = np.array(values, dtype=np.int64)
    got, want = unique_sorted(array), np.unique(array)
    assert got.dtype == want.dtype and got.tolist() == want.tolist()
    assert array.tolist() == values  # its input is left as it was
