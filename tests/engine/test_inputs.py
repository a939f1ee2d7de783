"""Inputs: validated when submitted, applied at the start of the next tick in submission order."""

from __future__ import annotations

from typing import Any

import pytest

from ouroboros.engine import Input, World
from ouroboros.engine.errors import EngineError, InputError


@pytest.mark.parametrize(
    "payload",
    [None, {"dx": 1}, {"dx": 1, "dy": 99}, {"dx": True, "dy": 0}, {"dx": 1, "dy": 0, "extra": 1}],
)
def test_a_bad_payload_is_refused_when_submitted(toy: World, payload: Any) -> None:
    with pytest.raises(InputError):
        toy.submit("push", payload)
    assert toy.step().inputs == ()


def test_an_unknown_input_kind_is_refused(toy: World) -> None:
    with pytest.raises(InputError) as info:
        toy.submit("teleport", {})
    assert info.value.path == "teleport"


def test_a_payload_that_is_not_plain_data_is_refused(bare: World) -> None:
    bare.register_input("note", lambda w, p: None)
    with pytest.raises(InputError):
        bare.submit("note", {"speed": 0.5})
    with pytest.raises(InputError):
        bare.submit("note", object())


def test_inputs_apply_before_the_systems_of_the_next_tick_in_order(bare: World) -> None:
    bare.register_input("say", lambda w, p: w.resources.setdefault("log", []).append(p))
    bare.add_system("listen", lambda w: w.resources.setdefault("log", []).append("system"), phase="pre_tick")
    bare.submit("say", "first")
    bare.submit("say", "second")
    assert "log" not in bare.resources  # nothing happens before the tick
    report = bare.step()
    assert bare.resources["log"] == ["first", "second", "system"]
    assert report.inputs == (Input("say", "first"), Input("say", "second"))
    assert bare.step().inputs == ()


def test_the_validator_may_normalise_the_payload(bare: World) -> None:
    bare.register_input("n", lambda w, p: w.resources.update(n=p), validate=lambda p: int(p))
    bare.submit("n", "42")
    report = bare.step()
    assert bare.resources["n"] == 42
    assert report.inputs == (Input("n", 42),)


def test_an_input_kind_cannot_be_registered_twice(toy: World) -> None:
    with pytest.raises(EngineError):
        toy.register_input("push", lambda w, p: None)
    assert toy.input_kinds == ["push"]


def test_a_push_changes_the_run_only_from_its_tick(toy: World) -> None:
    other = toy.fork()
    toy.run(3)
    other.run(3)
    assert toy.digest() == other.digest()
    other.submit("push", {"dx": 2, "dy": 0})
    assert other.step().digest != toy.step().digest
