"""The per-tick digest: equal states hash equal, and a difference is traced to its section."""

from __future__ import annotations

import pytest

from ouroboros.engine import Component, World
from ouroboros.engine.errors import ComponentError, EngineError

from .toy import build_world, run_with_pushes


def test_equal_states_have_equal_digests() -> None:
    a, b = build_world(), build_world()
    assert a.digest() == b.digest()
    assert run_with_pushes(a, 12, {4: (1, -1)}) == run_with_pushes(b, 12, {4: (1, -1)})
    assert a.digest() == b.digest()


def test_every_tick_of_a_run_has_its_own_digest(toy: World) -> None:
    digests = run_with_pushes(toy, 10)
    assert len(set(digests)) == 10


def test_a_different_seed_or_input_gives_a_different_digest() -> None:
    base = run_with_pushes(build_world(), 6)
    assert run_with_pushes(build_world(seed=8), 6)[-1] != base[-1]
    pushed = run_with_pushes(build_world(), 6, {6: (1, 0)})
    assert pushed[:5] == base[:5]
    assert pushed[5] != base[5]


def test_the_digest_covers_the_tick_number(bare: World) -> None:
    before = bare.digest()
    bare.step()  # no systems: nothing changes but the tick
    after = bare.digest()
    assert after.combined != before.combined
    assert after.differing_sections(before) == []


def test_sections_name_entities_resources_and_every_field(toy: World) -> None:
    names = toy.digest().section_names()
    assert names[:2] == ("entities", "resources")
    assert set(names[2:]) == {"Pos.x", "Pos.y", "Vel.x", "Vel.y"}


@pytest.mark.parametrize("field", ["Pos.x", "Pos.y", "Vel.x", "Vel.y"])
def test_changing_one_value_changes_exactly_its_section(toy: World, field: str) -> None:
    toy.run(3)
    before = toy.digest()
    comp, name = field.split(".")
    victim = int(toy.query(comp)[0].ids[5])
    toy.set(victim, comp, **{name: toy.get(victim, comp)[name] + 1})
    after = toy.digest()
    assert after.combined != before.combined
    assert after.differing_sections(before) == [field]
    assert before.differing_sections(after) == [field]


def test_a_resource_change_shows_in_resources_only(toy: World) -> None:
    toy.run(2)
    before = toy.digest()
    toy.resources["weather"] = "rain"
    assert toy.digest().differing_sections(before) == ["resources"]


def test_a_despawn_shows_in_entities_and_the_columns(toy: World) -> None:
    toy.run(2)
    before = toy.digest()
    toy.despawn(toy.query("Pos")[0].ids[:1])
    assert toy.digest().differing_sections(before) == ["entities", "Pos.x", "Pos.y", "Vel.x", "Vel.y"]


def test_resource_key_order_does_not_matter(bare: World) -> None:
    other = bare.fork()
    bare.resources.update({"a": 1, "b": {"x": [1, 2], "y": None}})
    other.resources.update({"b": {"y": None, "x": [1, 2]}, "a": 1})
    assert bare.digest() == other.digest()


@pytest.mark.parametrize(
    "value", [1.5, [1, 2.0], {"deep": {"er": float("nan")}}, {1: "non-string key"}, object(), b"bytes"]
)
def test_resources_that_are_not_plain_integer_data_are_refused(bare: World, value: object) -> None:
    bare.resources["bad"] = value
    with pytest.raises(EngineError):
        bare.digest()
    with pytest.raises(EngineError):
        bare.step()


def test_a_float_component_field_is_refused_at_definition() -> None:
    with pytest.raises(ComponentError):
        Component("Heat", t="f8")
    with pytest.raises(ComponentError):
        Component("Heat", t=float)


def test_a_component_cannot_be_registered_twice_differently(bare: World) -> None:
    bare.register_component(Component("Pos", x="i8", y="i8"))  # the same again is fine
    with pytest.raises(ComponentError):
        bare.register_component(Component("Pos", x="i4", y="i4"))
