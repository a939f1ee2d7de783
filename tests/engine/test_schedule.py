"""Systems run in named phases, in an order that meets before=/after= and otherwise follows
registration, never dict or set order."""

from __future__ import annotations

import pytest

from ouroboros.engine import PHASES, World
from ouroboros.engine.errors import ComponentError, ScheduleError


def recorder(world: World, name: str, **kwargs: object) -> None:
    """Register a system ``name`` that appends its name to ``resources["log"]`` when it runs."""

    def system(w: World) -> None:
        w.resources.setdefault("log", []).append(name)

    world.add_system(name, system, **kwargs)  # type: ignore[arg-type]


def one_tick_order(world: World) -> list[str]:
    world.step()
    return list(world.resources["log"])


def test_registration_order_decides_when_no_constraint_speaks() -> None:
    world = World(1)
    for name in ("zeta", "alpha", "mid"):
        recorder(world, name)
    assert one_tick_order(world) == ["zeta", "alpha", "mid"]


def test_before_moves_a_system_ahead_and_ties_keep_registration_order() -> None:
    world = World(1)
    recorder(world, "a")
    recorder(world, "b")
    recorder(world, "c", before=["a"])
    # b and c are both free to run first; b was registered earlier
    assert one_tick_order(world) == ["b", "c", "a"]


def test_after_may_name_a_system_registered_later() -> None:
    world = World(1)
    recorder(world, "a", after=["b"])
    recorder(world, "b")
    recorder(world, "c")
    assert one_tick_order(world) == ["b", "a", "c"]


def test_a_chain_of_constraints_is_respected() -> None:
    world = World(1)
    recorder(world, "d", after=["c"])
    recorder(world, "c", after=["b"])
    recorder(world, "a", before=["b"])
    recorder(world, "b")
    assert one_tick_order(world) == ["a", "b", "c", "d"]


def test_a_cycle_is_refused() -> None:
    world = World(1)
    recorder(world, "a", before=["b"])
    recorder(world, "b", before=["c"])
    recorder(world, "c", before=["a"])
    recorder(world, "free")
    with pytest.raises(ScheduleError, match="cycle"):
        world.step()
    assert "log" not in world.resources


def test_a_system_ordered_against_itself_is_a_cycle() -> None:
    world = World(1)
    recorder(world, "a", after=["a"])
    with pytest.raises(ScheduleError):
        world.step()


@pytest.mark.parametrize("constraint", ["before", "after"])
def test_an_unknown_name_in_a_constraint_is_refused(constraint: str) -> None:
    world = World(1)
    recorder(world, "a", **{constraint: ["ghost"]})
    with pytest.raises(ScheduleError, match="ghost"):
        world.step()


def test_a_constraint_across_phases_is_refused() -> None:
    world = World(1)
    recorder(world, "early", phase="pre_tick")
    recorder(world, "late", after=["early"])
    with pytest.raises(ScheduleError):
        world.step()


def test_bad_registrations_are_refused_at_once() -> None:
    world = World(1)
    recorder(world, "a")
    with pytest.raises(ScheduleError):
        recorder(world, "a")
    with pytest.raises(ScheduleError):
        recorder(world, "b", phase="during_tick")
    with pytest.raises(ComponentError):
        world.add_system("c", lambda w: None, reads=["NoSuchComponent"])


def test_phases_run_pre_tick_then_tick_then_post_tick_and_startup_once() -> None:
    assert PHASES == ("startup", "pre_tick", "tick", "post_tick")
    world = World(1)
    recorder(world, "post", phase="post_tick")
    recorder(world, "tick", phase="tick")
    recorder(world, "pre", phase="pre_tick")
    recorder(world, "boot", phase="startup")
    world.start()
    world.start()
    world.run(3)
    assert world.resources["log"] == ["boot"] + ["pre", "tick", "post"] * 3
    assert world.tick == 3


def test_replacing_an_implementation_keeps_the_place_in_the_order() -> None:
    world = World(1)
    recorder(world, "a")
    recorder(world, "b")
    recorder(world, "c")
    world.step()
    world.schedule.replace_impl("a", lambda w: w.resources["log"].append("a2"))
    world.step()
    assert world.resources["log"] == ["a", "b", "c", "a2", "b", "c"]
