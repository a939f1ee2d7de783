"""The in-memory governor serves ``ouroboros evolve``, the experiments and tests with the real
governor's interface: bundles in, verdicts out, the pointer followed at a tick boundary by one
follower — the only way a change reaches the world."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ouroboros.errors import PatchError
from ouroboros.patches.bundle import bundle_on_active
from ouroboros.patches.governor import Governor, Verdict
from ouroboros.patches.memory import MemoryGovernor
from ouroboros.patches.states import State
from ouroboros.worlds import build_world
from tests.patches.conftest import params_content

AUTHOR = {"type": "operator", "model": None, "run_id": None}


def _dish() -> Any:
    world = build_world("petri", 7, {"entities": 40})
    world.run(2)
    return world


def _submit(gov: MemoryGovernor, content: dict[str, Any], **options: Any) -> Verdict:
    doc = bundle_on_active(gov, content, gov.local_key("op"), author=AUTHOR, now=gov.clock(), **options)
    verdict: Verdict = gov.submit(doc, actor="op")
    return verdict


@pytest.fixture
def gov() -> MemoryGovernor:
    g = MemoryGovernor.for_world(_dish())
    g.new_key("op", ["*"])
    return g


def test_it_has_the_real_governors_interface_where_they_share_a_name() -> None:
    used = ["submit", "active", "active_content", "content_of", "local_key", "new_key", "rollback", "close"]
    for name in used:
        real = inspect.signature(getattr(Governor, name)).parameters
        ours = inspect.signature(getattr(MemoryGovernor, name)).parameters
        assert list(ours) == list(real), name
    assert {"engaged", "set", "state"} <= set(dir(MemoryGovernor("petri").killswitch))


def test_an_accepted_bundle_is_active_and_reaches_the_world_only_through_the_follower(
    gov: MemoryGovernor,
) -> None:
    world = gov.live_world
    verdict = _submit(gov, params_content(31))
    assert verdict.ok and verdict.state == State.ACTIVE and gov.active() == verdict.patch_id
    world.step()
    assert world.resources["params"]["temperature"] != 31  # the governor wrote nothing
    follower = gov.follower()
    assert follower.sync(world) == verdict.patch_id
    assert world.resources["params"]["temperature"] != 31  # queued: at the next tick boundary
    world.step()
    assert world.resources["params"]["temperature"] == 31
    assert world.resources["gameplay_version"] == verdict.patch_id
    assert follower.sync(world) is False


def test_refusals_are_data_and_change_nothing(gov: MemoryGovernor) -> None:
    first = _submit(gov, params_content(31))
    doc = bundle_on_active(
        gov, params_content(32, "1.1.0"), gov.local_key("op"), author=AUTHOR, now=gov.clock()
    )
    tampered = {**doc, "content": params_content(99, "1.1.0")}
    assert [r.code for r in gov.submit(tampered).reasons] == ["hash_mismatch"]
    assert [r.code for r in gov.submit({**doc, "signatures": []}).reasons] == ["unsigned"]
    stranger = MemoryGovernor("petri")
    stranger.new_key("op", ["*"])
    foreign = bundle_on_active(
        stranger, params_content(33), stranger.local_key("op"), author=AUTHOR, now=gov.clock()
    )
    assert "unknown_key" in {r.code for r in gov.submit(foreign).reasons}
    assert "static" in {r.stage for r in _submit(gov, params_content(10_000, "1.1.0")).reasons}
    assert gov.submit(doc).ok and not gov.submit(doc).ok  # a bundle is taken once
    assert gov.active() == doc["patch_id"] and gov.ledger.parent_of(doc["patch_id"]) == first.patch_id


def test_the_kill_switch_refuses_every_new_bundle(gov: MemoryGovernor) -> None:
    gov.killswitch.set(True, "alice", "stop")
    with pytest.raises(PatchError) as refused:
        _submit(gov, params_content(31))
    assert refused.value.code == "killswitch_engaged" and gov.active() is None


@settings(max_examples=15, deadline=None)
@given(st.lists(st.one_of(st.integers(-50, 150), st.none()), min_size=1, max_size=6))
def test_after_any_changes_and_rollbacks_one_tick_brings_the_world_to_the_active_version(
    steps: list[int | None],
) -> None:
    """None: roll back (when there is something to roll back), else a new temperature."""
    gov = MemoryGovernor.for_world(_dish())
    gov.new_key("op", ["*"])
    world, follower, made = gov.live_world, gov.follower(), 0
    expected = world.resources["params"]["temperature"]
    base = expected
    temps: dict[str | None, int] = {None: base}
    for step in steps:
        if step is None:
            if gov.active() is None:
                continue
            gov.rollback("op", "undo")
        else:
            made += 1
            verdict = _submit(gov, params_content(step, f"1.{made}.0"))
            assert verdict.ok, verdict.reasons
            temps[verdict.patch_id] = step
        follower.sync(world)
        world.step()
        assert world.resources["gameplay_version"] == gov.active()
        assert world.resources["params"]["temperature"] == temps[gov.active()]
