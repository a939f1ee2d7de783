"""Declared access and structural change: systems touch only what they declared, and spawn or
despawn only through ``world.commands``, applied at the tick boundary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from ouroboros.engine import World
from ouroboros.engine.errors import AccessError, EngineError


def test_a_column_declared_only_in_reads_is_handed_out_read_only(bare: World) -> None:
    e = bare.spawn(Pos={"x": 1, "y": 1})
    seen: list[int] = []

    def sneaky(world: World) -> None:
        (chunk,) = world.query("Pos")
        seen.append(int(chunk["Pos.x"][0]))
        chunk["Pos.x"][0] = 99

    bare.add_system("sneaky", sneaky, reads=["Pos"])
    with pytest.raises(ValueError, match="read-only"):
        bare.step()
    assert seen == [1]
    assert bare.get(e, "Pos") == {"x": 1, "y": 1}


def test_in_place_arithmetic_on_a_read_only_column_is_refused(bare: World) -> None:
    e = bare.spawn(Pos={"x": 1, "y": 1})

    def sneaky(world: World) -> None:
        for chunk in world.query("Pos"):
            x = chunk["Pos.x"]
            x += 1

    bare.add_system("sneaky", sneaky, reads=["Pos"])
    with pytest.raises(ValueError):
        bare.step()
    assert bare.get(e, "Pos")["x"] == 1


def test_a_declared_write_goes_through(bare: World) -> None:
    e = bare.spawn(Pos={"x": 1, "y": 1}, Vel={"x": 2, "y": 3})

    def step(world: World) -> None:
        for chunk in world.query("Pos", "Vel"):
            chunk["Pos.x"][:] += chunk["Vel.x"]

    bare.add_system("step", step, reads=["Vel"], writes=["Pos"])
    bare.run(2)
    assert bare.get(e, "Pos")["x"] == 5


def test_touching_an_undeclared_component_raises_access_error(bare: World) -> None:
    bare.spawn(Pos={"x": 1, "y": 1}, Vel={"x": 2, "y": 3})

    def peek(world: World) -> None:
        for chunk in world.query("Pos", "Vel"):
            chunk["Vel.x"]

    bare.add_system("peek", peek, reads=["Pos"])
    with pytest.raises(AccessError) as info:
        bare.step()
    assert info.value.path == "Vel.x"
    assert "peek" in info.value.message


def test_entity_ids_in_a_chunk_are_read_only(bare: World) -> None:
    bare.spawn(Pos={"x": 1, "y": 1})
    (chunk,) = bare.query("Pos")
    with pytest.raises(ValueError):
        chunk.ids[0] = 12345


def _spawn(world: World) -> None:
    world.spawn(Pos={"x": 0, "y": 0})


def _spawn_batch(world: World) -> None:
    world.spawn_batch(["Pos"], 2)


def _despawn(world: World) -> None:
    world.despawn(world.query("Pos")[0].ids[:1])


def _add(world: World) -> None:
    world.add_component(world.query("Pos")[0].ids[:1], "Mark")


def _remove(world: World) -> None:
    world.remove_component(world.query("Pos")[0].ids[:1], "Pos")


@pytest.mark.parametrize("change", [_spawn, _spawn_batch, _despawn, _add, _remove])
@pytest.mark.parametrize("phase", ["startup", "pre_tick", "tick", "post_tick"])
def test_immediate_structural_change_inside_a_system_is_refused(
    bare: World, change: Callable[[World], None], phase: str
) -> None:
    bare.spawn_batch(["Pos"], 3)
    bare.add_system("rude", change, phase=phase, writes=["Pos", "Mark"])
    before = bare.digest()
    with pytest.raises(EngineError, match=r"world\.commands"):
        bare.step()
    assert bare.digest().differing_sections(before) == []
    # and outside a tick the same call is fine
    change(bare)


def test_commands_apply_at_the_tick_boundary(bare: World) -> None:
    seen_by_later_system: list[int] = []

    def breed(world: World) -> None:
        world.commands.spawn(["Pos", "Mark"], 2, {"Pos.x": 5, "Mark.v": 1})

    def count_marks(world: World) -> None:
        seen_by_later_system.append(world.count("Mark"))

    bare.add_system("breed", breed, writes=["Pos", "Mark"])
    bare.add_system("count_marks", count_marks, phase="post_tick", reads=["Mark"])
    report = bare.step()
    assert seen_by_later_system == [0]  # not visible to later systems of the same tick
    assert bare.count("Mark") == 2  # applied before the tick's digest
    assert report.digest == bare.digest()
    bare.step()
    assert seen_by_later_system == [0, 2]
    assert bare.count("Mark") == 4


def test_a_despawn_command_takes_effect_after_the_tick(bare: World) -> None:
    victim = bare.spawn(Pos={"x": 1, "y": 1})
    alive_in_later_system: list[bool] = []

    def kill(world: World) -> None:
        world.commands.despawn([victim])

    def look(world: World) -> None:
        alive_in_later_system.append(world.is_alive(victim))

    bare.add_system("kill", kill, writes=["Pos"])
    bare.add_system("look", look, after=["kill"])
    bare.step()
    assert alive_in_later_system == [True]
    assert not bare.is_alive(victim)
    bare.step()  # despawning a dead id again through commands is not an error
    assert alive_in_later_system == [True, False]


@pytest.mark.parametrize(
    ("queue", "has_mark"),
    [
        (lambda c, e: (c.add_component([e], "Mark"), c.remove_component([e], "Mark")), False),
        (lambda c, e: (c.remove_component([e], "Mark"), c.add_component([e], "Mark")), True),
    ],
)
def test_commands_apply_in_the_order_given(bare: World, queue: Any, has_mark: bool) -> None:
    e = bare.spawn(Pos={"x": 3, "y": 4}, Mark={"v": 1})

    def system(world: World) -> None:
        queue(world.commands, e)

    bare.add_system("system", system, writes=["Mark"])
    bare.step()
    assert ("Mark" in bare.components_of(e)) is has_mark
    assert bare.get(e, "Pos") == {"x": 3, "y": 4}


def test_startup_commands_apply_before_the_first_tick(bare: World) -> None:
    counts: list[int] = []
    bare.add_system(
        "seed_world", lambda w: w.commands.spawn(["Pos"], 3, {"Pos.x": np.arange(3)}), phase="startup"
    )
    bare.add_system("count", lambda w: counts.append(w.count("Pos")), phase="pre_tick")
    bare.step()
    assert counts == [3]


def test_world_set_and_get_inside_a_system_respect_declared_access(bare: World) -> None:
    e = bare.spawn(Pos={"x": 1, "y": 1}, Vel={"x": 2, "y": 2})
    seen: list[dict[str, int]] = []
    bare.add_system("reader", lambda w: seen.append(w.get(e, "Pos")), reads=["Pos"])
    bare.step()
    assert seen == [{"x": 1, "y": 1}]

    writer = World(11)
    for comp in bare.components.values():
        writer.register_component(comp)
    f = writer.spawn(Pos={"x": 1, "y": 1}, Vel={"x": 2, "y": 2})
    writer.add_system("sneaky", lambda w: w.set(f, "Pos", x=99), reads=["Pos"])
    with pytest.raises(AccessError):
        writer.step()
    assert writer.get(f, "Pos")["x"] == 1

    peeker = writer.fork()
    peeker.schedule.replace_impl("sneaky", lambda w: w.get(f, "Vel"))
    with pytest.raises(AccessError):
        peeker.step()


def test_an_input_handler_may_spawn_immediately(bare: World) -> None:
    seen: list[int] = []
    bare.register_input("drop", lambda w, p: w.spawn(Pos={"x": p, "y": 0}))
    bare.add_system("look", lambda w: seen.append(w.count("Pos")), reads=["Pos"])
    bare.submit("drop", 5)
    bare.step()
    assert seen == [1]


def test_a_queued_add_component_skips_an_entity_that_died_first(bare: World) -> None:
    a = bare.spawn(Pos={"x": 1, "y": 1})
    b = bare.spawn(Pos={"x": 2, "y": 2})
    bare.add_system("reaper", lambda w: w.commands.despawn([a]), writes=["Pos"])
    bare.add_system(
        "giver",
        lambda w: w.commands.add_component([a, b], "Vel", {"Vel.x": np.array([10, 20])}),
        writes=["Vel"],
    )
    bare.step()
    assert bare.tick == 1
    assert not bare.is_alive(a)
    assert bare.get(b, "Vel") == {"x": 20, "y": 0}
