"""fork(): an independent copy for shadow runs. Two worlds in one process share nothing mutable."""

from __future__ import annotations

import pytest

from ouroboros.engine import World
from ouroboros.engine.errors import EngineError

from .toy import build_world, columns, run_with_pushes, same_columns


def test_running_the_fork_leaves_the_parent_untouched(toy: World) -> None:
    run_with_pushes(toy, 5)
    digest, cols, resources = toy.digest(), columns(toy), dict(toy.resources)
    shadow = toy.fork()
    run_with_pushes(shadow, 7, {7: (4, 4)})
    shadow.set(int(shadow.query("Pos")[0].ids[0]), "Pos", x=10**9)
    shadow.resources["births"] = -1
    assert toy.digest() == digest
    assert same_columns(columns(toy), cols)
    assert toy.resources == resources
    assert toy.tick == 5


def test_running_the_parent_leaves_the_fork_untouched(toy: World) -> None:
    run_with_pushes(toy, 5)
    shadow = toy.fork()
    digest, cols = shadow.digest(), columns(shadow)
    run_with_pushes(toy, 7, {8: (-4, 4)})
    toy.set(int(toy.query("Pos")[0].ids[0]), "Pos", x=10**9)
    assert shadow.digest() == digest
    assert same_columns(columns(shadow), cols)


def test_a_fork_runs_on_exactly_like_its_parent(toy: World) -> None:
    run_with_pushes(toy, 4)
    shadow = toy.fork()
    assert shadow.digest() == toy.digest()
    pushes = {6: (1, 2), 9: (0, -3)}
    assert run_with_pushes(shadow, 10, pushes) == run_with_pushes(toy, 10, pushes)


def test_a_fork_keeps_pending_inputs_but_does_not_share_them(toy: World) -> None:
    toy.submit("push", {"dx": 5, "dy": 5})
    shadow = toy.fork()
    assert shadow.step().inputs == toy.step().inputs
    assert shadow.digest() == toy.digest()
    toy.submit("push", {"dx": 1, "dy": 0})
    assert shadow.step().inputs == ()


def test_nested_resources_are_not_shared(bare: World) -> None:
    bare.resources["queue"] = [{"who": 1}]
    shadow = bare.fork()
    shadow.resources["queue"][0]["who"] = 2
    shadow.resources["queue"].append({"who": 3})
    assert bare.resources["queue"] == [{"who": 1}]


def test_a_system_added_to_the_fork_is_not_added_to_the_parent(toy: World) -> None:
    shadow = toy.fork()
    shadow.add_system("extra", lambda w: w.resources.update(extra=1))
    toy.step()
    shadow.step()
    assert "extra" not in toy.resources
    assert "extra" not in toy.schedule.names()
    assert shadow.resources["extra"] == 1


def test_fork_inside_a_tick_is_refused() -> None:
    world = build_world()
    world.add_system("forker", lambda w: w.fork())
    with pytest.raises(EngineError):
        world.step()
