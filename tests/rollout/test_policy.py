"""The staging policy: a world expansion is always staged, a typo fix goes global."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ouroboros.rollout.policy import StagingPolicy, rewords_only

NPC = {
    "id": "npc.vex",
    "version": "1.0.0",
    "name": "Vex",
    "description": "A fixer.",
    "level": 3,
    "lines": [{"text": "Hey chum.", "next": []}],
}
EXISTING = {"npcs": {"npc.vex": NPC}}


def npc(**changes: Any) -> dict[str, Any]:
    return {**NPC, "version": "1.0.1", **changes}


def test_a_world_expansion_is_always_staged() -> None:
    plan = StagingPolicy().plan_for("WORLD_EXPANSION", {"rooms": [{"id": "room.new", "name": "Dock"}]}, {})
    assert plan is not None and plan.stages_bp == (100, 1000, 5000, 10_000)


def test_a_typo_fix_goes_global() -> None:
    fix = {"npcs": [npc(description="A fixer from the docks.", lines=[{"text": "Hey, chum.", "next": []}])]}
    assert rewords_only(fix, EXISTING)
    assert StagingPolicy().plan_for("NPC", fix, EXISTING) is None


def test_a_changed_number_a_new_field_or_a_new_object_is_staged() -> None:
    policy = StagingPolicy()
    for content in (
        {"npcs": [npc(level=4)]},
        {"npcs": [npc(lines=[{"text": "Hey chum.", "next": ["x"]}])]},
        {"npcs": [{**npc(), "faction": "docks"}]},
        {"npcs": [{**npc(), "id": "npc.new"}]},
    ):
        assert not rewords_only(content, EXISTING)
        plan = policy.plan_for("NPC", content, EXISTING, window_ticks=300)
        assert plan is not None and plan.window_ticks == 300


def test_an_unlisted_type_goes_global() -> None:
    assert StagingPolicy(staged={}).plan_for("WORLD_EXPANSION", {"npcs": [npc(level=9)]}, EXISTING) is None


@given(st.integers(0, 1000), st.text(max_size=20))
def test_any_change_to_a_number_is_staged_whatever_the_text(level: int, description: str) -> None:
    content = {"npcs": [npc(level=level, description=description)]}
    assert rewords_only(content, EXISTING) == (level == NPC["level"])
