"""Archetype storage: entities move between tables with their data; queries find every table."""

from __future__ import annotations

import numpy as np
import pytest

from ouroboros.engine import World
from ouroboros.engine.errors import ComponentError


def test_add_component_moves_the_entity_with_its_data(bare: World) -> None:
    a = bare.spawn(Pos={"x": 1, "y": 2})
    b = bare.spawn(Pos={"x": 3, "y": 4})
    c = bare.spawn(Pos={"x": 5, "y": 6})
    bare.add_component([b], "Vel", {"Vel.x": 7, "Vel.y": 8})
    assert bare.components_of(b) == ("Pos", "Vel")
    assert bare.get(b, "Pos") == {"x": 3, "y": 4}
    assert bare.get(b, "Vel") == {"x": 7, "y": 8}
    # the entities left behind keep their own data
    assert bare.get(a, "Pos") == {"x": 1, "y": 2}
    assert bare.get(c, "Pos") == {"x": 5, "y": 6}
    assert bare.count("Pos") == 3
    assert bare.count("Pos", "Vel") == 1


def test_remove_component_keeps_the_other_components(bare: World) -> None:
    a = bare.spawn(Pos={"x": 1, "y": 2}, Vel={"x": 3, "y": 4})
    b = bare.spawn(Pos={"x": 5, "y": 6}, Vel={"x": 7, "y": 8})
    bare.remove_component([a], "Vel")
    assert bare.components_of(a) == ("Pos",)
    assert bare.get(a, "Pos") == {"x": 1, "y": 2}
    assert bare.try_get(a, "Vel") is None
    assert bare.get(b, "Vel") == {"x": 7, "y": 8}
    with pytest.raises(ComponentError):
        bare.remove_component([a], "Vel")


def test_add_then_remove_round_trips_a_batch(bare: World) -> None:
    ids = bare.spawn_batch(["Pos"], 6, {"Pos.x": np.arange(6) * 10})
    bare.add_component(ids[::2], "Mark", {"Mark.v": 1})
    bare.remove_component(ids[::2], "Mark")
    assert bare.count("Mark") == 0
    assert sorted(bare.get(int(e), "Pos")["x"] for e in ids) == list(range(0, 60, 10))


def test_query_returns_every_archetype_with_the_components(bare: World) -> None:
    only_pos = bare.spawn(Pos={"x": 1, "y": 0})
    pos_vel = bare.spawn(Pos={"x": 2, "y": 0}, Vel={"x": 0, "y": 0})
    only_vel = bare.spawn(Vel={"x": 3, "y": 0})
    pos_mark = bare.spawn(Pos={"x": 4, "y": 0}, Mark={"v": 1})
    all_three = bare.spawn(Pos={"x": 5, "y": 0}, Vel={"x": 0, "y": 0}, Mark={"v": 1})

    def ids(*components: str) -> set[int]:
        return {int(e) for chunk in bare.query(*components) for e in chunk.ids}

    assert ids("Pos") == {only_pos, pos_vel, pos_mark, all_three}
    assert ids("Vel") == {pos_vel, only_vel, all_three}
    assert ids("Pos", "Vel") == {pos_vel, all_three}
    assert ids("Mark", "Vel") == {all_three}
    assert ids() == {only_pos, pos_vel, only_vel, pos_mark, all_three}
    assert sorted(int(x) for chunk in bare.query("Pos") for x in chunk["Pos.x"]) == [1, 2, 4, 5]
    with pytest.raises(ComponentError):
        bare.query("NoSuchComponent")


def test_query_sees_archetypes_created_after_an_earlier_query(bare: World) -> None:
    bare.spawn(Pos={"x": 1, "y": 0})
    assert bare.count("Pos") == 1
    bare.spawn(Pos={"x": 2, "y": 0}, Mark={"v": 1})
    assert bare.count("Pos") == 2


def test_despawn_keeps_the_others_data_and_order(bare: World) -> None:
    ids = bare.spawn_batch(["Pos"], 6, {"Pos.x": np.arange(6), "Pos.y": np.arange(6) * -1})
    bare.despawn([ids[4], ids[1]])
    (chunk,) = bare.query("Pos")
    kept = [0, 2, 3, 5]
    assert chunk.ids.tolist() == ids[kept].tolist()
    assert chunk["Pos.x"].tolist() == kept
    assert chunk["Pos.y"].tolist() == [-k for k in kept]
    assert [bare.get(int(ids[k]), "Pos")["x"] for k in kept] == kept


def test_the_layout_after_despawns_does_not_depend_on_the_order_asked(bare: World) -> None:
    other = bare.fork()
    ids = bare.spawn_batch(["Pos"], 8, {"Pos.x": np.arange(8)})
    other.spawn_batch(["Pos"], 8, {"Pos.x": np.arange(8)})
    bare.despawn(ids[[1, 6, 3]])
    other.despawn(ids[[6, 3, 1, 3]])
    assert bare.digest() == other.digest()


def test_set_writes_one_entity_only(bare: World) -> None:
    ids = bare.spawn_batch(["Pos"], 3)
    bare.set(int(ids[1]), "Pos", x=-5)
    assert [bare.get(int(e), "Pos")["x"] for e in ids] == [0, -5, 0]
    with pytest.raises(ComponentError):
        bare.set(int(ids[1]), "Vel", x=1)


def test_add_component_values_follow_the_order_of_the_ids_given(bare: World) -> None:
    a = bare.spawn(Pos={"x": 1, "y": 1})
    b = bare.spawn(Pos={"x": 2, "y": 2})
    bare.add_component([b, a], "Vel", {"Vel.x": np.array([20, 10])})
    assert bare.get(a, "Vel")["x"] == 10
    assert bare.get(b, "Vel")["x"] == 20


def test_per_entity_values_follow_the_ids_across_archetypes(bare: World) -> None:
    plain = bare.spawn(Pos={"x": 1, "y": 1})
    marked = bare.spawn(Pos={"x": 2, "y": 2}, Mark={"v": 1})
    other = bare.spawn(Pos={"x": 3, "y": 3})
    bare.add_component([other, marked, plain], "Vel", {"Vel.x": np.array([30, 20, 10]), "Vel.y": -1})
    assert [bare.get(e, "Vel") for e in (plain, marked, other)] == [
        {"x": 10, "y": -1},
        {"x": 20, "y": -1},
        {"x": 30, "y": -1},
    ]
    assert bare.get(marked, "Mark") == {"v": 1}


def test_a_refused_remove_component_moves_nobody(bare: World) -> None:
    with_vel = bare.spawn(Pos={"x": 1, "y": 1}, Vel={"x": 5, "y": 5})
    without = bare.spawn(Pos={"x": 2, "y": 2})
    before = bare.digest()
    with pytest.raises(ComponentError):
        bare.remove_component([with_vel, without], "Vel")
    assert bare.get(with_vel, "Vel") == {"x": 5, "y": 5}
    assert bare.digest() == before


def test_a_refused_add_component_leaves_the_entities_intact(bare: World) -> None:
    a = bare.spawn(Pos={"x": 1, "y": 1})
    b = bare.spawn(Pos={"x": 2, "y": 2})
    with pytest.raises(ComponentError):
        bare.add_component([a], "Vel", {"Vel.z": 5})  # a typo in the column name
    with pytest.raises(ComponentError):
        bare.add_component([a, b], "Vel", {"Vel.x": [1, 2, 3]})  # one value too many
    assert bare.count("Pos") == 2
    assert bare.get(a, "Pos") == {"x": 1, "y": 1}
    assert bare.get(b, "Pos") == {"x": 2, "y": 2}


def test_add_component_with_values_on_an_existing_component_is_not_silently_dropped(bare: World) -> None:
    a = bare.spawn(Pos={"x": 1, "y": 1}, Vel={"x": 0, "y": 0})
    try:
        bare.add_component([a], "Vel", {"Vel.x": 5})
    except ComponentError:
        return  # refusing is an acceptable answer; doing nothing silently is not
    assert bare.get(a, "Vel")["x"] == 5


def test_a_queued_add_component_may_name_an_entity_twice(bare: World) -> None:
    a = bare.spawn(Pos={"x": 1, "y": 1})
    bare.add_system("tagger", lambda w: w.commands.add_component([a, a], "Mark"), writes=["Mark"])
    bare.step()
    assert bare.tick == 1
    assert bare.components_of(a) == ("Mark", "Pos")
